package tenant

import (
	"context"
	"fmt"
)

// Admin is the Service as one principal may use it: every method first
// checks that the principal may do it.
//
// What admin means:
//   - An admin-scoped key of the operator tenant (OperatorTenant) may
//     create, list, suspend, resume and delete every tenant, and manage
//     every tenant's keys.
//   - An admin-scoped key of any other tenant may manage its own tenant's
//     keys (create, list, revoke, rotate) and read its own tenant record;
//     nothing of any other tenant.
//   - A key without the admin scope may do none of this.
//
// The command line (vire-server tenants / apikeys) works on the store
// directly and needs no principal: whoever can read the server's
// configuration and storage is the operator already.
type Admin struct {
	s *Service
	p Principal
}

// As returns the Service as seen by p.
func (s *Service) As(p Principal) Admin { return Admin{s: s, p: p} }

func (a Admin) operator() error {
	if !a.p.Operator() {
		return fmt.Errorf("tenant: only an admin key of the %q tenant may manage tenants: %w", OperatorTenant, ErrForbidden)
	}
	return nil
}

func (a Admin) manages(tenant string) error {
	switch {
	case !a.p.Has(ScopeAdmin):
		return fmt.Errorf("tenant: managing keys needs the admin scope: %w", ErrForbidden)
	case a.p.Operator(), a.p.TenantID == tenant:
		return nil
	}
	return fmt.Errorf("tenant: a tenant's admin key manages only its own tenant: %w", ErrForbidden)
}

// CreateTenant: operator only.
func (a Admin) CreateTenant(ctx context.Context, id, name string) (Tenant, error) {
	if err := a.operator(); err != nil {
		return Tenant{}, err
	}
	return a.s.CreateTenant(ctx, id, name)
}

// ListTenants: operator only.
func (a Admin) ListTenants(ctx context.Context) ([]Tenant, error) {
	if err := a.operator(); err != nil {
		return nil, err
	}
	return a.s.ListTenants(ctx)
}

// GetTenant: the operator, or the tenant's own admin.
func (a Admin) GetTenant(ctx context.Context, id string) (Tenant, error) {
	if err := a.manages(id); err != nil {
		return Tenant{}, err
	}
	return a.s.GetTenant(ctx, id)
}

// SuspendTenant: operator only.
func (a Admin) SuspendTenant(ctx context.Context, id string) (Tenant, error) {
	if err := a.operator(); err != nil {
		return Tenant{}, err
	}
	return a.s.SuspendTenant(ctx, id)
}

// ResumeTenant: operator only.
func (a Admin) ResumeTenant(ctx context.Context, id string) (Tenant, error) {
	if err := a.operator(); err != nil {
		return Tenant{}, err
	}
	return a.s.ResumeTenant(ctx, id)
}

// DeleteTenant: operator only.
func (a Admin) DeleteTenant(ctx context.Context, id string) (DeleteReport, error) {
	if err := a.operator(); err != nil {
		return DeleteReport{}, err
	}
	return a.s.DeleteTenant(ctx, id)
}

// CreateKey: the operator, or the tenant's own admin.
func (a Admin) CreateKey(ctx context.Context, tenant string, spec KeySpec) (NewKey, error) {
	if err := a.manages(tenant); err != nil {
		return NewKey{}, err
	}
	return a.s.CreateKey(ctx, tenant, spec)
}

// ListKeys: the operator, or the tenant's own admin.
func (a Admin) ListKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if err := a.manages(tenant); err != nil {
		return nil, err
	}
	return a.s.ListKeys(ctx, tenant)
}

// GetKey: the operator, or the tenant's own admin.
func (a Admin) GetKey(ctx context.Context, tenant, id string) (KeyInfo, error) {
	if err := a.manages(tenant); err != nil {
		return KeyInfo{}, err
	}
	return a.s.GetKey(ctx, tenant, id)
}

// RevokeKey: the operator, or the tenant's own admin.
func (a Admin) RevokeKey(ctx context.Context, tenant, id string) (KeyInfo, error) {
	if err := a.manages(tenant); err != nil {
		return KeyInfo{}, err
	}
	return a.s.RevokeKey(ctx, tenant, id)
}

// RotateKey: the operator, or the tenant's own admin.
func (a Admin) RotateKey(ctx context.Context, tenant, id string, o RotateOptions) (NewKey, error) {
	if err := a.manages(tenant); err != nil {
		return NewKey{}, err
	}
	return a.s.RotateKey(ctx, tenant, id, o)
}
