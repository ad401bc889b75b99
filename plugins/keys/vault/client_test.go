package vault

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

// TestVaultMessage covers the error bodies different Vault versions send
// for the same refusal.
func TestVaultMessage(t *testing.T) {
	c := &client{auth: staticToken("t"), log: hclog.NewNullLogger()}
	for _, tc := range []struct {
		errs    []string
		message string
		expired bool
	}{
		{[]string{"permission denied"}, "permission denied", false},
		{[]string{"1 error occurred:\n\t* permission denied\n\n"}, "permission denied", false},
		{[]string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}, "permission denied; invalid token", true},
		{[]string{"permission denied", "invalid token"}, "permission denied; invalid token", true},
		{nil, "", false},
	} {
		if got := vaultMessage(tc.errs); got != tc.message {
			t.Errorf("vaultMessage(%q) = %q, want %q", tc.errs, got, tc.message)
		}
		err := c.denied("transit/decrypt/vire", tc.errs)
		wantKind(t, err, sdk.ErrUnauthorized, "denied", "transit/decrypt/vire", "permission denied")
		if tc.expired {
			wantKind(t, err, sdk.ErrUnauthorized, "denied", "the token is invalid")
		} else {
			wantKind(t, err, sdk.ErrUnauthorized, "denied", "or its policy does not allow this path")
		}
	}
}
