package store

import (
	"context"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

// Keyrings persists tenants' crypt keyrings in the backend, at
// users/<tenant>/_keyring (or _keyring in a personal store). A keyring holds
// only wrapped data keys, so it is stored as plain JSON, never sealed by the
// keys it holds. Writes are conditional: If-None-Match "*" creates, If-Match
// updates, so two instances never fork a keyring. It implements
// crypt.KeyringStore.
type Keyrings struct {
	b      sdk.BlobStore
	layout Layout
}

// NewKeyrings returns the keyring persistence for a backend and layout; use
// the same layout as the Store.
func NewKeyrings(b sdk.BlobStore, l Layout) *Keyrings {
	return &Keyrings{b: b, layout: l}
}

// LoadKeyring returns the tenant's keyring document and its ETag as the
// revision; an error wrapping sdk.ErrNotFound when there is none.
func (k *Keyrings) LoadKeyring(ctx context.Context, tenant string) ([]byte, string, error) {
	key, err := k.layout.KeyringKey(tenant)
	if err != nil {
		return nil, "", err
	}
	data, m, err := k.b.Get(ctx, key)
	if err != nil {
		return nil, "", fmt.Errorf("store: reading keyring of tenant %q: %w", tenant, err)
	}
	return data, m.ETag, nil
}

// SaveKeyring stores the keyring if it is still at rev ("" = must not exist)
// and returns the new ETag. A lost race wraps sdk.ErrPrecondition.
func (k *Keyrings) SaveKeyring(ctx context.Context, tenant string, data []byte, rev string) (string, error) {
	key, err := k.layout.KeyringKey(tenant)
	if err != nil {
		return "", err
	}
	o := sdk.PutOptions{IfMatch: rev, ContentType: "application/json"}
	if rev == "" {
		o = sdk.PutOptions{IfNoneMatch: "*", ContentType: "application/json"}
	}
	m, err := k.b.Put(ctx, key, data, o)
	if err != nil {
		return "", fmt.Errorf("store: writing keyring of tenant %q: %w", tenant, err)
	}
	return m.ETag, nil
}
