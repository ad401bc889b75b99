package plugintest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// memStore is a small, correct in-memory BlobStore used to prove the suite
// passes a correct store. defect names one deliberate bug, so the self-test
// can prove the suite catches it.
type memStore struct {
	defect string

	mu    sync.Mutex
	blobs map[string]memBlob
}

type memBlob struct {
	data []byte
	meta sdk.Meta
}

func newMemStore(defect string) *memStore {
	return &memStore{defect: defect, blobs: map[string]memBlob{}}
}

func (s *memStore) Schema() sdk.ConfigSchema                         { return sdk.ConfigSchema{} }
func (s *memStore) Configure(context.Context, sdk.ConfigValue) error { return nil }
func (s *memStore) Health(context.Context) error                     { return nil }
func (s *memStore) Close() error                                     { return nil }

func (s *memStore) Capabilities() sdk.BlobCapabilities {
	return sdk.BlobCapabilities{ConditionalWrite: !strings.HasPrefix(s.defect, "unconditional")}
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty key: %w", sdk.ErrInvalidArgument)
	}
	return nil
}

func (s *memStore) key(k string) string {
	if s.defect == "clean-keys" {
		return path.Clean(k)
	}
	return k
}

func (s *memStore) Get(ctx context.Context, key string) ([]byte, sdk.Meta, error) {
	if err := checkKey(key); err != nil {
		return nil, sdk.Meta{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blobs[s.key(key)]
	if !ok {
		return nil, sdk.Meta{}, fmt.Errorf("get %q: %w", key, sdk.ErrNotFound)
	}
	if s.defect == "shared-slice" {
		return b.data, b.meta, nil
	}
	return bytes.Clone(b.data), b.meta, nil
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (s *memStore) GetReader(ctx context.Context, key string) (io.ReadCloser, sdk.Meta, error) {
	data, m, err := s.Get(ctx, key)
	if err != nil {
		return nil, m, err
	}
	return io.NopCloser(ctxReader{ctx, bytes.NewReader(data)}), m, nil
}

func (s *memStore) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	if err := ctx.Err(); err != nil {
		return sdk.Meta{}, err
	}
	if s.defect != "shared-slice" {
		data = bytes.Clone(data)
	}
	return s.commit(key, data, o)
}

func (s *memStore) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	if err := checkKey(key); err != nil {
		return sdk.Meta{}, err
	}
	if size >= 0 {
		r = io.LimitReader(r, size)
	}
	if s.defect != "ignore-cancel" {
		r = ctxReader{ctx, r}
	}
	data, err := io.ReadAll(r)
	if err != nil && s.defect != "partial-write" {
		return sdk.Meta{}, err
	}
	if size >= 0 && int64(len(data)) != size && s.defect != "partial-write" {
		return sdk.Meta{}, fmt.Errorf("stream ended after %d of %d bytes: %w", len(data), size, io.ErrUnexpectedEOF)
	}
	if s.defect != "ignore-cancel" && ctx.Err() != nil {
		return sdk.Meta{}, ctx.Err()
	}
	return s.commit(key, data, o)
}

func newETag() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *memStore) commit(key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	if err := checkKey(key); err != nil {
		return sdk.Meta{}, err
	}
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return sdk.Meta{}, fmt.Errorf("IfNoneMatch must be *: %w", sdk.ErrInvalidArgument)
	}
	if s.defect == "unconditional" && (o.IfMatch != "" || o.IfNoneMatch != "") {
		return sdk.Meta{}, fmt.Errorf("conditional put: %w", sdk.ErrUnsupported)
	}
	s.mu.Lock()
	cur, exists := s.blobs[s.key(key)]
	if s.defect == "racy-conditional" {
		// Check, then let others in before writing: the classic lost race.
		s.mu.Unlock()
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if o.IfNoneMatch == "*" && exists {
		return sdk.Meta{}, fmt.Errorf("put %q: exists: %w", key, sdk.ErrPrecondition)
	}
	if o.IfMatch != "" && (!exists || cur.meta.ETag != o.IfMatch) {
		return sdk.Meta{}, fmt.Errorf("put %q: etag mismatch: %w", key, sdk.ErrPrecondition)
	}
	m := sdk.Meta{Size: int64(len(data)), ETag: newETag(), Modified: time.Now(), ContentType: o.ContentType}
	if s.defect == "constant-etag" {
		m.ETag = "etag"
	}
	s.blobs[s.key(key)] = memBlob{data: data, meta: m}
	return m, nil
}

func (s *memStore) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if s.defect == "unconditional" && o.IfMatch != "" {
		return fmt.Errorf("conditional delete: %w", sdk.ErrUnsupported)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, exists := s.blobs[s.key(key)]
	if o.IfMatch != "" && (!exists || cur.meta.ETag != o.IfMatch) {
		return fmt.Errorf("delete %q: %w", key, sdk.ErrPrecondition)
	}
	if !exists {
		if s.defect == "idempotent-delete" {
			return nil
		}
		return fmt.Errorf("delete %q: %w", key, sdk.ErrNotFound)
	}
	delete(s.blobs, s.key(key))
	return nil
}

func (s *memStore) Stat(ctx context.Context, key string) (sdk.Meta, error) {
	_, m, err := s.Get(ctx, key)
	return m, err
}

func (s *memStore) List(ctx context.Context, o sdk.ListOptions) (sdk.ListPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.blobs {
		after := k > o.Cursor
		if s.defect == "inclusive-cursor" {
			after = k >= o.Cursor
		}
		if strings.HasPrefix(k, o.Prefix) && (o.Cursor == "" || after) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	limit := o.Limit
	if limit <= 0 {
		limit = 1000
	}
	var page sdk.ListPage
	for i, k := range keys {
		if i == limit {
			page.NextCursor = page.Items[i-1].Key
			break
		}
		page.Items = append(page.Items, sdk.ListItem{Key: k, Meta: s.blobs[k].meta})
	}
	return page, nil
}
