package store

import (
	"context"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

// Defaults of BlobCacheOptions.
const (
	// DefaultBlobCachePrefix keeps the document cache apart from other users
	// of the same cache store (the shared rate limiter uses "ratelimit/").
	DefaultBlobCachePrefix = "doc-cache/"
	// DefaultBlobCacheMaxEntry: larger blobs are read from the backend every
	// time; caching them would cost the cache's memory more than it saves.
	DefaultBlobCacheMaxEntry = 1 << 20
	// DefaultBlobCacheTimeout bounds one cache operation. A hit on a nearby
	// Redis through the plugin takes well under a millisecond; a cache slower
	// than this is treated as down.
	DefaultBlobCacheTimeout = 500 * time.Millisecond
	// DefaultBlobCachePause is how long a failed cache is left alone before
	// it is tried again, so a dead cache costs one timeout per pause rather
	// than one per request.
	DefaultBlobCachePause = 5 * time.Second
)

// entryVersion is the first byte of every cache entry; an entry of another
// format is a miss.
const entryVersion = 1

// BlobCacheOptions configure a BlobCache.
type BlobCacheOptions struct {
	// Prefix of every key the cache writes; DefaultBlobCachePrefix when
	// empty.
	Prefix string
	// MaxEntryBytes: blobs larger than this are not cached;
	// DefaultBlobCacheMaxEntry when zero.
	MaxEntryBytes int
	// Timeout bounds each operation on the cache store;
	// DefaultBlobCacheTimeout when zero.
	Timeout time.Duration
	// Pause: after an operation fails, the cache is not used for this long;
	// DefaultBlobCachePause when zero.
	Pause time.Duration
	// Logger, optional.
	Logger hclog.Logger
}

// BlobCache is a Cache kept in a BlobStore: in practice the configured cache
// plugin (Redis), shared by every instance, so a document one instance read
// or wrote is a hit for all of them. Each entry is the stored blob (sealed
// when encryption is on) behind a small header recording the ETag it was
// cached under; Get answers only when that ETag is exactly the one asked
// for.
//
// The cache never fails the store: an error is logged at debug level and
// answered as a miss (Get) or dropped (Add, Remove), and the cache is then
// left alone for the configured pause, so a dead or slow cache costs one
// timeout per pause. Entries for superseded ETags are overwritten by the
// next write or read of their document, or expire if the cache store has a
// TTL. Safe for concurrent use.
type BlobCache struct {
	b        sdk.BlobStore
	prefix   string
	maxEntry int
	timeout  time.Duration
	pause    time.Duration
	log      hclog.Logger

	// downUntil is when a failed cache may be tried again (Unix
	// nanoseconds); zero while the cache answers.
	downUntil atomic.Int64

	hits, misses, skipped, failures, oversized atomic.Uint64
}

// BlobCacheStats count a BlobCache's outcomes.
type BlobCacheStats struct {
	// Hits and Misses count Gets; Misses include those answered without
	// asking the cache store (paused) and those that failed.
	Hits, Misses uint64
	// Failures counts operations the cache store failed (other than a
	// missing entry).
	Failures uint64
	// Skipped counts operations not attempted during a pause.
	Skipped uint64
	// Oversized counts blobs not cached for their size.
	Oversized uint64
	// Available is false during a pause after a failure.
	Available bool
}

// NewBlobCache returns a cache over b.
func NewBlobCache(b sdk.BlobStore, o BlobCacheOptions) (*BlobCache, error) {
	if b == nil {
		return nil, errors.New("store: a blob cache needs a blob store")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultBlobCachePrefix
	}
	if o.MaxEntryBytes <= 0 {
		o.MaxEntryBytes = DefaultBlobCacheMaxEntry
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultBlobCacheTimeout
	}
	if o.Pause <= 0 {
		o.Pause = DefaultBlobCachePause
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return &BlobCache{b: b, prefix: o.Prefix, maxEntry: o.MaxEntryBytes, timeout: o.Timeout, pause: o.Pause, log: o.Logger.Named("doc-cache")}, nil
}

// name returns the cache store's key for a blob key, or false when the
// prefixed key would be longer than every store must accept.
func (c *BlobCache) name(key string) (string, bool) {
	if key == "" || len(c.prefix)+len(key) > sdk.MaxKeyLength {
		return "", false
	}
	return c.prefix + key, true
}

// paused reports whether a recent failure keeps the cache out of use.
func (c *BlobCache) paused() bool {
	until := c.downUntil.Load()
	if until != 0 && time.Now().UnixNano() < until {
		c.skipped.Add(1)
		return true
	}
	return false
}

// failed records a failure and pauses the cache; the first failure after a
// working spell is logged as a warning, the rest at debug level.
func (c *BlobCache) failed(op, key string, err error) {
	c.failures.Add(1)
	was := c.downUntil.Swap(time.Now().Add(c.pause).UnixNano())
	c.log.Debug("cache operation failed", "op", op, "key", key, "error", err)
	if was == 0 {
		c.log.Warn("document cache unavailable; reading from storage until it answers", "pause", c.pause, "error", err)
	}
}

// answered ends a pause.
func (c *BlobCache) answered() {
	if c.downUntil.Load() != 0 && c.downUntil.Swap(0) != 0 {
		c.log.Info("document cache available again")
	}
}

// Get implements Cache.
func (c *BlobCache) Get(key, etag string) ([]byte, bool) {
	name, ok := c.name(key)
	if !ok || etag == "" || c.paused() {
		c.misses.Add(1)
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	raw, _, err := c.b.Get(ctx, name)
	switch {
	case errors.Is(err, sdk.ErrNotFound), errors.Is(err, sdk.ErrIntegrity):
		// A damaged entry (say, one piece of it evicted) is a miss, not an
		// outage; the next Add replaces it.
		c.answered()
		c.misses.Add(1)
		return nil, false
	case err != nil:
		c.failed("get", key, err)
		c.misses.Add(1)
		return nil, false
	}
	c.answered()
	cached, data, ok := decodeEntry(raw)
	if !ok {
		c.log.Debug("ignoring an unreadable cache entry", "key", key)
	}
	if !ok || cached != etag {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return data, true
}

// Add implements Cache. Blobs over the size bound are not cached; the entry
// a smaller earlier version left is never served again (its ETag is gone)
// and is replaced or expires.
func (c *BlobCache) Add(key, etag string, data []byte) {
	name, ok := c.name(key)
	if !ok || etag == "" {
		return
	}
	if len(data) > c.maxEntry {
		c.oversized.Add(1)
		return
	}
	if c.paused() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if _, err := c.b.Put(ctx, name, encodeEntry(etag, data), sdk.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		c.failed("put", key, err)
		return
	}
	c.answered()
}

// Remove implements Cache.
func (c *BlobCache) Remove(key string) {
	name, ok := c.name(key)
	if !ok || c.paused() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.b.Delete(ctx, name, sdk.DeleteOptions{}); err != nil && !errors.Is(err, sdk.ErrNotFound) {
		c.failed("delete", key, err)
		return
	}
	c.answered()
}

// Stats reports the cache's outcomes so far.
func (c *BlobCache) Stats() BlobCacheStats {
	until := c.downUntil.Load()
	return BlobCacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Failures: c.failures.Load(),
		Skipped: c.skipped.Load(), Oversized: c.oversized.Load(),
		Available: until == 0 || time.Now().UnixNano() >= until,
	}
}

// encodeEntry lays out a cache entry: the format version, the ETag's length
// as a uvarint, the ETag, then the blob.
func encodeEntry(etag string, data []byte) []byte {
	b := make([]byte, 0, 1+binary.MaxVarintLen64+len(etag)+len(data))
	b = append(b, entryVersion)
	b = binary.AppendUvarint(b, uint64(len(etag)))
	b = append(b, etag...)
	return append(b, data...)
}

// decodeEntry splits an entry into its ETag and blob; ok is false for
// anything encodeEntry did not produce. The blob aliases entry.
func decodeEntry(entry []byte) (etag string, data []byte, ok bool) {
	if len(entry) < 1 || entry[0] != entryVersion {
		return "", nil, false
	}
	n, w := binary.Uvarint(entry[1:])
	if w <= 0 || len(binary.AppendUvarint(nil, n)) != w { // only the shortest form
		return "", nil, false
	}
	rest := entry[1+w:]
	if n == 0 || n > uint64(len(rest)) {
		return "", nil, false
	}
	return string(rest[:n]), rest[n:], true
}

// Tiered is a two-level Cache: Near (an in-memory LRU) answers first, Far (a
// BlobCache shared by every instance) on a near miss, and a far hit is kept
// in Near. Adds and removals go to both.
type Tiered struct {
	Near, Far Cache
}

// Get implements Cache.
func (t Tiered) Get(key, etag string) ([]byte, bool) {
	if data, ok := t.Near.Get(key, etag); ok {
		return data, true
	}
	data, ok := t.Far.Get(key, etag)
	if ok {
		t.Near.Add(key, etag, data)
	}
	return data, ok
}

// Add implements Cache.
func (t Tiered) Add(key, etag string, data []byte) {
	t.Near.Add(key, etag, data)
	t.Far.Add(key, etag, data)
}

// Remove implements Cache.
func (t Tiered) Remove(key string) {
	t.Near.Remove(key)
	t.Far.Remove(key)
}
