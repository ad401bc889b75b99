// Package tenanttest issues real API keys through a tenant.Service for
// tests of the packages that authenticate with them. It lives apart from
// servertest because host/tenant's own tests use servertest, and this
// package imports host/tenant.
package tenanttest

import (
	"context"
	"testing"

	"github.com/vire-dev/vire/host/tenant"
)

// Principal is a test caller: a tenant and the scopes of its key.
type Principal struct {
	Tenant string
	Scopes []tenant.Scope
}

// Keys creates each principal's tenant (named after its id) where it does
// not exist yet, and a key named after the principal; it returns the new
// keys by principal name.
func Keys(t testing.TB, svc *tenant.Service, principals map[string]Principal) map[string]tenant.NewKey {
	t.Helper()
	ctx := context.Background()
	out := make(map[string]tenant.NewKey, len(principals))
	for name, p := range principals {
		if _, err := svc.GetTenant(ctx, p.Tenant); err != nil {
			if _, err := svc.CreateTenant(ctx, p.Tenant, p.Tenant); err != nil {
				t.Fatal(err)
			}
		}
		k, err := svc.CreateKey(ctx, p.Tenant, tenant.KeySpec{Name: name, Scopes: p.Scopes})
		if err != nil {
			t.Fatal(err)
		}
		out[name] = k
	}
	return out
}
