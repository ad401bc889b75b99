package store

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vire-dev/vire/sdk"
)

// Limits on the parts of a document key.
const (
	MaxTenantLength = 64
	MaxKindLength   = 64
	MaxNameLength   = 200
)

// DefaultPersonalTenant is the implicit tenant of a personal-mode store.
const DefaultPersonalTenant = "personal"

// Reserved top-level names. In the hosted layout every tenant lives under
// usersPrefix and shared data under marketPrefix; a personal store puts
// documents at the top level, so kinds may not take these names in any mode
// (a store can then switch layouts without collisions). keyringName is a
// tenant's keyring; kinds cannot start with '_', so it never collides.
const (
	usersPrefix  = "users/"
	marketPrefix = "market/"
	keyringName  = "_keyring"
)

var reservedKinds = map[string]bool{"users": true, "market": true}

func invalid(what, value, format string, args ...any) error {
	return fmt.Errorf("store: invalid %s %s: %s: %w", what, quote(value), fmt.Sprintf(format, args...), sdk.ErrInvalidArgument)
}

// quote shows a value in an error without flooding it.
func quote(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q… (%d bytes)", s[:64], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// ValidateTenant checks a tenant id: 1 to 64 bytes of lowercase letters,
// digits, '-' and '_', starting with a letter or digit.
func ValidateTenant(id string) error {
	return checkIdent("tenant id", id, MaxTenantLength)
}

// ValidateKind checks a document kind ("portfolio", "strategy", ...): 1 to
// 64 bytes of lowercase letters, digits, '-' and '_', starting with a letter
// or digit, and not one of the reserved names "users" and "market".
func ValidateKind(kind string) error {
	if err := checkIdent("document kind", kind, MaxKindLength); err != nil {
		return err
	}
	if reservedKinds[kind] {
		return invalid("document kind", kind, "the name is reserved for the store's own layout; choose another kind")
	}
	return nil
}

func checkIdent(what, s string, max int) error {
	switch {
	case s == "":
		return invalid(what, s, "it is empty")
	case len(s) > max:
		return invalid(what, s, "it is %d bytes long, the limit is %d", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		case c >= 'A' && c <= 'Z':
			return invalid(what, s, "use lowercase letters only")
		default:
			return invalid(what, s, "byte %d is %q; use lowercase letters, digits, '-' and '_', starting with a letter or digit", i, c)
		}
	}
	return nil
}

// ValidateName checks a document name: 1 to 200 bytes of valid UTF-8 without
// '/', '\\' or control characters, and neither "." nor "..".
func ValidateName(name string) error {
	const what = "document name"
	switch {
	case name == "":
		return invalid(what, name, "it is empty")
	case len(name) > MaxNameLength:
		return invalid(what, name, "it is %d bytes long, the limit is %d", len(name), MaxNameLength)
	case name == "." || name == "..":
		return invalid(what, name, "'.' and '..' are not names")
	case !utf8.ValidString(name):
		return invalid(what, name, "it is not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\':
			return invalid(what, name, "it contains %q; use another separator such as '-'", r)
		case unicode.IsControl(r):
			return invalid(what, name, "it contains the control character %U", r)
		}
	}
	return nil
}

// Layout maps tenants' documents to blob keys.
type Layout struct {
	// Personal selects the single-tenant layout <kind>/<name> with no tenant
	// prefix, for one implicit tenant. The hosted layout is
	// users/<tenant>/<kind>/<name>.
	Personal bool
	// PersonalTenant is the implicit tenant's id in personal mode
	// (DefaultPersonalTenant when empty). Any other tenant id is refused.
	PersonalTenant string
}

func (l Layout) personalTenant() string {
	if l.PersonalTenant == "" {
		return DefaultPersonalTenant
	}
	return l.PersonalTenant
}

// tenantPrefix returns the key prefix of all of a tenant's blobs.
func (l Layout) tenantPrefix(tenant string) (string, error) {
	if err := ValidateTenant(tenant); err != nil {
		return "", err
	}
	if l.Personal {
		if tenant != l.personalTenant() {
			return "", fmt.Errorf("store: tenant %q does not exist in a personal store (its only tenant is %q): %w",
				tenant, l.personalTenant(), sdk.ErrInvalidArgument)
		}
		return "", nil
	}
	return usersPrefix + tenant + "/", nil
}

// DocKey returns the blob key of a tenant document.
func (l Layout) DocKey(tenant, kind, name string) (string, error) {
	p, err := l.tenantPrefix(tenant)
	if err != nil {
		return "", err
	}
	if err := ValidateKind(kind); err != nil {
		return "", err
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return p + kind + "/" + name, nil
}

// KeyringKey returns the blob key of a tenant's keyring.
func (l Layout) KeyringKey(tenant string) (string, error) {
	p, err := l.tenantPrefix(tenant)
	if err != nil {
		return "", err
	}
	return p + keyringName, nil
}

// kindPrefix returns the key prefix of a tenant's documents of one kind.
func (l Layout) kindPrefix(tenant, kind string) (string, error) {
	p, err := l.tenantPrefix(tenant)
	if err != nil {
		return "", err
	}
	if err := ValidateKind(kind); err != nil {
		return "", err
	}
	return p + kind + "/", nil
}

// splitDoc parses a blob key found under a tenant prefix back into kind and
// name; ok is false for keys that are not documents (the keyring, the
// market namespace in a personal store, foreign files).
func splitDoc(prefix, key string) (kind, name string, ok bool) {
	rest, found := strings.CutPrefix(key, prefix)
	if !found {
		return "", "", false
	}
	kind, name, found = strings.Cut(rest, "/")
	if !found || ValidateKind(kind) != nil || ValidateName(name) != nil {
		return "", "", false
	}
	return kind, name, true
}

// marketKey returns the blob key of a shared market document.
func marketKey(kind, name string) (string, error) {
	if err := ValidateKind(kind); err != nil {
		return "", err
	}
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return marketPrefix + kind + "/" + name, nil
}
