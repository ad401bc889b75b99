package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// systemPrefix roots the server's own records (tenants, API keys). Kinds
// cannot start with '_', so in the personal layout, where documents sit at
// the top level, no tenant document can reach it; in the hosted layout it
// lies beside users/ and market/.
const systemPrefix = "_system/"

// System is the server's own namespace _system/<kind>/<name>: records that
// belong to no tenant, such as the tenant registry and API-key records. It
// is never encrypted (nothing in it may need a tenant's data key to be
// read), so it must hold no secret in the clear: API keys are stored only as
// hashes. Writes are conditional like every other document's.
type System struct{ s *Store }

// System returns the server's own namespace.
func (s *Store) System() System { return System{s: s} }

func systemRef(kind, name string) (ref, error) {
	if err := ValidateKind(kind); err != nil {
		return ref{}, err
	}
	if err := ValidateName(name); err != nil {
		return ref{}, err
	}
	return ref{key: systemPrefix + kind + "/" + name, desc: fmt.Sprintf("system %s %q", kind, name)}, nil
}

// Get decodes a system document into dst and returns its ETag.
func (y System) Get(ctx context.Context, kind, name string, dst any) (string, error) {
	r, err := systemRef(kind, name)
	if err != nil {
		return "", err
	}
	return y.s.getJSON(ctx, r, dst)
}

// Put stores a system document as JSON.
func (y System) Put(ctx context.Context, kind, name string, v any, o PutOpts) (string, error) {
	r, err := systemRef(kind, name)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encoding %s: %w", r.desc, err)
	}
	return y.s.write(ctx, r, data, o)
}

// UpdateBytes is Store.UpdateBytes for a system document.
func (y System) UpdateBytes(ctx context.Context, kind, name string, fn func(cur []byte, exists bool) ([]byte, error)) (string, error) {
	r, err := systemRef(kind, name)
	if err != nil {
		return "", err
	}
	return y.s.update(ctx, r, fn)
}

// UpdateSystem is the typed form of System.UpdateBytes.
func UpdateSystem[T any](ctx context.Context, y System, kind, name string, fn func(cur T, exists bool) (T, error)) (string, error) {
	return y.UpdateBytes(ctx, kind, name, typed(fn))
}

// Delete removes a system document.
func (y System) Delete(ctx context.Context, kind, name string, o DeleteOpts) error {
	r, err := systemRef(kind, name)
	if err != nil {
		return err
	}
	return y.s.remove(ctx, r, o)
}

// List returns a page of system document names of one kind.
func (y System) List(ctx context.Context, kind string, o ListOpts) (Page, error) {
	if err := ValidateKind(kind); err != nil {
		return Page{}, err
	}
	return y.s.list(ctx, systemPrefix+kind+"/", o)
}
