package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// System-namespace kinds.
const (
	kindTenants    = "tenants"
	kindKeys       = "apikeys"
	kindTenantKeys = "tenant-keys"
)

// DefaultLastUsedInterval is how stale a key's last-used time may get
// before a request refreshes it: at most one write a minute per key,
// instead of one per request.
const DefaultLastUsedInterval = time.Minute

// Status is a tenant's state.
type Status string

// Tenant states.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	// StatusDeleting: a deletion started and has not finished; the tenant's
	// keys no longer work and running the deletion again completes it.
	StatusDeleting Status = "deleting"
)

// Tenant is one customer of a hosted server.
type Tenant struct {
	ID      string    `json:"id"`
	Name    string    `json:"name,omitempty"`
	Created time.Time `json:"created"`
	Status  Status    `json:"status"`
	Updated time.Time `json:"updated"`
	// Incarnation tells a tenant apart from an earlier tenant of the same id
	// that was deleted: a key of the old one never opens the new one.
	Incarnation string `json:"incarnation"`
}

// KeyInfo describes an API key; it never holds the key or its hash.
type KeyInfo struct {
	ID       string    `json:"id"`
	Tenant   string    `json:"tenant"`
	Name     string    `json:"name,omitempty"`
	Scopes   []Scope   `json:"scopes"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
	// RotatedFrom and RotatedTo link the keys of a rotation.
	RotatedFrom string `json:"rotated_from,omitempty"`
	RotatedTo   string `json:"rotated_to,omitempty"`
}

// State is "active", "expired" or "revoked" at time now.
func (k KeyInfo) State(now time.Time) string {
	switch {
	case !k.Revoked.IsZero():
		return "revoked"
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return "expired"
	}
	return "active"
}

// keyRecord is the stored form of a key.
type keyRecord struct {
	KeyInfo
	Incarnation string `json:"incarnation"`
	// Hash is hashSecret(id, secret), hex.
	Hash string `json:"hash"`
}

type keyIndex struct {
	Keys []string `json:"keys"`
}

// NewKey is a freshly created key. Key is the only copy of the secret the
// server ever has: show it once and drop it.
type NewKey struct {
	Key  string  `json:"key"`
	Info KeyInfo `json:"info"`
}

// Options configure a Service.
type Options struct {
	// Store holds the records. Required. A personal store has one implicit
	// tenant and no registry: the registry operations refuse.
	Store  *store.Store
	Logger hclog.Logger
	// Now returns the current time; tests set it.
	Now func() time.Time
	// LastUsedInterval: see DefaultLastUsedInterval.
	LastUsedInterval time.Duration
}

// Service manages tenants and API keys. It is safe for concurrent use, and
// any number of Services (in several processes) may share one store.
type Service struct {
	st       *store.Store
	sys      store.System
	log      hclog.Logger
	now      func() time.Time
	lastUsed time.Duration
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("tenant: Options.Store is required")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LastUsedInterval <= 0 {
		o.LastUsedInterval = DefaultLastUsedInterval
	}
	return &Service{st: o.Store, sys: o.Store.System(), log: o.Logger.Named("tenant"), now: o.Now, lastUsed: o.LastUsedInterval}, nil
}

func (s *Service) hosted() error {
	if s.st.Layout().Personal {
		return fmt.Errorf("tenant: a personal server has one implicit tenant and no API keys; set auth { mode = \"api_key\" } to host several tenants: %w", sdk.ErrUnsupported)
	}
	return nil
}

func (s *Service) clock() time.Time { return s.now().UTC() }

// CreateTenant registers a new, active tenant.
func (s *Service) CreateTenant(ctx context.Context, id, name string) (Tenant, error) {
	if err := s.hosted(); err != nil {
		return Tenant{}, err
	}
	if err := store.ValidateTenant(id); err != nil {
		return Tenant{}, err
	}
	if len(name) > 200 {
		return Tenant{}, fmt.Errorf("tenant: the display name is %d bytes long, the limit is 200: %w", len(name), sdk.ErrInvalidArgument)
	}
	inc, err := randomBase62(16)
	if err != nil {
		return Tenant{}, err
	}
	now := s.clock()
	t := Tenant{ID: id, Name: name, Created: now, Updated: now, Status: StatusActive, Incarnation: inc}
	if _, err := s.sys.Put(ctx, kindTenants, id, t, store.PutOpts{IfNoneMatch: "*"}); err != nil {
		if errors.Is(err, sdk.ErrPrecondition) {
			return Tenant{}, fmt.Errorf("tenant %q: %w", id, ErrExists)
		}
		return Tenant{}, err
	}
	return t, nil
}

// GetTenant returns a tenant; an error wrapping sdk.ErrNotFound when there
// is none.
func (s *Service) GetTenant(ctx context.Context, id string) (Tenant, error) {
	if err := s.hosted(); err != nil {
		return Tenant{}, err
	}
	var t Tenant
	if _, err := s.sys.Get(ctx, kindTenants, id, &t); err != nil {
		if errors.Is(err, sdk.ErrNotFound) {
			return Tenant{}, fmt.Errorf("tenant: no tenant %q: %w", id, sdk.ErrNotFound)
		}
		return Tenant{}, err
	}
	return t, nil
}

// ListTenants returns every tenant, ordered by id.
func (s *Service) ListTenants(ctx context.Context) ([]Tenant, error) {
	if err := s.hosted(); err != nil {
		return nil, err
	}
	var out []Tenant
	cursor := ""
	for {
		p, err := s.sys.List(ctx, kindTenants, store.ListOpts{Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			var t Tenant
			if _, err := s.sys.Get(ctx, kindTenants, it.Name, &t); err != nil {
				if errors.Is(err, sdk.ErrNotFound) {
					continue // deleted meanwhile
				}
				return nil, err
			}
			out = append(out, t)
		}
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
}

// setStatus moves a tenant from one of the from states to the to state.
func (s *Service) setStatus(ctx context.Context, id string, to Status, from ...Status) (Tenant, error) {
	if err := s.hosted(); err != nil {
		return Tenant{}, err
	}
	if id == OperatorTenant && to != StatusActive {
		return Tenant{}, fmt.Errorf("tenant: the operator tenant cannot be suspended or deleted: %w", ErrForbidden)
	}
	var out Tenant
	_, err := store.UpdateSystem(ctx, s.sys, kindTenants, id, func(t Tenant, exists bool) (Tenant, error) {
		switch {
		case !exists:
			return t, fmt.Errorf("tenant: no tenant %q: %w", id, sdk.ErrNotFound)
		case t.Status == to:
			out = t
			return t, store.ErrNoChange
		case !slices.Contains(from, t.Status):
			return t, fmt.Errorf("tenant: tenant %q is %s and cannot become %s: %w", id, t.Status, to, sdk.ErrPrecondition)
		}
		t.Status, t.Updated = to, s.clock()
		out = t
		return t, nil
	})
	return out, err
}

// SuspendTenant stops every key of the tenant from working (403) until it
// is resumed. Its data is kept.
func (s *Service) SuspendTenant(ctx context.Context, id string) (Tenant, error) {
	return s.setStatus(ctx, id, StatusSuspended, StatusActive)
}

// ResumeTenant reactivates a suspended tenant.
func (s *Service) ResumeTenant(ctx context.Context, id string) (Tenant, error) {
	return s.setStatus(ctx, id, StatusActive, StatusSuspended)
}

// DeleteReport says what DeleteTenant removed.
type DeleteReport struct {
	Tenant string `json:"tenant"`
	Keys   int    `json:"keys"`
	Blobs  int    `json:"blobs"`
}

// DeleteTenant removes a tenant for good: its API keys, every blob under its
// prefix (documents, keyring, audit log) and its record. The tenant is first
// marked deleting, so its keys stop working at once; an interrupted deletion
// is completed by calling DeleteTenant again, which also removes whatever
// was written under the prefix after a deletion finished (an audit segment
// flushed by another instance at that moment). With nothing left to delete
// it reports sdk.ErrNotFound.
func (s *Service) DeleteTenant(ctx context.Context, id string) (DeleteReport, error) {
	rep := DeleteReport{Tenant: id}
	if err := store.ValidateTenant(id); err != nil {
		return rep, err
	}
	_, err := s.setStatus(ctx, id, StatusDeleting, StatusActive, StatusSuspended)
	gone := errors.Is(err, sdk.ErrNotFound)
	if err != nil && !gone {
		return rep, err
	}
	var idx keyIndex
	if _, err := s.sys.Get(ctx, kindTenantKeys, id, &idx); err != nil && !errors.Is(err, sdk.ErrNotFound) {
		return rep, err
	}
	for _, k := range idx.Keys {
		err := s.sys.Delete(ctx, kindKeys, k, store.DeleteOpts{})
		if err != nil && !errors.Is(err, sdk.ErrNotFound) {
			return rep, err
		}
		if err == nil {
			rep.Keys++
		}
	}
	n, err := s.st.PurgeTenant(ctx, id)
	rep.Blobs = n
	if err != nil {
		return rep, err
	}
	for _, kind := range []string{kindTenantKeys, kindTenants} {
		if err := s.sys.Delete(ctx, kind, id, store.DeleteOpts{}); err != nil && !errors.Is(err, sdk.ErrNotFound) {
			return rep, err
		}
	}
	if gone && rep.Keys == 0 && rep.Blobs == 0 {
		return rep, fmt.Errorf("tenant: no tenant %q: %w", id, sdk.ErrNotFound)
	}
	s.log.Info("tenant deleted", "tenant", id, "keys", rep.Keys, "blobs", rep.Blobs)
	return rep, nil
}

// Active reports whether a tenant exists and is not being deleted: what the
// audit log asks before it writes for a tenant.
func (s *Service) Active(ctx context.Context, id string) (bool, error) {
	t, err := s.GetTenant(ctx, id)
	if errors.Is(err, sdk.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return t.Status != StatusDeleting, nil
}
