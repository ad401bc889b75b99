package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

func (s *Store) versioned() (sdk.Versioned, error) {
	v, ok := s.b.(sdk.Versioned)
	if !ok || !s.b.Capabilities().Versions {
		return nil, fmt.Errorf("store: the storage backend keeps no version history: %w", sdk.ErrUnsupported)
	}
	return v, nil
}

// History lists the retained versions of a document, newest first, when
// the backend keeps versions (sdk.Versioned); otherwise it returns an error
// wrapping sdk.ErrUnsupported. Sizes are stored (sealed) sizes.
func (s *Store) History(ctx context.Context, tenant, kind, name string) ([]sdk.Version, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return nil, err
	}
	v, err := s.versioned()
	if err != nil {
		return nil, err
	}
	vs, err := v.Versions(ctx, r.key)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s: %w", r.desc, err)
	}
	return vs, nil
}

// GetVersionBytes returns the JSON of one retained version, decrypted. Old
// versions stay readable as long as the tenant's keyring holds the DEK
// version that sealed them (rotation never removes versions).
func (s *Store) GetVersionBytes(ctx context.Context, tenant, kind, name, id string) ([]byte, sdk.Meta, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	v, err := s.versioned()
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	raw, m, err := v.GetVersion(ctx, r.key, id)
	if err != nil {
		return nil, sdk.Meta{}, fmt.Errorf("store: version %q of %s: %w", id, r.desc, err)
	}
	data, err := s.open(ctx, r, raw)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	return data, m, nil
}

// GetVersion decodes one retained version into dst.
func (s *Store) GetVersion(ctx context.Context, tenant, kind, name, id string, dst any) (sdk.Meta, error) {
	data, m, err := s.GetVersionBytes(ctx, tenant, kind, name, id)
	if err != nil {
		return sdk.Meta{}, err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return sdk.Meta{}, fmt.Errorf("store: decoding version %q of %s %q: %w", id, kind, name, err)
	}
	return m, nil
}
