package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vire-dev/vire/backends/internal/blobio"
	"github.com/vire-dev/vire/sdk"
)

// readAttempts bounds how often a read restarts because the blob changed
// under it and the chunks it was reading expired.
const readAttempts = 5

// cleanupTimeout bounds best-effort removal of an abandoned write's chunks.
const cleanupTimeout = 10 * time.Second

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	c, err := s.cur.ForPut(key, o)
	if err != nil {
		return sdk.Meta{}, err
	}
	if len(data) <= c.chunkSize && len(data) <= inlineLimit {
		return s.putSmall(ctx, c, key, data, o)
	}
	return s.putChunks(ctx, c, key, bytes.NewReader(data), int64(len(data)), o)
}

// PutReader stores exactly size bytes from r (size < 0: until EOF).
func (s *Store) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	c, err := s.cur.ForPut(key, o)
	if err != nil {
		return sdk.Meta{}, err
	}
	// A blob small enough for one script call takes one round trip; a larger
	// one goes up chunk by chunk with plain SETs, which copy less.
	smallMax := min(c.chunkSize, inlineLimit)
	if size >= 0 && size <= int64(smallMax) {
		buf := make([]byte, size)
		if _, err := blobio.ReadFull(ctx, r, buf); err != nil {
			return sdk.Meta{}, readErr(err, size)
		}
		if err := ctx.Err(); err != nil {
			return sdk.Meta{}, err
		}
		return s.putSmall(ctx, c, key, buf, o)
	}
	if size < 0 {
		// Peek: a short unsized stream takes the one-round-trip path.
		buf := make([]byte, smallMax+1)
		n, err := blobio.ReadFull(ctx, r, buf)
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			if err := ctx.Err(); err != nil {
				return sdk.Meta{}, err
			}
			return s.putSmall(ctx, c, key, buf[:n], o)
		case err != nil:
			return sdk.Meta{}, fmt.Errorf("redis: reading blob: %w", err)
		}
		r = io.MultiReader(bytes.NewReader(buf[:n]), r)
	}
	return s.putChunks(ctx, c, key, r, size, o)
}

func readErr(err error, size int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("redis: stream ended before the announced %d bytes: %w", size, sdk.ErrInvalidArgument)
	}
	return fmt.Errorf("redis: reading blob: %w", err)
}

func (c *config) ttlMillis() int64 { return c.ttl.Milliseconds() }

func (s *Store) putSmall(ctx context.Context, c *config, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	res, err := putSmallScript.Run(ctx, c.client,
		[]string{c.metaKey(key), c.indexKey(), c.counterKey()},
		o.IfMatch, o.IfNoneMatch, len(data), o.ContentType, key, c.chunkPrefix(),
		graceTTL.Milliseconds(), c.ttlMillis(), data).Slice()
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("redis: put: %w", classify(err))
	}
	return commitResult(res, int64(len(data)), o.ContentType)
}

// commitResult reads {code, version, ms} from a write script.
func commitResult(res []any, size int64, ctype string) (sdk.Meta, error) {
	code, _ := res[0].(int64)
	switch code {
	case resOK:
	case resPrecondition:
		return sdk.Meta{}, fmt.Errorf("redis: put: %w", sdk.ErrPrecondition)
	case resExpired:
		return sdk.Meta{}, fmt.Errorf("redis: put: the write took longer than %s and its chunks expired: %w", pendingTTL, sdk.ErrUnavailable)
	default:
		return sdk.Meta{}, fmt.Errorf("redis: put: unexpected script result %v", res)
	}
	if len(res) < 3 {
		return sdk.Meta{}, fmt.Errorf("redis: put: unexpected script result %v", res)
	}
	version := fmt.Sprint(res[1])
	ms, _ := res[2].(int64)
	return sdk.Meta{Size: size, ETag: version, Modified: time.UnixMilli(ms).UTC(), ContentType: ctype}, nil
}

// putChunks writes a multi-chunk blob: chunks first, under a fresh version
// and a pending expiry, then an atomic conditional switch.
func (s *Store) putChunks(ctx context.Context, c *config, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	// Fail early rather than upload a blob whose condition already lost; the
	// commit checks again atomically.
	if o.IfMatch != "" || o.IfNoneMatch != "" {
		cur, err := c.client.HGet(ctx, c.metaKey(key), "v").Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return sdk.Meta{}, fmt.Errorf("redis: put: %w", classify(err))
		}
		exists := err == nil
		if (o.IfNoneMatch == "*" && exists) || (o.IfMatch != "" && (!exists || cur != o.IfMatch)) {
			return sdk.Meta{}, fmt.Errorf("redis: put: %w", sdk.ErrPrecondition)
		}
	}
	version, err := c.client.Incr(ctx, c.counterKey()).Result()
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("redis: put: %w", classify(err))
	}
	written := 0
	committed := false
	defer func() {
		if !committed && written > 0 {
			s.dropChunks(c, version, written)
		}
	}()
	if size >= 0 {
		r = io.LimitReader(r, size)
	}
	buf := make([]byte, c.chunkSize)
	var total int64
	for {
		n, rerr := blobio.ReadFull(ctx, r, buf)
		if n > 0 {
			if err := ctx.Err(); err != nil {
				return sdk.Meta{}, err
			}
			if err := c.client.Set(ctx, c.chunkKey(version, written), buf[:n], pendingTTL).Err(); err != nil {
				return sdk.Meta{}, fmt.Errorf("redis: put chunk: %w", classify(err))
			}
			written++
			total += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return sdk.Meta{}, fmt.Errorf("redis: reading blob: %w", rerr)
		}
	}
	if size >= 0 && total != size {
		return sdk.Meta{}, readErr(io.ErrUnexpectedEOF, size)
	}
	if err := ctx.Err(); err != nil {
		return sdk.Meta{}, err
	}
	res, err := commitScript.Run(ctx, c.client, []string{c.metaKey(key), c.indexKey()},
		o.IfMatch, o.IfNoneMatch, version, written, total, o.ContentType, key, c.chunkPrefix(),
		graceTTL.Milliseconds(), c.ttlMillis()).Slice()
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("redis: put commit: %w", classify(err))
	}
	m, err := commitResult(res, total, o.ContentType)
	if err != nil {
		return sdk.Meta{}, err
	}
	committed = true
	return m, nil
}

// dropChunks removes the chunks of a write that did not commit. It runs even
// when the write's context was canceled; chunks it cannot remove expire.
func (s *Store) dropChunks(c *config, version int64, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = c.chunkKey(version, i)
	}
	if err := c.client.Unlink(ctx, keys...).Err(); err != nil {
		s.log.Warn("could not remove the chunks of a failed write; they expire on their own", "error", err)
	}
}

// head is a blob's metadata as stored.
type head struct {
	version string
	size    int64
	chunks  int
	meta    sdk.Meta
}

func parseHead(vals []any) (head, error) {
	str := func(i int) string {
		if i < len(vals) && vals[i] != nil {
			return fmt.Sprint(vals[i])
		}
		return ""
	}
	size, err1 := strconv.ParseInt(str(1), 10, 64)
	n, err2 := strconv.Atoi(str(2))
	ms, err3 := strconv.ParseInt(str(4), 10, 64)
	if str(0) == "" || err1 != nil || err2 != nil || err3 != nil {
		return head{}, fmt.Errorf("redis: malformed metadata %q", vals)
	}
	return head{
		version: str(0), size: size, chunks: n,
		meta: sdk.Meta{Size: size, ETag: str(0), Modified: time.UnixMilli(ms).UTC(), ContentType: str(3)},
	}, nil
}

// inlineLimit is the largest blob whose data comes back with its metadata
// in one script call.
const inlineLimit = 128 << 10

// open reads a blob's metadata and, for a small blob, its first chunk; next
// is the index of the first chunk still to fetch. ok is false when the
// first chunk had expired (the blob was replaced between the two reads).
func (s *Store) open(ctx context.Context, c *config, key string) (h head, first []byte, next int, ok bool, err error) {
	res, err := getScript.Run(ctx, c.client, []string{c.metaKey(key)}, c.chunkPrefix(), inlineLimit).Slice()
	if errors.Is(err, goredis.Nil) {
		return head{}, nil, 0, false, fmt.Errorf("redis: %w", sdk.ErrNotFound)
	}
	if err != nil {
		return head{}, nil, 0, false, fmt.Errorf("redis: get: %w", classify(err))
	}
	h, err = parseHead(res)
	if err != nil {
		return head{}, nil, 0, false, err
	}
	switch flag, _ := res[5].(int64); flag {
	case 0:
		return h, nil, 0, false, nil
	case 2:
		return h, nil, 0, true, nil
	}
	if len(res) > 6 {
		b, isStr := res[6].(string)
		if !isStr {
			return head{}, nil, 0, false, fmt.Errorf("redis: get: unexpected chunk reply %T", res[6])
		}
		first = []byte(b)
	}
	return h, first, 1, true, nil
}

// Get returns a blob whole.
func (s *Store) Get(ctx context.Context, key string) ([]byte, sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	for range readAttempts {
		h, first, next, ok, err := s.open(ctx, c, key)
		if err != nil {
			return nil, sdk.Meta{}, err
		}
		if !ok {
			continue
		}
		if next >= h.chunks {
			if int64(len(first)) != h.size {
				return nil, sdk.Meta{}, fmt.Errorf("redis: blob holds %d bytes, metadata says %d: %w", len(first), h.size, sdk.ErrIntegrity)
			}
			return first, h.meta, nil
		}
		data := make([]byte, 0, h.size)
		data = append(data, first...)
		complete := true
		for i := next; i < h.chunks && complete; i += 8 {
			keys := make([]string, 0, 8)
			for j := i; j < min(i+8, h.chunks); j++ {
				keys = append(keys, c.chunkKey(mustVersion(h.version), j))
			}
			vals, err := c.client.MGet(ctx, keys...).Result()
			if err != nil {
				return nil, sdk.Meta{}, fmt.Errorf("redis: get: %w", classify(err))
			}
			for _, v := range vals {
				str, isStr := v.(string)
				if !isStr {
					complete = false
					break
				}
				data = append(data, str...)
			}
		}
		if !complete {
			continue
		}
		if int64(len(data)) != h.size {
			return nil, sdk.Meta{}, fmt.Errorf("redis: blob holds %d bytes, metadata says %d: %w", len(data), h.size, sdk.ErrIntegrity)
		}
		return data, h.meta, nil
	}
	return nil, sdk.Meta{}, fmt.Errorf("redis: get: blob kept changing during the read: %w", sdk.ErrUnavailable)
}

func mustVersion(v string) int64 {
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// GetReader streams a blob chunk by chunk.
func (s *Store) GetReader(ctx context.Context, key string) (io.ReadCloser, sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	for range readAttempts {
		h, first, next, ok, err := s.open(ctx, c, key)
		if err != nil {
			return nil, sdk.Meta{}, err
		}
		if !ok {
			continue
		}
		return &chunkReader{ctx: ctx, c: c, h: h, version: mustVersion(h.version), buf: first, next: next}, h.meta, nil
	}
	return nil, sdk.Meta{}, fmt.Errorf("redis: get: blob kept changing during the read: %w", sdk.ErrUnavailable)
}

// chunkReader reads one version's chunks in order.
type chunkReader struct {
	ctx     context.Context
	c       *config
	h       head
	version int64
	buf     []byte
	next    int
	read    int64
	closed  bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errors.New("redis: read of a closed blob reader")
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	for len(r.buf) == 0 {
		if r.next >= r.h.chunks {
			if r.read != r.h.size {
				return 0, fmt.Errorf("redis: blob ended after %d of %d bytes: %w", r.read, r.h.size, sdk.ErrIntegrity)
			}
			return 0, io.EOF
		}
		b, err := r.c.client.Get(r.ctx, r.c.chunkKey(r.version, r.next)).Bytes()
		if errors.Is(err, goredis.Nil) {
			return 0, fmt.Errorf("redis: the blob was replaced or deleted and its old chunks expired during this read: %w", sdk.ErrUnavailable)
		}
		if err != nil {
			return 0, fmt.Errorf("redis: read chunk: %w", classify(err))
		}
		r.buf = b
		r.next++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.read += int64(n)
	return n, nil
}

func (r *chunkReader) Close() error {
	r.closed = true
	r.buf = nil
	return nil
}

// Stat returns a blob's metadata.
func (s *Store) Stat(ctx context.Context, key string) (sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return sdk.Meta{}, err
	}
	vals, err := c.client.HMGet(ctx, c.metaKey(key), "v", "s", "n", "c", "t").Result()
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("redis: stat: %w", classify(err))
	}
	if len(vals) == 0 || vals[0] == nil {
		return sdk.Meta{}, fmt.Errorf("redis: %w", sdk.ErrNotFound)
	}
	h, err := parseHead(vals)
	if err != nil {
		return sdk.Meta{}, err
	}
	return h.meta, nil
}

// Delete removes a blob, only at ETag o.IfMatch when that is set.
func (s *Store) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return err
	}
	code, err := deleteScript.Run(ctx, c.client, []string{c.metaKey(key), c.indexKey()},
		o.IfMatch, key, c.chunkPrefix(), graceTTL.Milliseconds()).Int64()
	if err != nil {
		return fmt.Errorf("redis: delete: %w", classify(err))
	}
	switch code {
	case resOK:
		return nil
	case resPrecondition:
		return fmt.Errorf("redis: delete: %w", sdk.ErrPrecondition)
	case resNotFound:
		return fmt.Errorf("redis: delete: %w", sdk.ErrNotFound)
	}
	return fmt.Errorf("redis: delete: unexpected script result %d", code)
}
