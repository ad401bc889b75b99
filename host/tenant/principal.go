package tenant

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vire-dev/vire/sdk"
)

// Scope is a permission an API key carries. Scopes are independent: a key
// may do exactly what its scopes name.
type Scope string

// The scopes.
const (
	// ScopeRead: read the tenant's data (GET and HEAD requests).
	ScopeRead Scope = "read"
	// ScopeWrite: change the tenant's data (every other method).
	ScopeWrite Scope = "write"
	// ScopeAdmin: manage API keys (the tenant's own; with the operator
	// tenant, every tenant and every key).
	ScopeAdmin Scope = "admin"
)

// AllScopes lists every scope, in canonical order.
var AllScopes = []Scope{ScopeRead, ScopeWrite, ScopeAdmin}

// DefaultScopes are given to a key created without a scope list.
var DefaultScopes = []Scope{ScopeRead, ScopeWrite}

// OperatorTenant is the reserved tenant whose admin keys administer every
// tenant. It cannot be suspended or deleted, so the operator cannot lock
// itself out.
const OperatorTenant = "operator"

// ParseScopes reads a comma-separated scope list ("read,write"), returning
// the scopes sorted and without duplicates.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		out = append(out, Scope(part))
	}
	return normScopes(out)
}

func normScopes(in []Scope) ([]Scope, error) {
	var out []Scope
	for _, sc := range AllScopes {
		if slices.Contains(in, sc) {
			out = append(out, sc)
		}
	}
	for _, sc := range in {
		if !slices.Contains(AllScopes, sc) {
			return nil, fmt.Errorf("tenant: unknown scope %q (the scopes are read, write and admin): %w", sc, sdk.ErrInvalidArgument)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("tenant: a key needs at least one scope (read, write or admin): %w", sdk.ErrInvalidArgument)
	}
	return out, nil
}

// Principal is who a request acts for: the tenant, the key that
// authenticated it and that key's scopes. The REST and MCP layers learn a
// request's tenant from its principal only.
type Principal struct {
	TenantID string  `json:"tenant"`
	KeyID    string  `json:"key_id,omitempty"`
	Scopes   []Scope `json:"scopes"`
}

// Has reports whether the principal carries the scope.
func (p Principal) Has(s Scope) bool { return slices.Contains(p.Scopes, s) }

// Operator reports whether the principal administers every tenant.
func (p Principal) Operator() bool { return p.TenantID == OperatorTenant && p.Has(ScopeAdmin) }

// Why authentication failed.
const (
	ReasonMissing   = "missing"
	ReasonMalformed = "malformed"
	ReasonUnknown   = "unknown"
	ReasonExpired   = "expired"
	ReasonRevoked   = "revoked"
)

// AuthError says why a bearer token was refused. It matches
// sdk.ErrUnauthorized. Its message never quotes the token.
type AuthError struct {
	Reason  string
	Message string
}

func (e *AuthError) Error() string { return "tenant: " + e.Message }

// Is makes errors.Is(err, sdk.ErrUnauthorized) true.
func (e *AuthError) Is(target error) bool { return target == sdk.ErrUnauthorized }

func authError(reason, format string, args ...any) error {
	return &AuthError{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

var (
	// ErrSuspended: the key is valid but its tenant is suspended.
	ErrSuspended = errors.New("tenant: the tenant is suspended")
	// ErrForbidden: the principal may not do this.
	ErrForbidden = errors.New("tenant: forbidden")
	// ErrExists: a tenant with this id already exists.
	ErrExists = errors.New("tenant: already exists")
)
