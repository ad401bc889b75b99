package store

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Cache holds documents exactly as the backend stores them, keyed by blob
// key and ETag: sealed blobs when encryption is on, so neither an in-memory
// cache nor one shared between instances (Redis) ever holds tenant
// plaintext. The store opens (decrypts) a cached blob on every read, which
// costs a few microseconds for a typical document and proves the blob
// belongs to that tenant and key.
//
// An entry is only ever served for the exact ETag it was stored under, and
// the store learns the current ETag from the backend (Stat) on every read, so
// a cache can never serve a document that another instance has overwritten
// or deleted: "invalidation on write" across instances is done by
// validation, not by messages. Writes through a Store update its cache with
// the new ETag (write-through); entries for superseded ETags are simply never
// hit again and age out. This relies on a backend never issuing the same ETag
// twice for one key with different content; as a second guard the store
// also checks a hit's length against the size the backend reports.
//
// A Cache is an optimisation only: it must never fail an operation, so its
// methods return no errors, and a cache that cannot answer reports a miss.
// Implementations must be safe for concurrent use and must treat the bytes
// they are given and return as immutable. Without encryption (and always for
// the unencrypted market namespace) the cached blobs are plain JSON.
type Cache interface {
	// Get returns the bytes cached for key if they were cached under etag.
	Get(key, etag string) ([]byte, bool)
	// Add caches data as the content of key at etag, replacing whatever was
	// cached for key.
	Add(key, etag string, data []byte)
	// Remove forgets key.
	Remove(key string)
}

// CacheStats counts cache outcomes.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int64
}

// LRU is an in-memory Cache bounded by entry count and total bytes, evicting
// the least recently used entries first. It keeps one entry per blob key.
type LRU struct {
	maxBytes int64

	mu     sync.Mutex
	lru    *simplelru.LRU[string, lruEntry]
	bytes  int64
	hits   atomic.Uint64
	misses atomic.Uint64
}

type lruEntry struct {
	etag string
	data []byte
}

// entryOverhead approximates the bookkeeping bytes of one entry.
const entryOverhead = 96

func (e lruEntry) size(key string) int64 {
	return int64(len(key)+len(e.etag)+len(e.data)) + entryOverhead
}

// NewLRU returns an LRU holding at most maxEntries documents and about
// maxBytes bytes (keys and bookkeeping included).
func NewLRU(maxEntries int, maxBytes int64) (*LRU, error) {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil, errors.New("store: LRU cache needs positive maxEntries and maxBytes")
	}
	c := &LRU{maxBytes: maxBytes}
	l, err := simplelru.NewLRU(maxEntries, func(key string, e lruEntry) { c.bytes -= e.size(key) })
	if err != nil {
		return nil, err
	}
	c.lru = l
	return c, nil
}

// Get implements Cache.
func (c *LRU) Get(key, etag string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(key)
	if !ok || e.etag != etag || etag == "" {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e.data, true
}

// Add implements Cache.
func (c *LRU) Add(key, etag string, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Remove first so the old entry's size is released through the
	// eviction callback (simplelru replaces values silently).
	c.lru.Remove(key)
	e := lruEntry{etag: etag, data: data}
	if etag == "" || e.size(key) > c.maxBytes {
		return
	}
	c.lru.Add(key, e)
	c.bytes += e.size(key)
	for c.bytes > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Remove implements Cache.
func (c *LRU) Remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(key)
}

// Stats reports hits, misses and current size.
func (c *LRU) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: c.lru.Len(), Bytes: c.bytes}
}
