package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestValidators(t *testing.T) {
	tests := []struct {
		what  string
		check func(string) error
		value string
		fix   string // part of the message when invalid; "" = valid
	}{
		{"tenant", ValidateTenant, "alice", ""},
		{"tenant", ValidateTenant, "t_01hzx3-b", ""},
		{"tenant", ValidateTenant, strings.Repeat("a", 64), ""},
		{"tenant", ValidateTenant, "", "empty"},
		{"tenant", ValidateTenant, strings.Repeat("a", 65), "limit is 64"},
		{"tenant", ValidateTenant, "Alice", "lowercase"},
		{"tenant", ValidateTenant, "a/b", "use lowercase letters, digits"},
		{"tenant", ValidateTenant, "..", "use lowercase letters, digits"},
		{"tenant", ValidateTenant, ".", "use lowercase letters, digits"},
		{"tenant", ValidateTenant, `a\b`, "use lowercase letters, digits"},
		{"tenant", ValidateTenant, "-a", "starting with a letter or digit"},
		{"tenant", ValidateTenant, "_keyring", "starting with a letter or digit"},
		{"tenant", ValidateTenant, "a\x00", "use lowercase"},
		{"tenant", ValidateTenant, "\u00e9t\u00e9", "use lowercase"},
		{"kind", ValidateKind, "portfolio", ""},
		{"kind", ValidateKind, "watch_list-2", ""},
		{"kind", ValidateKind, "market", "reserved"},
		{"kind", ValidateKind, "users", "reserved"},
		{"kind", ValidateKind, "_keyring", "starting with a letter or digit"},
		{"kind", ValidateKind, strings.Repeat("k", 65), "limit is 64"},
		{"kind", ValidateKind, "a b", "use lowercase"},
		{"name", ValidateName, "SMSF Main (2026)", ""},
		{"name", ValidateName, "BHP.AU", ""},
		{"name", ValidateName, "日本語", ""},
		{"name", ValidateName, ".hidden", ""},
		{"name", ValidateName, "...", ""},
		{"name", ValidateName, strings.Repeat("n", 200), ""},
		{"name", ValidateName, "", "empty"},
		{"name", ValidateName, ".", "are not names"},
		{"name", ValidateName, "..", "are not names"},
		{"name", ValidateName, "a/b", "use another separator"},
		{"name", ValidateName, `..\x`, "use another separator"},
		{"name", ValidateName, "a\x00b", "control character"},
		{"name", ValidateName, "a\nb", "control character"},
		{"name", ValidateName, "a\u0085b", "control character"},
		{"name", ValidateName, "\x7f", "control character"},
		{"name", ValidateName, "\xff", "UTF-8"},
		{"name", ValidateName, "a\xc3\x28", "UTF-8"},
		{"name", ValidateName, strings.Repeat("n", 201), "limit is 200"},
	}
	for _, tc := range tests {
		err := tc.check(tc.value)
		if tc.fix == "" {
			if err != nil {
				t.Errorf("%s %q rejected: %v", tc.what, tc.value, err)
			}
			continue
		}
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%s %q: err = %v, want one wrapping sdk.ErrInvalidArgument", tc.what, tc.value, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.fix) {
			t.Errorf("%s %q: message %q does not say %q", tc.what, tc.value, err, tc.fix)
		}
	}
}

func TestLayoutKeys(t *testing.T) {
	hosted := Layout{}
	personal := Layout{Personal: true}
	tests := []struct {
		l                  Layout
		tenant, kind, name string
		want, keyring      string
	}{
		{hosted, "alice", "portfolio", "main", "users/alice/portfolio/main", "users/alice/_keyring"},
		{hosted, "bob", "strategy", "Growth 2026", "users/bob/strategy/Growth 2026", "users/bob/_keyring"},
		{personal, DefaultPersonalTenant, "portfolio", "main", "portfolio/main", "_keyring"},
		{Layout{Personal: true, PersonalTenant: "me"}, "me", "plan", "p", "plan/p", "_keyring"},
	}
	for _, tc := range tests {
		got, err := tc.l.DocKey(tc.tenant, tc.kind, tc.name)
		if err != nil || got != tc.want {
			t.Errorf("DocKey(%q, %q, %q) = %q, %v; want %q", tc.tenant, tc.kind, tc.name, got, err, tc.want)
		}
		kr, err := tc.l.KeyringKey(tc.tenant)
		if err != nil || kr != tc.keyring {
			t.Errorf("KeyringKey(%q) = %q, %v; want %q", tc.tenant, kr, err, tc.keyring)
		}
	}
	if _, err := personal.DocKey("alice", "portfolio", "main"); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("personal store accepted another tenant: %v", err)
	}
}

func TestSplitDoc(t *testing.T) {
	tests := []struct {
		prefix, key string
		kind, name  string
		ok          bool
	}{
		{"users/alice/", "users/alice/portfolio/main", "portfolio", "main", true},
		{"users/alice/", "users/alice/_keyring", "", "", false},
		{"users/alice/", "users/alice/a/b/c", "", "", false},
		{"users/alice/", "users/alice2/portfolio/main", "", "", false},
		{"", "market/price/BHP", "", "", false},
		{"", "_keyring", "", "", false},
		{"", "plan/p1", "plan", "p1", true},
	}
	for _, tc := range tests {
		k, n, ok := splitDoc(tc.prefix, tc.key)
		if k != tc.kind || n != tc.name || ok != tc.ok {
			t.Errorf("splitDoc(%q, %q) = %q, %q, %v", tc.prefix, tc.key, k, n, ok)
		}
	}
}
