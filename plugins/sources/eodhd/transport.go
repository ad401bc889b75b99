package eodhd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/vire-dev/vire/sdk"
)

const (
	// maxBody bounds one reply; the US exchange symbol list and a large
	// company's fundamentals are tens of megabytes at most.
	maxBody = 256 << 20
	// defaultRetryAfter is what a 429 without Retry-After means: EODHD's
	// limit is per minute.
	defaultRetryAfter = 60 * time.Second
	maxBackoff        = 8 * time.Second
)

// request is one GET to EODHD.
type request struct {
	// path is the escaped path under base_url, e.g. "/eod/BHP.AU". It is
	// the only part of the URL that is ever logged.
	path  string
	query url.Values
}

// get performs r with the call's key, the rate limiter and retries, and
// returns the body of a 200 reply. Every error it returns maps to an sdk
// kind and is free of the API key.
func (s *Source) get(ctx context.Context, creds sdk.Credentials, r request) ([]byte, error) {
	st, err := s.settings()
	if err != nil {
		return nil, err
	}
	key, tenant := st.apiKey, false
	if creds.APIKey != "" {
		key, tenant = creds.APIKey, true
	}
	if key == "" {
		return nil, fmt.Errorf("%w: no EODHD API key: set api_key in the eodhd source block "+
			"(from a sensitive variable reading e.g. EODHD_API_KEY) or store the tenant's own EODHD key", sdk.ErrUnauthorized)
	}
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	q.Set("api_token", key)
	q.Set("fmt", "json")
	u := st.baseURL + r.path + "?" + q.Encode()

	var lastErr error
	for attempt := 0; attempt <= st.maxRetries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, s.retryWait(attempt)); err != nil {
				return nil, fmt.Errorf("eodhd %s: %w (after: %v)", r.path, err, lastErr)
			}
		}
		if err := st.limiter.wait(ctx); err != nil {
			return nil, fmt.Errorf("eodhd %s: waiting for the rate limiter: %w", r.path, err)
		}
		body, retry, err := s.attempt(ctx, st, u, key, tenant, r.path)
		if err == nil {
			return body, nil
		}
		if !retry {
			return nil, err
		}
		lastErr = err
		s.log.Debug("retrying", "path", r.path, "attempt", attempt+1, "error", err)
	}
	// lastErr already carries sdk.ErrUnavailable: only 5xx replies and
	// network failures are retried.
	return nil, fmt.Errorf("%w (gave up after %d attempts)", lastErr, st.maxRetries+1)
}

// attempt makes one HTTP request. retry says whether trying again may help.
func (s *Source) attempt(ctx context.Context, st *settings, u, key string, tenant bool, path string) (body []byte, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("eodhd %s: building the request: %s", path, scrub(err.Error(), key))
	}
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := st.client.Do(req)
	if err != nil {
		return nil, ctx.Err() == nil, transportError(ctx, path, key, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	s.log.Debug("request", "path", path, "status", resp.StatusCode, "bytes", len(body),
		"duration", time.Since(start).Round(time.Microsecond).String(), "ratelimit_remaining", resp.Header.Get("X-RateLimit-Remaining"))
	if err != nil {
		return nil, ctx.Err() == nil, transportError(ctx, path, key, err)
	}
	if len(body) > maxBody {
		return nil, false, fmt.Errorf("%w: eodhd %s: reply larger than %d MiB", sdk.ErrUnavailable, path, maxBody>>20)
	}
	if resp.StatusCode == http.StatusOK {
		return body, false, nil
	}
	err = statusError(resp, body, key, tenant, path)
	return nil, resp.StatusCode >= 500, err
}

// statusError maps a non-200 reply to an sdk error kind.
func statusError(resp *http.Response, body []byte, key string, tenant bool, path string) error {
	code := resp.StatusCode
	detail := snippet(body, key)
	whose := "the configured api_key"
	if tenant {
		whose = "the tenant's EODHD key"
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if strings.EqualFold(strings.TrimSpace(string(body)), "Unauthenticated") {
			return fmt.Errorf("%w: EODHD rejected %s (HTTP %d Unauthenticated)", sdk.ErrUnauthorized, whose, code)
		}
		return fmt.Errorf("%w: EODHD refused %s with %s (HTTP %d%s); the plan may not include this endpoint",
			sdk.ErrUnauthorized, path, whose, code, detail)
	case code == http.StatusPaymentRequired:
		return fmt.Errorf("%w: EODHD's daily call allowance for %s is used up (HTTP 402%s)", sdk.ErrQuotaExhausted, whose, detail)
	case code == http.StatusTooManyRequests:
		return &sdk.RateLimitError{
			RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Message:    fmt.Sprintf("EODHD rejected %s: more than its per-minute limit of calls", path),
		}
	case code == http.StatusNotFound:
		return fmt.Errorf("%w: EODHD has nothing at %s (HTTP 404%s)", sdk.ErrNotFound, path, detail)
	case code >= 500:
		return fmt.Errorf("%w: EODHD answered %s with HTTP %d%s", sdk.ErrUnavailable, path, code, detail)
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return fmt.Errorf("%w: EODHD rejected the request for %s (HTTP %d%s)", sdk.ErrInvalidArgument, path, code, detail)
	}
	return fmt.Errorf("eodhd %s: unexpected HTTP %d%s", path, code, detail)
}

// transportError rewrites a net/http error without the URL: *url.Error
// prints the full URL, query and api_token included. The original error is
// not wrapped, so nothing down the chain can print it either; only context
// errors are kept for errors.Is.
func transportError(ctx context.Context, path, key string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("eodhd %s: %w", path, cerr)
	}
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	msg := scrub(inner.Error(), key)
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return fmt.Errorf("%w: eodhd %s: timed out: %s", sdk.ErrUnavailable, path, msg)
	}
	return fmt.Errorf("%w: eodhd %s: %s", sdk.ErrUnavailable, path, msg)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// scrub removes the key, in every spelling a URL may hold it, from s.
func scrub(s, key string) string {
	if key == "" {
		return s
	}
	for _, form := range []string{key, url.QueryEscape(key), url.PathEscape(key)} {
		if form != "" {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}

// snippet quotes the start of an error body for a message, printable and
// without the key; "" when the body is empty.
func snippet(body []byte, key string) string {
	const max = 120
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	s = scrub(s, key)
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return ": " + s
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return defaultRetryAfter
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n < 0 {
			return defaultRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
		return 0
	}
	return defaultRetryAfter
}

// retryWait is the pause before retry n (1-based): exponential with full
// jitter in its upper half, so retries from many calls spread out.
func (s *Source) retryWait(n int) time.Duration {
	d := s.backoff << (n - 1)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
