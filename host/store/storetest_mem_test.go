package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// memBlobStore is a complete in-memory sdk.BlobStore (with conditional writes
// and retained versions) for tests. It passes the sdk/plugintest conformance
// suite (see TestMemBlobStoreConformance), so tests built on it exercise the
// store against the real contract.
type memBlobStore struct {
	keep int // versions retained per key, the current one included

	mu     sync.Mutex
	objs   map[string]*memObj
	seq    uint64
	closed bool
}

type memObj struct {
	// versions, newest first; versions[0] is current unless deleted.
	versions []memVersion
	deleted  bool
}

type memVersion struct {
	id   string
	data []byte
	meta sdk.Meta
}

func newMemBlobStore() *memBlobStore {
	return &memBlobStore{keep: 5, objs: map[string]*memObj{}}
}

func (m *memBlobStore) Schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{{
		Name: "versions", Type: sdk.TypeNumber, Default: 5, Description: "versions kept per key",
	}}}
}

func (m *memBlobStore) Configure(_ context.Context, cfg sdk.ConfigValue) error {
	n := cfg.Int("versions")
	if n < 1 {
		return sdk.AttrError("versions", "must be at least 1")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keep = n
	return nil
}

func (m *memBlobStore) Health(context.Context) error { return nil }

func (m *memBlobStore) Capabilities() sdk.BlobCapabilities {
	return sdk.BlobCapabilities{ConditionalWrite: true, Versions: true}
}

func (m *memBlobStore) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty key: %w", sdk.ErrInvalidArgument)
	}
	if len(key) > sdk.MaxKeyLength {
		return fmt.Errorf("key of %d bytes exceeds %d: %w", len(key), sdk.MaxKeyLength, sdk.ErrInvalidArgument)
	}
	return nil
}

// current returns the live version of key. m.mu must be held.
func (m *memBlobStore) current(key string) (*memVersion, bool) {
	o, ok := m.objs[key]
	if !ok || o.deleted || len(o.versions) == 0 {
		return nil, false
	}
	return &o.versions[0], true
}

func (m *memBlobStore) begin(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.closed {
		return fmt.Errorf("store closed: %w", sdk.ErrUnavailable)
	}
	return checkKey(key)
}

func (m *memBlobStore) Get(ctx context.Context, key string) ([]byte, sdk.Meta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, key); err != nil {
		return nil, sdk.Meta{}, err
	}
	v, ok := m.current(key)
	if !ok {
		return nil, sdk.Meta{}, fmt.Errorf("get %q: %w", key, sdk.ErrNotFound)
	}
	return bytes.Clone(v.data), v.meta, nil
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (m *memBlobStore) GetReader(ctx context.Context, key string) (io.ReadCloser, sdk.Meta, error) {
	data, meta, err := m.Get(ctx, key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	return io.NopCloser(&ctxReader{ctx: ctx, r: bytes.NewReader(data)}), meta, nil
}

func (m *memBlobStore) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	return m.commit(ctx, key, bytes.Clone(data), o)
}

func (m *memBlobStore) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	if err := checkKey(key); err != nil {
		return sdk.Meta{}, err
	}
	src := io.Reader(&ctxReader{ctx: ctx, r: r})
	if size >= 0 {
		src = io.LimitReader(src, size)
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("put %q: reading the stream: %w", key, err)
	}
	if size >= 0 && int64(len(data)) != size {
		return sdk.Meta{}, fmt.Errorf("put %q: stream ended after %d of %d bytes: %w", key, len(data), size, sdk.ErrInvalidArgument)
	}
	return m.commit(ctx, key, data, o)
}

// commit stores data as the new version of key if the conditions hold.
func (m *memBlobStore) commit(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, key); err != nil {
		return sdk.Meta{}, err
	}
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return sdk.Meta{}, fmt.Errorf("IfNoneMatch must be \"*\": %w", sdk.ErrInvalidArgument)
	}
	cur, exists := m.current(key)
	if o.IfNoneMatch == "*" && exists {
		return sdk.Meta{}, fmt.Errorf("put %q: key exists: %w", key, sdk.ErrPrecondition)
	}
	if o.IfMatch != "" && (!exists || cur.meta.ETag != o.IfMatch) {
		return sdk.Meta{}, fmt.Errorf("put %q: ETag does not match: %w", key, sdk.ErrPrecondition)
	}
	m.seq++
	meta := sdk.Meta{
		Size: int64(len(data)), ETag: fmt.Sprintf("\"m%d\"", m.seq), Modified: time.Now().UTC(),
		ContentType: o.ContentType,
	}
	obj, ok := m.objs[key]
	if !ok {
		obj = &memObj{}
		m.objs[key] = obj
	}
	obj.deleted = false
	obj.versions = slices.Insert(obj.versions, 0, memVersion{id: fmt.Sprintf("v%d", m.seq), data: data, meta: meta})
	if len(obj.versions) > m.keep {
		obj.versions = obj.versions[:m.keep]
	}
	return meta, nil
}

func (m *memBlobStore) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, key); err != nil {
		return err
	}
	cur, exists := m.current(key)
	if o.IfMatch != "" && (!exists || cur.meta.ETag != o.IfMatch) {
		return fmt.Errorf("delete %q: ETag does not match: %w", key, sdk.ErrPrecondition)
	}
	if !exists {
		return fmt.Errorf("delete %q: %w", key, sdk.ErrNotFound)
	}
	m.objs[key].deleted = true
	return nil
}

func (m *memBlobStore) Stat(ctx context.Context, key string) (sdk.Meta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, key); err != nil {
		return sdk.Meta{}, err
	}
	v, ok := m.current(key)
	if !ok {
		return sdk.Meta{}, fmt.Errorf("stat %q: %w", key, sdk.ErrNotFound)
	}
	return v.meta, nil
}

// List pages in byte order; the cursor is the last key returned, encoded.
func (m *memBlobStore) List(ctx context.Context, o sdk.ListOptions) (sdk.ListPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return sdk.ListPage{}, err
	}
	after := ""
	if o.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(o.Cursor)
		if err != nil {
			return sdk.ListPage{}, fmt.Errorf("bad cursor: %w", sdk.ErrInvalidArgument)
		}
		after = string(b)
	}
	limit := o.Limit
	if limit <= 0 {
		limit = 1000
	}
	var keys []string
	for k := range m.objs {
		if _, live := m.current(k); live && strings.HasPrefix(k, o.Prefix) && (o.Cursor == "" || k > after) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var page sdk.ListPage
	for i, k := range keys {
		if i == limit {
			page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(page.Items[i-1].Key))
			break
		}
		v, _ := m.current(k)
		page.Items = append(page.Items, sdk.ListItem{Key: k, Meta: v.meta})
	}
	return page, nil
}

func (m *memBlobStore) Versions(ctx context.Context, key string) ([]sdk.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, key); err != nil {
		return nil, err
	}
	o, ok := m.objs[key]
	if !ok || len(o.versions) == 0 {
		return nil, fmt.Errorf("versions of %q: %w", key, sdk.ErrNotFound)
	}
	out := make([]sdk.Version, len(o.versions))
	for i, v := range o.versions {
		out[i] = sdk.Version{ID: v.id, Meta: v.meta}
	}
	return out, nil
}

func (m *memBlobStore) GetVersion(ctx context.Context, key, id string) ([]byte, sdk.Meta, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.begin(ctx, key); err != nil {
		return nil, sdk.Meta{}, err
	}
	if o, ok := m.objs[key]; ok {
		for _, v := range o.versions {
			if v.id == id {
				return bytes.Clone(v.data), v.meta, nil
			}
		}
	}
	return nil, sdk.Meta{}, fmt.Errorf("version %q of %q: %w", id, key, sdk.ErrNotFound)
}

// raw returns the stored bytes of key, bypassing everything (for tests that
// compare or damage ciphertext).
func (m *memBlobStore) raw(key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.current(key)
	if !ok {
		return nil, false
	}
	return bytes.Clone(v.data), true
}
