package sdk

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error kinds shared by every component. Wrap them with %w to add context; the
// gRPC layer carries the kind across the plugin boundary so errors.Is keeps
// working in the host.
var (
	// ErrNotFound: the key, ticker, portfolio or tenant does not exist.
	ErrNotFound = errors.New("not found")
	// ErrPrecondition: a conditional write or delete lost (If-Match or
	// If-None-Match did not hold).
	ErrPrecondition = errors.New("precondition failed")
	// ErrUnauthorized: credentials are missing, wrong, expired or revoked.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRateLimited: the upstream asked us to slow down; see RateLimitError.
	ErrRateLimited = errors.New("rate limited")
	// ErrQuotaExhausted: an allowance (such as a daily call budget) is used up.
	ErrQuotaExhausted = errors.New("quota exhausted")
	// ErrUnsupported: the component does not offer this operation.
	ErrUnsupported = errors.New("unsupported")
	// ErrInvalidConfig: the configuration was rejected; see ConfigErrors.
	ErrInvalidConfig = errors.New("invalid configuration")
	// ErrInvalidArgument: a call's argument is malformed (a bad key, ticker or range).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrUnavailable: the component or its upstream cannot serve now; retrying
	// later may succeed.
	ErrUnavailable = errors.New("unavailable")
	// ErrIntegrity: stored or wrapped data failed authentication (tampered,
	// truncated, or opened with the wrong key or tenant).
	ErrIntegrity = errors.New("integrity check failed")
)

// kinds lists every sentinel in a fixed order; the wire protocol refers to a
// kind by its name, never by its position.
var kinds = []error{
	ErrNotFound, ErrPrecondition, ErrUnauthorized, ErrRateLimited, ErrQuotaExhausted,
	ErrUnsupported, ErrInvalidConfig, ErrInvalidArgument, ErrUnavailable, ErrIntegrity,
}

// Kind returns the sentinel that err wraps, or nil if it wraps none.
func Kind(err error) error {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// KindByName returns the sentinel whose Error() text is name, or nil.
func KindByName(name string) error {
	for _, k := range kinds {
		if k.Error() == name {
			return k
		}
	}
	return nil
}

// RateLimitError reports that an upstream rejected a call for going too fast.
// It matches ErrRateLimited with errors.Is.
type RateLimitError struct {
	// RetryAfter is how long the caller should wait; zero when unknown.
	RetryAfter time.Duration
	// Message says which limit was hit, without credentials.
	Message string
}

func (e *RateLimitError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "rate limited"
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s)", msg, e.RetryAfter.Round(time.Millisecond))
	}
	return msg
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// ConfigError is one problem with one configuration attribute.
type ConfigError struct {
	// Attribute is the attribute's name in the plugin's schema; empty when the
	// problem concerns the block as a whole.
	Attribute string `json:"attribute,omitempty"`
	// Message says what is wrong and what to do about it. It must never quote
	// the value of a sensitive attribute.
	Message string `json:"message"`
}

// ConfigErrors is returned by Configure when the configuration is rejected.
// The host points each entry at the attribute's file:line:col.
type ConfigErrors []ConfigError

func (e ConfigErrors) Error() string {
	parts := make([]string, 0, len(e))
	for _, c := range e {
		if c.Attribute != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", c.Attribute, c.Message))
		} else {
			parts = append(parts, c.Message)
		}
	}
	return "invalid configuration: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e ConfigErrors) Is(target error) bool { return target == ErrInvalidConfig }

// AttrError is shorthand for a one-entry ConfigErrors.
func AttrError(attribute, format string, args ...any) error {
	return ConfigErrors{{Attribute: attribute, Message: fmt.Sprintf(format, args...)}}
}
