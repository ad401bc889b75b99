package gcs

import (
	"context"
	"fmt"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

// List returns one page of keys in ascending byte order.
func (s *Store) List(ctx context.Context, o sdk.ListOptions) (sdk.ListPage, error) {
	c, err := s.cur.Get()
	if err != nil {
		return sdk.ListPage{}, err
	}
	return c.codec.List(ctx, lister{c}, o)
}

type lister struct{ c *config }

var listAttrs = []string{"Name", "Size", "Generation", "Updated", "Metadata"}

func (l lister) ListNames(ctx context.Context, prefix, startAfter string, limit int) ([]objname.Object, bool, error) {
	q := &storage.Query{Prefix: prefix, StartOffset: startAfter}
	if err := q.SetAttrSelection(listAttrs); err != nil {
		return nil, false, err
	}
	// StartOffset is inclusive: ask for one more and drop startAfter itself.
	pager := iterator.NewPager(l.c.bucket.Objects(ctx, q), limit+1, "")
	var attrs []*storage.ObjectAttrs
	token, err := pager.NextPage(&attrs)
	if err != nil {
		return nil, false, fmt.Errorf("gcs: list: %w", classify(err))
	}
	objs := make([]objname.Object, 0, len(attrs))
	for _, a := range attrs {
		if a.Name == startAfter && startAfter != "" {
			continue
		}
		objs = append(objs, objname.Object{
			Name:  a.Name,
			Meta:  sdk.Meta{Size: a.Size, ETag: etag(a.Generation), Modified: a.Updated.UTC()},
			Extra: a.Metadata,
		})
	}
	return objs, token != "", nil
}

// Resolve takes an overflow name's key from the metadata the listing already
// carries.
func (l lister) Resolve(_ context.Context, o objname.Object, p objname.Parsed) (string, sdk.Meta, bool, error) {
	if !p.Overflow {
		return p.Key, o.Meta, true, nil
	}
	md, _ := o.Extra.(map[string]string)
	k, err := objname.ParseMetaValue(md[metaKey])
	if name, _ := l.c.codec.Name(k); err != nil || name != o.Name {
		return "", sdk.Meta{}, false, nil // not written by this store
	}
	return k, o.Meta, true, nil
}
