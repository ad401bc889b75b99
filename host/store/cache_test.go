package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/sdk"
)

func TestLRUServesOnlyMatchingETag(t *testing.T) {
	c, err := NewLRU(10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	c.Add("k", `"1"`, []byte("one"))
	if got, ok := c.Get("k", `"1"`); !ok || string(got) != "one" {
		t.Fatalf("Get at the cached ETag = %q, %v", got, ok)
	}
	if _, ok := c.Get("k", `"2"`); ok {
		t.Fatal("served an entry for another ETag")
	}
	c.Add("k", `"2"`, []byte("two"))
	if _, ok := c.Get("k", `"1"`); ok {
		t.Fatal("superseded ETag still served")
	}
	c.Remove("k")
	if _, ok := c.Get("k", `"2"`); ok {
		t.Fatal("removed entry served")
	}
	c.Add("e", "", []byte("no etag"))
	if _, ok := c.Get("e", ""); ok {
		t.Fatal("an entry without ETag was cached")
	}
}

func TestLRUBounds(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		c, _ := NewLRU(3, 1<<20)
		for i := range 5 {
			c.Add(fmt.Sprint(i), "e", []byte("x"))
		}
		if st := c.Stats(); st.Entries != 3 {
			t.Fatalf("%d entries, limit 3", st.Entries)
		}
		if _, ok := c.Get("0", "e"); ok {
			t.Fatal("oldest entry not evicted")
		}
		if _, ok := c.Get("4", "e"); !ok {
			t.Fatal("newest entry evicted")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		const max = 4096
		c, _ := NewLRU(1000, max)
		for i := range 50 {
			c.Add(fmt.Sprint("k", i), "e", bytes.Repeat([]byte{'x'}, 500))
			if st := c.Stats(); st.Bytes > max {
				t.Fatalf("cache holds %d bytes, limit %d", st.Bytes, max)
			}
		}
		st := c.Stats()
		if st.Entries == 0 || st.Entries > max/500 {
			t.Fatalf("%d entries of 500 bytes in %d bytes", st.Entries, max)
		}
		// Replacing an entry releases the old size.
		before := c.Stats().Bytes
		c.Add("k49", "e2", bytes.Repeat([]byte{'x'}, 10))
		if after := c.Stats().Bytes; after >= before {
			t.Fatalf("replacing 500 bytes with 10 changed the size from %d to %d", before, after)
		}
		// An entry larger than the whole cache is not kept, and drops the
		// key's old entry.
		c.Add("k48", "big", bytes.Repeat([]byte{'x'}, max+1))
		if _, ok := c.Get("k48", "big"); ok {
			t.Fatal("oversized entry cached")
		}
		if _, ok := c.Get("k48", "e"); ok {
			t.Fatal("old entry of a key survived an uncacheable write")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		c, _ := NewLRU(50, 10000)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 500 {
					k := fmt.Sprint((g*7 + i) % 80)
					c.Add(k, "e", bytes.Repeat([]byte{byte(i)}, i%300))
					c.Get(k, "e")
					if i%13 == 0 {
						c.Remove(k)
					}
				}
			})
		}
		wg.Wait()
		if st := c.Stats(); st.Bytes > 10000 || st.Entries > 50 || st.Bytes < 0 {
			t.Fatalf("bounds broken under concurrency: %+v", st)
		}
	})
	if _, err := NewLRU(0, 1); err == nil {
		t.Fatal("NewLRU(0, 1) accepted")
	}
}

// TestLRUHoldsSealedBlobs: with encryption on, the cache holds the blobs as
// stored, never plaintext, and a hit is opened (a blob swapped in for
// another key fails to open instead of being served).
func TestLRUHoldsSealedBlobs(t *testing.T) {
	const canary = "canary-7f3e-holding-note"
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{cached: true})
	for i := range 5 {
		name := fmt.Sprint("h", i)
		if _, err := s.Put(ctx, "alice", "holding", name, holding{Ticker: "BHP.AU", Note: canary}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			var h holding
			if _, err := s.Get(ctx, "alice", "holding", name, &h); err != nil || h.Note != canary {
				t.Fatalf("Get %s = %+v, %v", name, h, err)
			}
		}
	}
	st := s.cache.Stats()
	if st.Entries != 5 || st.Hits < 10 {
		t.Fatalf("cache barely used (%+v): the test proves nothing", st)
	}
	s.cache.mu.Lock()
	for _, key := range s.cache.lru.Keys() {
		e, _ := s.cache.lru.Peek(key)
		if bytes.Contains(e.data, []byte(canary)) || !bytes.HasPrefix(e.data, []byte(crypt.Magic)) {
			t.Errorf("cache entry %s holds plaintext: %q", key, e.data)
		}
	}
	s.cache.mu.Unlock()

	// The cache answers for h0 with h1's sealed blob at h0's current ETag:
	// the store must refuse it, not serve h1's content as h0.
	m, err := b.Stat(ctx, "users/alice/holding/h0")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := b.Get(ctx, "users/alice/holding/h1")
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(other)) != m.Size {
		t.Fatalf("test needs blobs of equal size: %d, %d", len(other), m.Size)
	}
	s.cache.Add("users/alice/holding/h0", m.ETag, other)
	var h holding
	if _, err := s.Get(ctx, "alice", "holding", "h0", &h); !errors.Is(err, sdk.ErrIntegrity) {
		t.Fatalf("a cached blob of another key was served: %+v, %v", h, err)
	}
}
