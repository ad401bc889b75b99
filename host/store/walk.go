package store

import (
	"context"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

// walkPageSize is the listing page size used when walking a tenant.
const walkPageSize = 200

// docItem is one tenant document found by walk.
type docItem struct {
	r    ref
	kind string
	name string
	meta sdk.Meta
}

// walk lists every document of a tenant, page by page from cursor, calling
// fn with each page's documents and the cursor of the page after it ("" at
// the end). Keys that are not documents (the keyring; in a personal store
// the market namespace and foreign files) are left out.
func (s *Store) walk(ctx context.Context, tenant, cursor string, fn func(docs []docItem, next string) error) error {
	prefix, err := s.layout.tenantPrefix(tenant)
	if err != nil {
		return err
	}
	for {
		p, err := s.b.List(ctx, sdk.ListOptions{Prefix: prefix, Cursor: cursor, Limit: s.pageSize})
		if err != nil {
			return fmt.Errorf("store: listing documents of tenant %q: %w", tenant, err)
		}
		docs := make([]docItem, 0, len(p.Items))
		for _, it := range p.Items {
			kind, name, ok := splitDoc(prefix, it.Key)
			if !ok {
				continue
			}
			docs = append(docs, docItem{
				r:    ref{key: it.Key, tenant: tenant, desc: fmt.Sprintf("%s %q of tenant %q", kind, name, tenant)},
				kind: kind, name: name, meta: it.Meta,
			})
		}
		if err := fn(docs, p.NextCursor); err != nil {
			return err
		}
		if p.NextCursor == "" {
			return nil
		}
		cursor = p.NextCursor
	}
}
