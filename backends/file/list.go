package file

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

const (
	maxListLimit = 1000
	// staleTemp is the age after which a listing removes a temporary file
	// left behind by a crashed writer.
	staleTemp = 24 * time.Hour
)

type candidate struct {
	key, rel string
}

// List returns keys in ascending byte order. The cursor is the last key of
// the previous page, so a page starts strictly after it: keys that exist
// throughout a listing appear exactly once however the tree changes between
// pages. Each page walks only the directories that can hold keys with the
// prefix and after the cursor.
func (s *Store) List(ctx context.Context, o sdk.ListOptions) (sdk.ListPage, error) {
	if err := ctx.Err(); err != nil {
		return sdk.ListPage{}, err
	}
	d, err := s.root()
	if err != nil {
		return sdk.ListPage{}, err
	}
	limit := o.Limit
	if limit <= 0 || limit > maxListLimit {
		limit = maxListLimit
	}
	top, err := d.r.OpenRoot(".")
	if err != nil {
		return sdk.ListPage{}, err
	}
	w := walker{ctx: ctx, names: d.names, prefix: o.Prefix, cursor: o.Cursor}
	err = w.walk(top, ".", "")
	top.Close()
	if err != nil {
		return sdk.ListPage{}, err
	}
	slices.SortFunc(w.found, func(a, b candidate) int { return strings.Compare(a.key, b.key) })

	var page sdk.ListPage
	for _, c := range w.found {
		if len(page.Items) == limit {
			page.NextCursor = page.Items[limit-1].Key
			break
		}
		f, err := d.r.Open(c.rel)
		if err != nil {
			continue // deleted since the walk
		}
		m, _, err := readHeader(f)
		f.Close()
		if err != nil {
			continue
		}
		page.Items = append(page.Items, sdk.ListItem{Key: c.key, Meta: m})
	}
	return page, nil
}

type walker struct {
	ctx            context.Context
	names          names
	prefix, cursor string
	found          []candidate
}

// wanted reports whether keys starting with p can belong to this page.
func (w *walker) wanted(p string) bool {
	if !strings.HasPrefix(p, w.prefix) && !strings.HasPrefix(w.prefix, p) {
		return false
	}
	// Every key under p sorts before the cursor when p does and the cursor
	// does not extend p.
	return w.cursor == "" || p >= w.cursor || strings.HasPrefix(w.cursor, p)
}

func (w *walker) walk(dir *os.Root, rel, keyPrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	f, err := dir.Open(".")
	if err != nil {
		return nil // removed since its parent was read
	}
	entries, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			if strings.HasPrefix(name, tempPrefix) && e.Type().IsRegular() {
				if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
					_ = dir.Remove(name)
				}
			}
			continue
		}
		path := name
		if rel != "." {
			path = rel + "/" + name
		}
		switch t := e.Type(); {
		case t.IsDir():
			part, kind := w.names.decodeName(name, true)
			if kind == notOurs {
				continue
			}
			p := keyPrefix + part
			if kind == partDir {
				p += "/"
			}
			if !w.wanted(p) {
				continue
			}
			sub, err := dir.OpenRoot(name)
			if err != nil {
				continue
			}
			err = w.walk(sub, path, p)
			sub.Close()
			if err != nil {
				return err
			}
		case t.IsRegular():
			part, kind := w.names.decodeName(name, false)
			if kind != leafFile {
				continue
			}
			k := keyPrefix + part
			if !strings.HasPrefix(k, w.prefix) || (w.cursor != "" && k <= w.cursor) {
				continue
			}
			if w.names.path(k) != path {
				continue // not a name this store would write
			}
			w.found = append(w.found, candidate{key: k, rel: path})
		}
	}
	return nil
}
