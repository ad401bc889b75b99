package objname

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vire-dev/vire/sdk"
)

// Object is one entry of a store listing.
type Object struct {
	Name string
	Meta sdk.Meta
	// Extra is whatever the store needs to resolve the object later.
	Extra any
}

// Lister is the store side of List.
type Lister interface {
	// ListNames returns up to limit objects whose names start with prefix
	// and sort strictly after startAfter, in ascending byte order of name,
	// and whether more may follow.
	ListNames(ctx context.Context, prefix, startAfter string, limit int) ([]Object, bool, error)
	// Resolve returns the key and metadata of a listed object. p is what the
	// name says; an overflow name needs the full key from the object's
	// metadata. ok is false for an object that is not a live blob (gone
	// since it was listed, or a store-internal marker).
	Resolve(ctx context.Context, o Object, p Parsed) (key string, m sdk.Meta, ok bool, err error)
}

// DefaultLimit is the page size when ListOptions.Limit is not positive, and
// the largest page List returns.
const DefaultLimit = 1000

// List returns one page of keys in ascending byte order of key, reading the
// store through l.
func (c *Codec) List(ctx context.Context, l Lister, o sdk.ListOptions) (sdk.ListPage, error) {
	limit := o.Limit
	if limit <= 0 || limit > DefaultLimit {
		limit = DefaultLimit
	}
	w := &walk{c: c, l: l, prefix: o.Prefix, want: limit + 1}
	if o.Cursor != "" {
		after, err := ParseCursor(o.Cursor)
		if err != nil {
			return sdk.ListPage{}, fmt.Errorf("list: %w: %v", sdk.ErrInvalidArgument, err)
		}
		w.after, w.hasAfter = after, true
	}
	if err := w.run(ctx); err != nil {
		return sdk.ListPage{}, err
	}
	page := sdk.ListPage{Items: w.items}
	if len(w.items) > limit {
		page.Items = w.items[:limit]
		page.NextCursor = Cursor(page.Items[limit-1].Key)
	}
	return page, nil
}

// walk is one List call's state.
type walk struct {
	c        *Codec
	l        Lister
	prefix   string
	want     int
	after    string // last key emitted, or the cursor's key
	hasAfter bool
	items    []sdk.ListItem
}

func (w *walk) full() bool { return len(w.items) >= w.want }

// emit adds a key if it belongs to the page. Keys only ever grow, so a key
// met twice (a region read twice, a name inside a region) is emitted once.
func (w *walk) emit(key string, m sdk.Meta) {
	if w.hasAfter && key <= w.after {
		return
	}
	if !strings.HasPrefix(key, w.prefix) {
		return
	}
	w.items = append(w.items, sdk.ListItem{Key: key, Meta: m})
	w.after, w.hasAfter = key, true
}

func (w *walk) run(ctx context.Context) error {
	listPrefix := w.c.ListPrefix(w.prefix)
	startAfter := ""
	if w.hasAfter {
		if enc := Encode(w.after); len(enc) > w.c.head {
			// The cursor's key sorts inside a region: start at the region.
			startAfter = w.c.RegionPrefix(enc[:w.c.head])
		} else {
			startAfter, _ = w.c.Name(w.after)
		}
		if startAfter < listPrefix {
			startAfter = ""
		}
	}
	for !w.full() {
		objs, more, err := w.l.ListNames(ctx, listPrefix, startAfter, min(DefaultLimit, w.want-len(w.items)+1))
		if err != nil {
			return err
		}
		if len(objs) == 0 {
			return nil
		}
		i := 0
		for ; i < len(objs) && !w.full(); i++ {
			o := objs[i]
			p, err := w.c.Parse(o.Name)
			if err != nil {
				continue // not ours: another program's object under the prefix
			}
			if p.Region == "" {
				key, m, ok, err := w.l.Resolve(ctx, o, p)
				if err != nil {
					return err
				}
				if ok {
					w.emit(key, m)
				}
				startAfter = o.Name
				continue
			}
			last, err := w.region(ctx, p.Region)
			if err != nil {
				return err
			}
			// Resume after the whole region, wherever this page stood.
			startAfter = max(last, o.Name)
			break
		}
		if i == len(objs) && !more {
			return nil
		}
	}
	return nil
}

// region emits the keys of one region in key order and returns the last name
// it read.
func (w *walk) region(ctx context.Context, region string) (string, error) {
	prefix := w.c.RegionPrefix(region)
	type entry struct {
		key string
		m   sdk.Meta
	}
	var entries []entry
	startAfter, last := "", ""
	for {
		objs, more, err := w.l.ListNames(ctx, prefix, startAfter, DefaultLimit)
		if err != nil {
			return "", err
		}
		for _, o := range objs {
			last, startAfter = o.Name, o.Name
			p, err := w.c.Parse(o.Name)
			if err != nil {
				continue
			}
			key, m, ok, err := w.l.Resolve(ctx, o, p)
			if err != nil {
				return "", err
			}
			if ok {
				entries = append(entries, entry{key, m})
			}
		}
		if !more || len(objs) == 0 {
			break
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	for _, e := range entries {
		if w.full() {
			break
		}
		w.emit(e.key, e.m)
	}
	return last, nil
}
