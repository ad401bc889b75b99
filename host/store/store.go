package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

// Sealer encrypts tenant documents; *crypt.Envelope implements it. Seal and
// Open bind a blob to the tenant and the full blob key.
type Sealer interface {
	Seal(ctx context.Context, tenant, key string, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, tenant, key string, blob []byte) ([]byte, error)
	// CurrentVersion is the DEK version new seals use, read afresh.
	CurrentVersion(ctx context.Context, tenant string) (uint32, error)
}

// DefaultMaxAttempts bounds the read-modify-write attempts of Update.
const DefaultMaxAttempts = 10

// Options configure a Store.
type Options struct {
	// Backend holds the blobs. Required. Update, encryption (keyring
	// writes) and ReEncrypt need a backend with conditional writes.
	Backend sdk.BlobStore
	// Layout chooses the hosted or the personal key layout.
	Layout Layout
	// Sealer, when set, encrypts every tenant document; nil stores them as
	// plain JSON. The market namespace is never encrypted.
	Sealer Sealer
	// Cache, when set, keeps documents as stored (sealed when encryption
	// is on), validated against the backend's ETag on every read (see
	// Cache).
	Cache Cache
	// Logger, optional.
	Logger hclog.Logger
	// MaxAttempts bounds Update's retries after a lost race. Default 10.
	MaxAttempts int
}

// Store is the tenant-scoped document store. It is safe for concurrent use,
// and several Stores (in several processes) may share one backend.
type Store struct {
	b           sdk.BlobStore
	layout      Layout
	sealer      Sealer
	cache       Cache
	log         hclog.Logger
	maxAttempts int
	pageSize    int // listing page size when walking a tenant
}

// New returns a Store.
func New(o Options) (*Store, error) {
	if o.Backend == nil {
		return nil, errors.New("store: Options.Backend is required")
	}
	if o.Layout.Personal {
		if err := ValidateTenant(o.Layout.personalTenant()); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	return &Store{b: o.Backend, layout: o.Layout, sealer: o.Sealer, cache: o.Cache, log: o.Logger.Named("store"), maxAttempts: o.MaxAttempts, pageSize: walkPageSize}, nil
}

// Encrypted reports whether tenant documents are sealed.
func (s *Store) Encrypted() bool { return s.sealer != nil }

// Layout returns the store's key layout.
func (s *Store) Layout() Layout { return s.layout }

// PutOpts make a write conditional. ETags are the backend's own ETags, as
// returned by Get, Put and List; they change on every write.
type PutOpts struct {
	// IfMatch: write only if the document's current ETag is this one.
	IfMatch string
	// IfNoneMatch "*": write only if the document does not exist yet.
	IfNoneMatch string
}

// DeleteOpts make a delete conditional.
type DeleteOpts struct {
	IfMatch string
}

// ListOpts select a page of a listing.
type ListOpts struct {
	// Cursor is the previous page's NextCursor; empty for the first page.
	Cursor string
	// Limit caps the page size; zero means the backend's default.
	Limit int
}

// Entry is one document in a listing.
type Entry struct {
	Name     string    `json:"name"`
	ETag     string    `json:"etag"`
	Modified time.Time `json:"modified"`
	// Size is the stored size (sealed, when encrypted).
	Size int64 `json:"size"`
}

// Page is one page of a listing. Pages may be shorter than the limit; the
// listing is complete when NextCursor is empty.
type Page struct {
	Items      []Entry `json:"items"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// ref locates one document: its blob key, the tenant it is sealed for (""
// for the market namespace, never sealed) and a description for errors.
type ref struct {
	key    string
	tenant string
	desc   string
}

func (s *Store) docRef(tenant, kind, name string) (ref, error) {
	key, err := s.layout.DocKey(tenant, kind, name)
	if err != nil {
		return ref{}, err
	}
	return ref{key: key, tenant: tenant, desc: fmt.Sprintf("%s %q of tenant %q", kind, name, tenant)}, nil
}

func (s *Store) sealed(r ref) bool { return s.sealer != nil && r.tenant != "" }

// Get decodes the document into dst (as encoding/json does) and returns its
// ETag. A missing document is an error wrapping sdk.ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, kind, name string, dst any) (string, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return "", err
	}
	return s.getJSON(ctx, r, dst)
}

// GetBytes returns the document's JSON bytes and ETag.
func (s *Store) GetBytes(ctx context.Context, tenant, kind, name string) ([]byte, string, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return nil, "", err
	}
	data, m, err := s.read(ctx, r)
	if err != nil {
		return nil, "", err
	}
	return append([]byte(nil), data...), m.ETag, nil
}

// Put stores v encoded as JSON and returns the new ETag. A lost condition is
// an error wrapping sdk.ErrPrecondition.
func (s *Store) Put(ctx context.Context, tenant, kind, name string, v any, o PutOpts) (string, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encoding %s: %w", r.desc, err)
	}
	return s.write(ctx, r, data, o)
}

// PutBytes stores a document given as JSON bytes.
func (s *Store) PutBytes(ctx context.Context, tenant, kind, name string, data []byte, o PutOpts) (string, error) {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return "", err
	}
	if !json.Valid(data) {
		return "", fmt.Errorf("store: %s: the document is not valid JSON: %w", r.desc, sdk.ErrInvalidArgument)
	}
	return s.write(ctx, r, data, o)
}

// Delete removes a document. A missing document is an error wrapping
// sdk.ErrNotFound; a lost condition one wrapping sdk.ErrPrecondition.
func (s *Store) Delete(ctx context.Context, tenant, kind, name string, o DeleteOpts) error {
	r, err := s.docRef(tenant, kind, name)
	if err != nil {
		return err
	}
	return s.remove(ctx, r, o)
}

// List returns a page of the names of a tenant's documents of one kind, in
// byte order.
func (s *Store) List(ctx context.Context, tenant, kind string, o ListOpts) (Page, error) {
	prefix, err := s.layout.kindPrefix(tenant, kind)
	if err != nil {
		return Page{}, err
	}
	return s.list(ctx, prefix, o)
}

func (s *Store) getJSON(ctx context.Context, r ref, dst any) (string, error) {
	data, m, err := s.read(ctx, r)
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return "", fmt.Errorf("store: decoding %s: %w", r.desc, err)
	}
	return m.ETag, nil
}

// read returns the plaintext of a document. The returned bytes may be shared
// with the cache (when the document is not sealed): callers must not modify
// them.
func (s *Store) read(ctx context.Context, r ref) ([]byte, sdk.Meta, error) {
	raw, m, err := s.fetch(ctx, r)
	if err != nil {
		return nil, sdk.Meta{}, fmt.Errorf("store: reading %s: %w", r.desc, err)
	}
	data, err := s.open(ctx, r, raw)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	return data, m, nil
}

// fetch returns the document's blob exactly as the backend stores it
// (sealed when encryption is on), from the cache when it holds the current
// ETag. A hit must also have the size the backend reports, which catches an
// entry left under an ETag the backend has since issued again (a backend
// whose data was wiped and rebuilt).
func (s *Store) fetch(ctx context.Context, r ref) ([]byte, sdk.Meta, error) {
	if s.cache != nil {
		m, err := s.b.Stat(ctx, r.key)
		if err != nil {
			return nil, sdk.Meta{}, err
		}
		if raw, ok := s.cache.Get(r.key, m.ETag); ok && int64(len(raw)) == m.Size {
			return raw, m, nil
		}
	}
	raw, m, err := s.b.Get(ctx, r.key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	if s.cache != nil {
		s.cache.Add(r.key, m.ETag, raw)
	}
	return raw, m, nil
}

func (s *Store) open(ctx context.Context, r ref, raw []byte) ([]byte, error) {
	if !s.sealed(r) {
		return raw, nil
	}
	data, err := s.sealer.Open(ctx, r.tenant, r.key, raw)
	if err != nil {
		return nil, fmt.Errorf("store: decrypting %s: %w", r.desc, err)
	}
	return data, nil
}

// write seals (when encryption is on) and stores data.
func (s *Store) write(ctx context.Context, r ref, data []byte, o PutOpts) (string, error) {
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return "", fmt.Errorf("store: IfNoneMatch must be \"*\" or empty: %w", sdk.ErrInvalidArgument)
	}
	blob, ct := data, "application/json"
	if s.sealed(r) {
		var err error
		if blob, err = s.sealer.Seal(ctx, r.tenant, r.key, data); err != nil {
			return "", fmt.Errorf("store: encrypting %s: %w", r.desc, err)
		}
		ct = "application/octet-stream"
	}
	m, err := s.b.Put(ctx, r.key, blob, sdk.PutOptions{IfMatch: o.IfMatch, IfNoneMatch: o.IfNoneMatch, ContentType: ct})
	if err != nil {
		if errors.Is(err, sdk.ErrPrecondition) {
			if o.IfNoneMatch != "" {
				return "", fmt.Errorf("store: %s already exists: %w", r.desc, err)
			}
			return "", fmt.Errorf("store: %s was changed or deleted since ETag %s was read: %w", r.desc, o.IfMatch, err)
		}
		return "", fmt.Errorf("store: writing %s: %w", r.desc, err)
	}
	if s.cache != nil {
		if !s.sealed(r) {
			blob = append([]byte(nil), data...) // data is the caller's
		}
		s.cache.Add(r.key, m.ETag, blob)
	}
	return m.ETag, nil
}

func (s *Store) remove(ctx context.Context, r ref, o DeleteOpts) error {
	err := s.b.Delete(ctx, r.key, sdk.DeleteOptions{IfMatch: o.IfMatch})
	if s.cache != nil {
		s.cache.Remove(r.key)
	}
	if err != nil {
		return fmt.Errorf("store: deleting %s: %w", r.desc, err)
	}
	return nil
}

// list returns one page of document names directly under prefix.
func (s *Store) list(ctx context.Context, prefix string, o ListOpts) (Page, error) {
	p, err := s.b.List(ctx, sdk.ListOptions{Prefix: prefix, Cursor: o.Cursor, Limit: o.Limit})
	if err != nil {
		return Page{}, fmt.Errorf("store: listing %q: %w", prefix, err)
	}
	out := Page{NextCursor: p.NextCursor, Items: make([]Entry, 0, len(p.Items))}
	for _, it := range p.Items {
		name := strings.TrimPrefix(it.Key, prefix)
		if ValidateName(name) != nil {
			continue // not a document of this store (nested or foreign key)
		}
		out.Items = append(out.Items, Entry{Name: name, ETag: it.Meta.ETag, Modified: it.Meta.Modified, Size: it.Meta.Size})
	}
	return out, nil
}
