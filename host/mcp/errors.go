package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/sdk"
)

// staleError: the caller's expected_version is not the document's version.
type staleError struct {
	kind, portfolio   string
	expected, current int
}

func (e *staleError) Error() string {
	if e.current == 0 {
		return fmt.Sprintf("the %s of portfolio %q does not exist, so it is not at version %d", e.kind, e.portfolio, e.expected)
	}
	return fmt.Sprintf("the %s of portfolio %q is at version %d, not version %d", e.kind, e.portfolio, e.current, e.expected)
}

// Unwrap makes a staleError an sdk.ErrPrecondition.
func (e *staleError) Unwrap() error { return sdk.ErrPrecondition }

// explain turns a service error into the text of a tool error: what went
// wrong and what to do about it. Errors of unknown kind are logged with
// the request id and answered without detail.
func (s *Server) explain(ctx context.Context, toolName string, err error) string {
	var ve *documents.ValidationError
	var ce *documents.ConflictError
	var rl *sdk.RateLimitError
	switch {
	case errors.As(err, &ve):
		var b strings.Builder
		fmt.Fprintf(&b, "invalid input; fix these and call %s again:", toolName)
		for _, f := range ve.Fields {
			fmt.Fprintf(&b, "\n- %s: %s", f.Field, f.Message)
		}
		return b.String()
	case errors.As(err, &ce):
		return conflictText(ce)
	case errors.As(err, &rl):
		secs := max(1, int(math.Ceil(rl.RetryAfter.Seconds())))
		return fmt.Sprintf("the market data source is rate limiting Vire; wait %d seconds and try again", secs)
	case errors.Is(err, sdk.ErrQuotaExhausted):
		return "the market data source's call allowance is used up for today; try again after it resets"
	case errors.Is(err, sdk.ErrNotFound), errors.Is(err, sdk.ErrInvalidArgument), errors.Is(err, sdk.ErrPrecondition):
		return sentence(err)
	case errors.Is(err, sdk.ErrUnauthorized):
		return "not authenticated: connect to Vire with an API key"
	case errors.Is(err, sdk.ErrUnavailable):
		s.log.Warn("tool failed: a component is unavailable", "tool", toolName, "request_id", requestIDFrom(ctx), "error", err)
		return "a component Vire needs is unavailable at the moment; try again shortly"
	}
	id := requestIDFrom(ctx)
	s.log.Error("tool failed", "tool", toolName, "request_id", id, "error", err)
	if id == "" {
		return "internal error; the server log has details"
	}
	return "internal error; the server log has details under request id " + id
}

// conflictText is a conflict's message with its details, which name what
// the conflict is with (the existing item, the allowed statuses).
func conflictText(ce *documents.ConflictError) string {
	msg := ce.Message
	if ce.Details != nil {
		if d, err := json.Marshal(ce.Details); err == nil {
			msg += " (" + string(d) + ")"
		}
	}
	return msg
}

// sentence is an error's message without the trailing sentinel text
// (": not found") that says nothing to a reader.
func sentence(err error) string {
	msg := err.Error()
	for _, k := range []error{sdk.ErrNotFound, sdk.ErrPrecondition, sdk.ErrInvalidArgument} {
		if errors.Is(err, k) {
			msg = strings.TrimSuffix(msg, ": "+k.Error())
			msg = strings.TrimPrefix(msg, k.Error()+": ")
		}
	}
	return msg
}
