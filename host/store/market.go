package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Market is the shared namespace market/<kind>/<name>: data every tenant
// may read (prices, fundamentals). It is never encrypted, whatever the
// store's options.
type Market struct{ s *Store }

// Market returns the shared market namespace.
func (s *Store) Market() Market { return Market{s: s} }

func marketRef(kind, name string) (ref, error) {
	key, err := marketKey(kind, name)
	if err != nil {
		return ref{}, err
	}
	return ref{key: key, desc: fmt.Sprintf("market %s %q", kind, name)}, nil
}

// Get decodes a market document into dst and returns its ETag.
func (m Market) Get(ctx context.Context, kind, name string, dst any) (string, error) {
	r, err := marketRef(kind, name)
	if err != nil {
		return "", err
	}
	return m.s.getJSON(ctx, r, dst)
}

// Put stores a market document as JSON.
func (m Market) Put(ctx context.Context, kind, name string, v any, o PutOpts) (string, error) {
	r, err := marketRef(kind, name)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encoding %s: %w", r.desc, err)
	}
	return m.s.write(ctx, r, data, o)
}

// UpdateBytes is Store.UpdateBytes for a market document.
func (m Market) UpdateBytes(ctx context.Context, kind, name string, fn func(cur []byte, exists bool) ([]byte, error)) (string, error) {
	r, err := marketRef(kind, name)
	if err != nil {
		return "", err
	}
	return m.s.update(ctx, r, fn)
}

// Delete removes a market document.
func (m Market) Delete(ctx context.Context, kind, name string, o DeleteOpts) error {
	r, err := marketRef(kind, name)
	if err != nil {
		return err
	}
	return m.s.remove(ctx, r, o)
}

// List returns a page of market document names of one kind.
func (m Market) List(ctx context.Context, kind string, o ListOpts) (Page, error) {
	if err := ValidateKind(kind); err != nil {
		return Page{}, err
	}
	return m.s.list(ctx, marketPrefix+kind+"/", o)
}
