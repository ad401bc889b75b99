package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// KeySpec describes a key to create.
type KeySpec struct {
	// Name is a label for people ("ci", "laptop").
	Name string `json:"name,omitempty"`
	// Scopes; DefaultScopes when empty.
	Scopes []Scope `json:"scopes,omitempty"`
	// Expires, when set, ends the key's life; it must be in the future.
	Expires time.Time `json:"expires,omitzero"`
}

// CreateKey creates an API key for an active tenant and returns it, the
// only time the key is ever shown. Creating a key for the operator tenant
// creates that tenant on first use.
func (s *Service) CreateKey(ctx context.Context, tenant string, spec KeySpec) (NewKey, error) {
	if err := s.hosted(); err != nil {
		return NewKey{}, err
	}
	t, err := s.GetTenant(ctx, tenant)
	if errors.Is(err, sdk.ErrNotFound) && tenant == OperatorTenant {
		t, err = s.CreateTenant(ctx, OperatorTenant, "Operator")
		if errors.Is(err, ErrExists) {
			t, err = s.GetTenant(ctx, tenant)
		}
	}
	if err != nil {
		return NewKey{}, err
	}
	if t.Status != StatusActive {
		return NewKey{}, fmt.Errorf("tenant: tenant %q is %s; resume it before creating keys: %w", tenant, t.Status, sdk.ErrPrecondition)
	}
	return s.createKey(ctx, t, spec, "")
}

func (s *Service) createKey(ctx context.Context, t Tenant, spec KeySpec, rotatedFrom string) (NewKey, error) {
	scopes := DefaultScopes
	if len(spec.Scopes) > 0 {
		var err error
		if scopes, err = normScopes(spec.Scopes); err != nil {
			return NewKey{}, err
		}
	}
	if len(spec.Name) > 200 {
		return NewKey{}, fmt.Errorf("tenant: the key name is %d bytes long, the limit is 200: %w", len(spec.Name), sdk.ErrInvalidArgument)
	}
	now := s.clock()
	if !spec.Expires.IsZero() && !spec.Expires.After(now) {
		return NewKey{}, fmt.Errorf("tenant: the expiry %s is not in the future: %w", spec.Expires.Format(time.RFC3339), sdk.ErrInvalidArgument)
	}
	id, err := newKeyID()
	if err != nil {
		return NewKey{}, err
	}
	key, err := newKey(id)
	if err != nil {
		return NewKey{}, err
	}
	_, secret, err := ParseKey(key)
	if err != nil {
		return NewKey{}, fmt.Errorf("tenant: a generated key does not parse: %w", err)
	}
	rec := keyRecord{
		KeyInfo: KeyInfo{
			ID: id, Tenant: t.ID, Name: spec.Name, Scopes: scopes, Created: now,
			Expires: spec.Expires.UTC(), RotatedFrom: rotatedFrom,
		},
		Incarnation: t.Incarnation,
		Hash:        hashSecret(id, secret),
	}
	// The index entry comes first: a crash between the two writes leaves an
	// index entry without a key (skipped by ListKeys), never a working key
	// that no listing shows.
	if _, err := store.UpdateSystem(ctx, s.sys, kindTenantKeys, t.ID, func(idx keyIndex, _ bool) (keyIndex, error) {
		idx.Keys = append(idx.Keys, id)
		return idx, nil
	}); err != nil {
		return NewKey{}, err
	}
	if _, err := s.sys.Put(ctx, kindKeys, id, rec, store.PutOpts{IfNoneMatch: "*"}); err != nil {
		return NewKey{}, err
	}
	s.log.Info("API key created", "tenant", t.ID, "key_id", id, "scopes", scopes)
	return NewKey{Key: key, Info: rec.KeyInfo}, nil
}

// getKey returns a tenant's key record; a key of another tenant is
// reported as missing.
func (s *Service) getKey(ctx context.Context, tenant, id string) (keyRecord, error) {
	var rec keyRecord
	if err := store.ValidateName(id); err != nil {
		return rec, err
	}
	_, err := s.sys.Get(ctx, kindKeys, id, &rec)
	if errors.Is(err, sdk.ErrNotFound) || err == nil && rec.Tenant != tenant {
		return keyRecord{}, fmt.Errorf("tenant: tenant %q has no key %q: %w", tenant, id, sdk.ErrNotFound)
	}
	return rec, err
}

// GetKey describes one of a tenant's keys.
func (s *Service) GetKey(ctx context.Context, tenant, id string) (KeyInfo, error) {
	if err := s.hosted(); err != nil {
		return KeyInfo{}, err
	}
	rec, err := s.getKey(ctx, tenant, id)
	return rec.KeyInfo, err
}

// ListKeys describes every key of a tenant, revoked and expired ones too,
// oldest first.
func (s *Service) ListKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if err := s.hosted(); err != nil {
		return nil, err
	}
	if _, err := s.GetTenant(ctx, tenant); err != nil {
		return nil, err
	}
	var idx keyIndex
	if _, err := s.sys.Get(ctx, kindTenantKeys, tenant, &idx); err != nil && !errors.Is(err, sdk.ErrNotFound) {
		return nil, err
	}
	out := []KeyInfo{}
	for _, id := range idx.Keys {
		rec, err := s.getKey(ctx, tenant, id)
		if errors.Is(err, sdk.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec.KeyInfo)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// updateKey changes one of a tenant's key records with a conditional write.
func (s *Service) updateKey(ctx context.Context, tenant, id string, fn func(*keyRecord) error) (KeyInfo, error) {
	if err := s.hosted(); err != nil {
		return KeyInfo{}, err
	}
	if err := store.ValidateName(id); err != nil {
		return KeyInfo{}, err
	}
	var out KeyInfo
	_, err := store.UpdateSystem(ctx, s.sys, kindKeys, id, func(rec keyRecord, exists bool) (keyRecord, error) {
		if !exists || rec.Tenant != tenant {
			return rec, fmt.Errorf("tenant: tenant %q has no key %q: %w", tenant, id, sdk.ErrNotFound)
		}
		err := fn(&rec)
		out = rec.KeyInfo
		return rec, err
	})
	return out, err
}

// RevokeKey ends a key's life at once, on every instance. Revoking a
// revoked key changes nothing.
func (s *Service) RevokeKey(ctx context.Context, tenant, id string) (KeyInfo, error) {
	info, err := s.updateKey(ctx, tenant, id, func(rec *keyRecord) error {
		if !rec.Revoked.IsZero() {
			return store.ErrNoChange
		}
		rec.Revoked = s.clock()
		return nil
	})
	if err == nil {
		s.log.Info("API key revoked", "tenant", tenant, "key_id", id)
	}
	return info, err
}

// RotateOptions tune RotateKey.
type RotateOptions struct {
	// Grace, when positive, makes the old key expire that long after the
	// rotation (or at its own earlier expiry). Zero leaves the old key
	// valid until it is revoked.
	Grace time.Duration `json:"grace,omitempty"`
}

// RotateKey creates a new key with the old key's tenant, name and scopes;
// a key that had a lifetime gets the same lifetime again from now. Both
// keys work until the old one is revoked or its grace period ends.
func (s *Service) RotateKey(ctx context.Context, tenant, id string, o RotateOptions) (NewKey, error) {
	if err := s.hosted(); err != nil {
		return NewKey{}, err
	}
	if o.Grace < 0 {
		return NewKey{}, fmt.Errorf("tenant: a negative grace period: %w", sdk.ErrInvalidArgument)
	}
	t, err := s.GetTenant(ctx, tenant)
	if err != nil {
		return NewKey{}, err
	}
	if t.Status != StatusActive {
		return NewKey{}, fmt.Errorf("tenant: tenant %q is %s: %w", tenant, t.Status, sdk.ErrPrecondition)
	}
	old, err := s.getKey(ctx, tenant, id)
	if err != nil {
		return NewKey{}, err
	}
	now := s.clock()
	if st := old.State(now); st != "active" {
		return NewKey{}, fmt.Errorf("tenant: key %q is %s; create a new key instead: %w", id, st, sdk.ErrPrecondition)
	}
	spec := KeySpec{Name: old.Name, Scopes: old.Scopes}
	if !old.Expires.IsZero() {
		spec.Expires = now.Add(old.Expires.Sub(old.Created))
	}
	nk, err := s.createKey(ctx, t, spec, id)
	if err != nil {
		return NewKey{}, err
	}
	if _, err := s.updateKey(ctx, tenant, id, func(rec *keyRecord) error {
		rec.RotatedTo = nk.Info.ID
		if o.Grace > 0 {
			if end := now.Add(o.Grace); rec.Expires.IsZero() || end.Before(rec.Expires) {
				rec.Expires = end
			}
		}
		return nil
	}); err != nil {
		return NewKey{}, fmt.Errorf("tenant: new key %s was created but the old key could not be updated (revoke it yourself): %w", nk.Info.ID, err)
	}
	s.log.Info("API key rotated", "tenant", tenant, "old_key_id", id, "key_id", nk.Info.ID, "grace", o.Grace)
	return nk, nil
}

// Authenticate turns a bearer token into a principal. Malformed tokens are
// refused without touching storage. The errors are *AuthError (401) for a
// token that does not authenticate and ErrSuspended (403) for a good key of
// a suspended tenant; any other error is the store's.
func (s *Service) Authenticate(ctx context.Context, bearer string) (Principal, error) {
	if bearer == "" {
		return Principal{}, authError(ReasonMissing, "no API key: send Authorization: Bearer <key>")
	}
	if err := s.hosted(); err != nil {
		return Principal{}, err
	}
	id, secret, err := ParseKey(bearer)
	if err != nil {
		return Principal{}, err
	}
	unknown := authError(ReasonUnknown, "the API key is not known")
	var rec keyRecord
	etag, err := s.sys.Get(ctx, kindKeys, id, &rec)
	if errors.Is(err, sdk.ErrNotFound) {
		return Principal{}, unknown
	}
	if err != nil {
		return Principal{}, fmt.Errorf("tenant: looking up an API key: %w", err)
	}
	// Nothing about the record is revealed before the secret matched.
	if !secretMatches(id, secret, rec.Hash) || rec.ID != id {
		return Principal{}, unknown
	}
	now := s.clock()
	switch rec.State(now) {
	case "revoked":
		return Principal{}, authError(ReasonRevoked, "the API key %s was revoked", id)
	case "expired":
		return Principal{}, authError(ReasonExpired, "the API key %s expired at %s", id, rec.Expires.Format(time.RFC3339))
	}
	var t Tenant
	if _, err := s.sys.Get(ctx, kindTenants, rec.Tenant, &t); err != nil {
		if errors.Is(err, sdk.ErrNotFound) {
			return Principal{}, unknown
		}
		return Principal{}, fmt.Errorf("tenant: looking up the tenant of an API key: %w", err)
	}
	switch {
	case t.Incarnation != rec.Incarnation || t.Status == StatusDeleting:
		return Principal{}, unknown
	case t.Status == StatusSuspended:
		return Principal{}, fmt.Errorf("tenant %q: %w", t.ID, ErrSuspended)
	}
	if now.Sub(rec.LastUsed) >= s.lastUsed {
		s.touch(ctx, rec, etag, now)
	}
	return Principal{TenantID: rec.Tenant, KeyID: id, Scopes: slices.Clone(rec.Scopes)}, nil
}

// touch records a key's use. The write is conditional on the version just
// read: if another instance or an administrator changed the record, their
// write stands and this one is dropped (the other instance recorded a use
// anyway). A failure never fails the request.
func (s *Service) touch(ctx context.Context, rec keyRecord, etag string, now time.Time) {
	rec.LastUsed = now
	if _, err := s.sys.Put(ctx, kindKeys, rec.ID, rec, store.PutOpts{IfMatch: etag}); err != nil && !errors.Is(err, sdk.ErrPrecondition) {
		s.log.Warn("cannot record the last use of an API key", "key_id", rec.ID, "error", err)
	}
}
