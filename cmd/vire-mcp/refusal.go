package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// refusal is an HTTP answer from the server that refuses a request: no
// valid key (401), no permission (403), too many requests (429) or a
// server that cannot serve now (503).
type refusal struct {
	status int
	// code and message come from the server's error body.
	code, message string
	// retryAfter is how long the server asked us to wait.
	retryAfter time.Duration
	// scope is the scope a 403 says is missing.
	scope string
}

func (r *refusal) Error() string {
	return fmt.Sprintf("the server answered %d %s: %s", r.status, r.code, r.message)
}

// refusals turns the server's refusals into *refusal errors before the MCP
// transport sees them, so the tool error can say what the server said and
// how long to wait; the transport keeps neither the body nor the headers.
type refusals struct{ next http.RoundTripper }

func (t *refusals) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable:
	default:
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	ref := &refusal{status: resp.StatusCode}
	var eb struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error.Message != "" {
		ref.code, ref.message = eb.Error.Code, eb.Error.Message
		var d struct {
			Scope string `json:"required_scope"`
			Retry int    `json:"retry_after_seconds"`
		}
		if json.Unmarshal(eb.Error.Details, &d) == nil {
			ref.scope = d.Scope
			ref.retryAfter = time.Duration(d.Retry) * time.Second
		}
	} else {
		ref.message = strings.TrimSpace(string(body))
		if len(ref.message) > 200 {
			ref.message = ref.message[:200] + "…"
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		ref.retryAfter = time.Duration(s) * time.Second
	}
	return nil, ref
}

// explain says what went wrong talking to the server and what to do.
func (b *bridge) explain(err error) string {
	var ref *refusal
	var netErr net.Error
	switch {
	case errors.As(err, &ref):
		return b.explainRefusal(ref)
	case errors.As(err, &netErr) || strings.Contains(err.Error(), "connection refused"):
		return fmt.Sprintf("cannot reach the Vire server at %s (%v); start vire-server, or set VIRE_URL in this MCP "+
			"server's configuration to where it listens", b.shown, err)
	}
	return fmt.Sprintf("the call to the Vire server at %s failed: %v", b.shown, err)
}

func (b *bridge) explainRefusal(r *refusal) string {
	wait := max(1, int(math.Ceil(r.retryAfter.Seconds())))
	switch r.status {
	case http.StatusUnauthorized:
		if b.key == "" {
			return fmt.Sprintf("the Vire server at %s needs an API key (401 %s): set VIRE_API_KEY in this MCP server's "+
				"configuration to a key from the operator (vire-server apikeys create -tenant ID)", b.shown, r.message)
		}
		return fmt.Sprintf("the Vire server at %s refused the API key in VIRE_API_KEY (401 %s): set VIRE_API_KEY in this MCP "+
			"server's configuration to a valid key; keys that expired or were revoked or rotated stop working", b.shown, r.message)
	case http.StatusForbidden:
		if r.scope != "" {
			return fmt.Sprintf("the API key in VIRE_API_KEY lacks the %q scope this needs (403): use a key with the %q scope", r.scope, r.scope)
		}
		return fmt.Sprintf("the Vire server at %s refused the request (403 %s): %s", b.shown, r.code, r.message)
	case http.StatusTooManyRequests:
		return fmt.Sprintf("the Vire server's rate limit for this API key is used up (429): wait %d seconds, then try again", wait)
	}
	return fmt.Sprintf("the Vire server at %s cannot serve at the moment (%d %s); wait %d seconds, then try again",
		b.shown, r.status, r.message, wait)
}
