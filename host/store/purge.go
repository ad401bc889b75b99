package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

// forgetter is implemented by sealers that cache a tenant's keys
// (*crypt.Envelope).
type forgetter interface{ Forget(tenant string) }

// PurgeTenant deletes every blob under the tenant's prefix: its documents of
// every kind, its keyring and anything else stored there. It returns how many
// blobs it deleted. It is idempotent; a purge interrupted half way is
// finished by running it again. Backends that keep earlier versions
// (sdk.Versioned) may still hold those until their own retention drops them.
//
// In the personal layout the tenant has no prefix of its own (its documents
// share the top level with the market namespace), so PurgeTenant refuses
// with sdk.ErrUnsupported.
func (s *Store) PurgeTenant(ctx context.Context, tenant string) (int, error) {
	if s.layout.Personal {
		return 0, fmt.Errorf("store: a personal store has one implicit tenant and cannot delete it: %w", sdk.ErrUnsupported)
	}
	prefix, err := s.layout.tenantPrefix(tenant)
	if err != nil {
		return 0, err
	}
	n := 0
	// Delete page by page and list again from the start: deleting while
	// following a cursor may skip keys on some backends.
	for {
		p, err := s.b.List(ctx, sdk.ListOptions{Prefix: prefix, Limit: s.pageSize})
		if err != nil {
			return n, fmt.Errorf("store: listing blobs of tenant %q: %w", tenant, err)
		}
		if len(p.Items) == 0 {
			break
		}
		for _, it := range p.Items {
			err := s.b.Delete(ctx, it.Key, sdk.DeleteOptions{})
			if s.cache != nil {
				s.cache.Remove(it.Key)
			}
			switch {
			case err == nil:
				n++
			case errors.Is(err, sdk.ErrNotFound):
			default:
				return n, fmt.Errorf("store: deleting a blob of tenant %q: %w", tenant, err)
			}
		}
	}
	if f, ok := s.sealer.(forgetter); ok {
		f.Forget(tenant)
	}
	return n, nil
}
