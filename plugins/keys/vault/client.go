package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

const (
	// maxResponse bounds a Vault answer; transit answers are a few hundred
	// bytes.
	maxResponse = 1 << 20
	// maxBackoff caps one wait between retries.
	maxBackoff = 5 * time.Second
)

// client speaks Vault's HTTP API for one configuration. It is immutable
// after construction apart from auth, which guards itself.
type client struct {
	base       *url.URL
	http       *http.Client
	namespace  string
	mount      string
	key        string
	timeout    time.Duration
	maxRetries int
	retryBase  time.Duration
	auth       authenticator
	log        hclog.Logger
}

// apiError is a 4xx answer other than 403, which callers interpret per
// operation.
type apiError struct {
	status int
	path   string
	errs   []string
}

func (e *apiError) Error() string {
	if len(e.errs) == 0 {
		return fmt.Sprintf("vault answered %s with HTTP %d", e.path, e.status)
	}
	return fmt.Sprintf("vault answered %s with HTTP %d: %s", e.path, e.status, e.message())
}

// message flattens Vault's errors, including the "N errors occurred:" lists
// that newer versions send as one string.
func (e *apiError) message() string { return vaultMessage(e.errs) }

func (e *apiError) contains(s string) bool { return strings.Contains(e.message(), s) }

func vaultMessage(errs []string) string {
	var parts []string
	for _, e := range errs {
		for line := range strings.SplitSeq(e, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasSuffix(line, "error occurred:") || strings.HasSuffix(line, "errors occurred:") {
				continue
			}
			parts = append(parts, strings.TrimPrefix(line, "* "))
		}
	}
	return strings.Join(parts, "; ")
}

// errorBody is Vault's error envelope.
type errorBody struct {
	Errors []string `json:"errors"`
}

func parseErrors(raw []byte) []string {
	var b errorBody
	if json.Unmarshal(raw, &b) != nil {
		return nil
	}
	return b.Errors
}

// transitPath returns "<mount>/<op>/<key>".
func (c *client) transitPath(op string) string { return c.mount + "/" + op + "/" + c.key }

// call sends an authenticated request and decodes a 2xx body into out (when
// out is not nil). A 403 makes an AppRole client log in again once; a
// second 403, or one for a static token, gives ErrUnauthorized. Other 4xx
// answers come back as *apiError. idempotent says whether the request may
// be repeated after an answer that leaves its effect unknown.
func (c *client) call(ctx context.Context, method, path string, body []byte, out any, idempotent bool) error {
	for relogged := false; ; relogged = true {
		tok, err := c.auth.token(ctx, c)
		if err != nil {
			return err
		}
		status, raw, err := c.roundTrip(ctx, method, path, tok, body, idempotent)
		if err != nil {
			return err
		}
		switch {
		case status >= 200 && status < 300:
			defer clear(raw)
			if out == nil || status == http.StatusNoContent || len(raw) == 0 {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%w: vault's answer to %s is not the expected JSON: %v", sdk.ErrUnavailable, path, err)
			}
			return nil
		case status == http.StatusForbidden:
			if !relogged && c.auth.refused(tok) {
				c.log.Info("vault refused the token; logging in again", "path", path)
				continue
			}
			return c.denied(path, parseErrors(raw))
		default:
			return &apiError{status: status, path: path, errs: parseErrors(raw)}
		}
	}
}

// denied describes a 403 without quoting the token.
func (c *client) denied(path string, errs []string) error {
	msg := vaultMessage(errs)
	if msg == "" {
		msg = "permission denied"
	}
	why := "the token has expired or been revoked, or its policy does not allow this path"
	if strings.Contains(msg, "invalid token") {
		why = "the token is invalid: it has expired or been revoked"
	}
	return fmt.Errorf("%w: vault refused %s (%s): %s; %s", sdk.ErrUnauthorized, path, msg, why, c.auth.remedy())
}

// roundTrip sends one request, retrying connection failures and 5xx/429
// answers up to maxRetries times with jittered exponential backoff. A
// request that is not idempotent is retried only when Vault cannot have
// acted on it: the connection was refused, or Vault answered 429 or 503
// (rate-limited, sealed or without an active node). It returns the final
// status and body, or an error wrapping sdk.ErrUnavailable (or a
// *sdk.RateLimitError) once the retries are spent.
func (c *client) roundTrip(ctx context.Context, method, path, tok string, body []byte, idempotent bool) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		start := time.Now()
		status, hdr, raw, err := c.send(ctx, method, path, tok, body)
		if ctx.Err() != nil {
			return 0, nil, fmt.Errorf("vault %s %s: %w", method, path, ctx.Err())
		}
		var retryAfter time.Duration
		switch {
		case err != nil:
			c.log.Debug("vault request failed", "method", method, "path", path, "attempt", attempt+1, "error", err)
			if attempt < c.maxRetries && (idempotent || neverSent(err)) {
				break
			}
			return 0, nil, fmt.Errorf("%w: vault at %s did not answer %s %s (%d attempts): %v",
				sdk.ErrUnavailable, c.base.Host, method, path, attempt+1, err)
		case status == http.StatusTooManyRequests || status >= 500:
			retryAfter = parseRetryAfter(hdr.Get("Retry-After"))
			c.log.Debug("vault request failed", "method", method, "path", path, "attempt", attempt+1, "status", status)
			if attempt < c.maxRetries && (idempotent || status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
				break
			}
			msg := vaultMessage(parseErrors(raw))
			if status == http.StatusTooManyRequests {
				return 0, nil, fmt.Errorf("vault %s %s: %w", method, path,
					&sdk.RateLimitError{RetryAfter: retryAfter, Message: "vault's rate limit quota refused the request: " + msg})
			}
			return 0, nil, fmt.Errorf("%w: vault answered %s %s with HTTP %d after %d attempts: %s",
				sdk.ErrUnavailable, method, path, status, attempt+1, msg)
		default:
			c.log.Trace("vault request", "method", method, "path", path, "status", status, "elapsed", time.Since(start).String())
			return status, raw, nil
		}
		wait := c.backoff(attempt, retryAfter)
		c.log.Warn("vault request failed; retrying", "method", method, "path", path, "attempt", attempt+1, "wait", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, fmt.Errorf("vault %s %s: %w", method, path, ctx.Err())
		case <-t.C:
		}
	}
}

// backoff returns the wait before retry attempt+1: retryBase doubled per
// attempt with jitter in [d/2, d), or Retry-After when Vault asked for
// longer, capped at maxBackoff.
func (c *client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := c.retryBase << min(attempt, 16)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	return min(max(d, retryAfter), maxBackoff)
}

func parseRetryAfter(v string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// neverSent reports whether err means the request never reached Vault.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// send makes one attempt within the configured per-request timeout.
func (c *client) send(ctx context.Context, method, path, tok string, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	path, u.RawQuery, _ = strings.Cut(path, "?")
	u.Path = c.base.Path + "/v1/" + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("X-Vault-Request", "true")
	if tok != "" {
		req.Header.Set("X-Vault-Token", tok)
	}
	if c.namespace != "" && !strings.HasPrefix(path, "sys/health") {
		req.Header.Set("X-Vault-Namespace", c.namespace)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, cleanURLError(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if len(raw) > maxResponse {
		return 0, nil, nil, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// cleanURLError drops the *url.Error wrapper, whose text repeats the method
// and URL that the caller's message already names.
func cleanURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
