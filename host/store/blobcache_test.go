package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vire-dev/vire/backends/redis"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

// redisKinds open the Redis BlobStore that backs a BlobCache: in-process,
// and as vire-server runs it, the built vire-plugin-redis over gRPC. Each
// call is a new handle (a new process for the plugin), as each server
// instance has its own; instances share a cache by sharing addr and prefix.
var redisKinds = []struct {
	name string
	open func(t testing.TB, addr, prefix string) sdk.BlobStore
}{
	{"inprocess", func(t testing.TB, addr, prefix string) sdk.BlobStore {
		t.Helper()
		s := redis.New(nil)
		cfg, err := s.Schema().Complete(sdk.ConfigValue{"url": "redis://" + addr + "/0", "prefix": prefix})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"plugin", func(t testing.TB, addr, prefix string) sdk.BlobStore {
		t.Helper()
		bs, err := startPlugin(t, "redis").BlobStore(context.Background(), sdk.ConfigValue{"url": "redis://" + addr + "/0", "prefix": prefix})
		if err != nil {
			t.Fatal(err)
		}
		return bs
	}},
}

// cacheModes are the two ways a server uses the shared cache: alone, or
// behind its own in-memory LRU.
var cacheModes = []string{"shared", "tiered"}

// sharedInstance is one simulated vire-server using a shared cache.
type sharedInstance struct {
	*Store
	shared *BlobCache
	near   *LRU // nil in "shared" mode
}

// newSharedInstance opens a Store over b whose cache is a BlobCache over c
// (behind an LRU in "tiered" mode). An empty master turns encryption off.
func newSharedInstance(t testing.TB, b, c sdk.BlobStore, master, mode string, o BlobCacheOptions) *sharedInstance {
	t.Helper()
	o.Logger = hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Info})
	bc, err := NewBlobCache(c, o)
	if err != nil {
		t.Fatal(err)
	}
	in := &sharedInstance{shared: bc}
	opts := Options{Backend: b, Cache: bc}
	if mode == "tiered" {
		if in.near, err = NewLRU(100, 4<<20); err != nil {
			t.Fatal(err)
		}
		opts.Cache = Tiered{Near: in.near, Far: bc}
	}
	if master != "" {
		e, err := crypt.New(crypt.Options{Provider: newProvider(t, master), ProviderID: "env", Keyrings: NewKeyrings(b, Layout{})})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		opts.Sealer = e
	}
	if in.Store, err = New(opts); err != nil {
		t.Fatal(err)
	}
	return in
}

// forEachSharedCache runs fn for every Redis kind and cache mode, each
// against a fresh redis-server.
func forEachSharedCache(t *testing.T, fn func(t *testing.T, addr string, open func(t testing.TB, addr, prefix string) sdk.BlobStore, mode string)) {
	for _, k := range redisKinds {
		for _, mode := range cacheModes {
			t.Run(k.name+"/"+mode, func(t *testing.T) {
				if k.name == "plugin" && testing.Short() {
					t.Skip("builds and starts the plugin binary")
				}
				fn(t, testsvc.Redis(t), k.open, mode)
			})
		}
	}
}

func readCounter(t testing.TB, s *Store, name string) (int, error) {
	t.Helper()
	var c counter
	_, err := s.Get(context.Background(), "alice", "counter", name, &c)
	return c.N, err
}

// TestSharedCacheNeverServesStale: two instances share one file backend and
// one Redis cache and take turns writing; every read through either sees the
// latest write, including writes by a third instance without any cache.
func TestSharedCacheNeverServesStale(t *testing.T) {
	forEachSharedCache(t, func(t *testing.T, addr string, open func(testing.TB, string, string) sdk.BlobStore, mode string) {
		ctx := context.Background()
		root, master := t.TempDir(), newMasterKey()
		a := newSharedInstance(t, openFileStore(t, root), open(t, addr, "c:"), master, mode, BlobCacheOptions{})
		b := newSharedInstance(t, openFileStore(t, root), open(t, addr, "c:"), master, mode, BlobCacheOptions{})
		bare := newInstance(t, openFileStore(t, root), master, instanceOpts{})
		inst := []*Store{a.Store, b.Store, bare.Store}

		for i := 1; i <= 30; i++ {
			w := inst[i%3]
			if _, err := w.Put(ctx, "alice", "counter", "c", counter{N: i}, PutOpts{}); err != nil {
				t.Fatal(err)
			}
			for _, r := range inst {
				for range 2 {
					if n, err := readCounter(t, r, "c"); err != nil || n != i {
						t.Fatalf("after write %d by instance %d: read %d, %v", i, i%3, n, err)
					}
				}
			}
		}
		// Whatever a wrote, b's first read after it finds in the shared
		// cache (and the other way round): that is what the cache is for,
		// and without hits the test would prove nothing.
		for name, in := range map[string]*sharedInstance{"a": a, "b": b} {
			if st := in.shared.Stats(); st.Hits < 10 || st.Failures != 0 {
				t.Fatalf("instance %s: shared cache barely used (%+v)", name, st)
			}
		}

		// Deletion and re-creation are seen at once too.
		if err := a.Delete(ctx, "alice", "counter", "c", DeleteOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := readCounter(t, b.Store, "c"); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("read after delete: %v", err)
		}
		if _, err := b.Put(ctx, "alice", "counter", "c", counter{N: 99}, PutOpts{IfNoneMatch: "*"}); err != nil {
			t.Fatal(err)
		}
		if n, err := readCounter(t, a.Store, "c"); err != nil || n != 99 {
			t.Fatalf("read after re-creation: %d, %v", n, err)
		}
		// Updates by both instances lose nothing.
		for i := range 10 {
			s := []*Store{a.Store, b.Store}[i%2]
			if _, err := Update(ctx, s, "alice", "counter", "c", func(c counter, _ bool) (counter, error) {
				c.N++
				return c, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range inst {
			if n, err := readCounter(t, r, "c"); err != nil || n != 109 {
				t.Fatalf("after updates: %d, %v", n, err)
			}
		}
	})
}

// redisContains scans every key of the server and every value of every key
// for needle, and returns where it was found.
func redisContains(t testing.TB, addr string, needle []byte) []string {
	t.Helper()
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	var found []string
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, "*", 500).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			typ, err := c.Type(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			var vals []string
			switch typ {
			case "string":
				v, err := c.Get(ctx, k).Result()
				if err != nil && !errors.Is(err, goredis.Nil) {
					t.Fatal(err)
				}
				vals = []string{v}
			case "hash":
				m, err := c.HGetAll(ctx, k).Result()
				if err != nil {
					t.Fatal(err)
				}
				for f, v := range m {
					vals = append(vals, f, v)
				}
			case "zset":
				vals, err = c.ZRange(ctx, k, 0, -1).Result()
			case "list":
				vals, err = c.LRange(ctx, k, 0, -1).Result()
			case "set":
				vals, err = c.SMembers(ctx, k).Result()
			case "none": // expired between SCAN and TYPE
			default:
				t.Fatalf("key %q has type %s, which this scan does not read", k, typ)
			}
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains([]byte(k), needle) {
				found = append(found, "key "+k)
			}
			for _, v := range vals {
				if bytes.Contains([]byte(v), needle) {
					found = append(found, "value of "+k)
				}
			}
		}
		if cursor = next; cursor == 0 {
			return found
		}
	}
}

// TestSharedCacheHoldsNoPlaintext: with encryption on, nothing in Redis
// holds a document's content after writes and cached reads. A plain store
// writing to the same server shows the scan does find content.
func TestSharedCacheHoldsNoPlaintext(t *testing.T) {
	forEachSharedCache(t, func(t *testing.T, addr string, open func(testing.TB, string, string) sdk.BlobStore, mode string) {
		ctx := context.Background()
		canary := "canary-" + testsvc.RandomToken(8)
		root, master := t.TempDir(), newMasterKey()
		s := newSharedInstance(t, openFileStore(t, root), open(t, addr, "c:"), master, mode, BlobCacheOptions{})
		// Half the documents reach the cache through writes, half through
		// reads of what an instance without a cache wrote.
		bare := newInstance(t, openFileStore(t, root), master, instanceOpts{})
		for i := range 10 {
			w := []*Store{bare.Store, s.Store}[i%2]
			if _, err := w.Put(ctx, "alice", "holding", fmt.Sprint("h", i), holding{Ticker: "BHP.AU", Note: canary}, PutOpts{}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			for range 3 {
				var h holding
				if _, err := s.Get(ctx, "alice", "holding", fmt.Sprint("h", i), &h); err != nil || h.Note != canary {
					t.Fatalf("Get = %+v, %v", h, err)
				}
			}
		}
		if st := s.shared.Stats(); st.Failures != 0 || (mode == "shared" && st.Hits < 20) {
			t.Fatalf("shared cache barely used (%+v)", st)
		}
		for _, name := range []string{"h0", "h1"} {
			if found := redisContains(t, addr, []byte(DefaultBlobCachePrefix+"users/alice/holding/"+name)); len(found) == 0 {
				t.Fatalf("no cache entry for %s in Redis: the scan proves nothing", name)
			}
		}
		if found := redisContains(t, addr, []byte(canary)); len(found) > 0 {
			t.Fatalf("Redis holds a document's plaintext: %v", found)
		}

		// Control: unencrypted documents are visible to the same scan.
		plainCanary := "plain-" + canary
		p := newSharedInstance(t, openFileStore(t, t.TempDir()), open(t, addr, "p:"), "", mode, BlobCacheOptions{})
		if _, err := p.Put(ctx, "alice", "holding", "x", holding{Note: plainCanary}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if found := redisContains(t, addr, []byte(plainCanary)); len(found) == 0 {
			t.Fatal("the scan does not see cached documents")
		}
	})
}

// TestDeadSharedCache: once Redis is gone, reads and writes through both
// instances go on working, from and to the file backend.
func TestDeadSharedCache(t *testing.T) {
	forEachSharedCache(t, func(t *testing.T, addr string, open func(testing.TB, string, string) sdk.BlobStore, mode string) {
		ctx := context.Background()
		root, master := t.TempDir(), newMasterKey()
		a := newSharedInstance(t, openFileStore(t, root), open(t, addr, "c:"), master, mode, BlobCacheOptions{})
		b := newSharedInstance(t, openFileStore(t, root), open(t, addr, "c:"), master, mode, BlobCacheOptions{})
		if _, err := a.Put(ctx, "alice", "counter", "c", counter{N: 1}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if n, err := readCounter(t, b.Store, "c"); err != nil || n != 1 {
			t.Fatalf("read = %d, %v", n, err)
		}
		if st := b.shared.Stats(); st.Hits != 1 {
			t.Fatalf("the cache was not in use before Redis stopped: %+v", st)
		}

		stopRedis(t, addr)
		for i := 2; i <= 12; i++ {
			w, r := a, b
			if i%2 == 1 {
				w, r = b, a
			}
			if _, err := w.Put(ctx, "alice", "counter", "c", counter{N: i}, PutOpts{}); err != nil {
				t.Fatalf("write %d with Redis down: %v", i, err)
			}
			for _, s := range []*sharedInstance{r, w} {
				if n, err := readCounter(t, s.Store, "c"); err != nil || n != i {
					t.Fatalf("read after write %d with Redis down: %d, %v", i, n, err)
				}
			}
		}
		if _, err := Update(ctx, a.Store, "alice", "counter", "c", func(c counter, _ bool) (counter, error) {
			c.N++
			return c, nil
		}); err != nil {
			t.Fatalf("update with Redis down: %v", err)
		}
		if err := b.Delete(ctx, "alice", "counter", "c", DeleteOpts{}); err != nil {
			t.Fatalf("delete with Redis down: %v", err)
		}
		if _, err := readCounter(t, a.Store, "c"); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("read after delete with Redis down: %v", err)
		}
		for name, in := range map[string]*sharedInstance{"a": a, "b": b} {
			if st := in.shared.Stats(); st.Failures == 0 || st.Available {
				t.Fatalf("instance %s never noticed Redis was gone (%+v)", name, st)
			}
		}
	})
}

// stopRedis shuts the server down and waits until it no longer answers.
func stopRedis(t testing.TB, addr string) {
	t.Helper()
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	_ = c.ShutdownNoSave(ctx).Err() // the connection drops before any reply
	deadline := time.Now().Add(30 * time.Second)
	for c.Ping(ctx).Err() == nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server still answers after SHUTDOWN")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSharedCachePauseAndRecovery: a Redis that stops answering (CLIENT
// PAUSE) costs a read one timeout, then the cache is left alone for the
// pause, and used again once Redis answers. Through the plugin, as
// vire-server runs it: the gRPC call honours the operation's deadline.
func TestSharedCachePauseAndRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	ctx := context.Background()
	addr := testsvc.Redis(t)
	open := redisKinds[1].open
	s := newSharedInstance(t, openFileStore(t, t.TempDir()), open(t, addr, "c:"), newMasterKey(), "shared",
		BlobCacheOptions{Timeout: 100 * time.Millisecond, Pause: 200 * time.Millisecond})
	if _, err := s.Put(ctx, "alice", "counter", "c", counter{N: 7}, PutOpts{}); err != nil {
		t.Fatal(err)
	}
	if n, err := readCounter(t, s.Store, "c"); err != nil || n != 7 || s.shared.Stats().Hits != 1 {
		t.Fatalf("read = %d, %v; stats %+v", n, err, s.shared.Stats())
	}

	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	const paused = 1500 * time.Millisecond
	if err := c.ClientPause(ctx, paused).Err(); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(paused)
	for i := 0; time.Now().Before(until.Add(-300 * time.Millisecond)); i++ {
		if n, err := readCounter(t, s.Store, "c"); err != nil || n != 7 {
			t.Fatalf("read %d while Redis is paused: %d, %v", i, n, err)
		}
	}
	st := s.shared.Stats()
	if st.Failures == 0 || st.Skipped == 0 {
		t.Fatalf("a paused Redis was neither noticed nor skipped: %+v", st)
	}

	// Once Redis answers again, so does the cache.
	hits := st.Hits
	deadline := time.Now().Add(30 * time.Second)
	for s.shared.Stats().Hits == hits {
		if time.Now().After(deadline) {
			t.Fatalf("the cache was never used again after Redis resumed: %+v", s.shared.Stats())
		}
		if n, err := readCounter(t, s.Store, "c"); err != nil || n != 7 {
			t.Fatalf("read after the pause: %d, %v", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !s.shared.Stats().Available {
		t.Fatalf("cache still marked unavailable after a hit: %+v", s.shared.Stats())
	}
}

// TestSharedCacheSkipsOversized: blobs over the size bound are never stored
// in the cache, with the default bound and a small one.
func TestSharedCacheSkipsOversized(t *testing.T) {
	forEachSharedCache(t, func(t *testing.T, addr string, open func(testing.TB, string, string) sdk.BlobStore, mode string) {
		for _, tc := range []struct {
			max, small, big int // sizes of the bound and of the payloads
		}{
			{0, 2 << 10, DefaultBlobCacheMaxEntry + 1},
			{8 << 10, 2 << 10, 8 << 10},
		} {
			t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
				ctx := context.Background()
				cs := open(t, addr, testsvc.RandomToken(4)+":")
				s := newSharedInstance(t, openFileStore(t, t.TempDir()), cs, newMasterKey(), mode, BlobCacheOptions{MaxEntryBytes: tc.max})
				cached := func(name string) bool {
					_, err := cs.Stat(ctx, DefaultBlobCachePrefix+"users/alice/note/"+name)
					if err != nil && !errors.Is(err, sdk.ErrNotFound) {
						t.Fatal(err)
					}
					return err == nil
				}
				put := func(name string, size int) {
					if _, err := s.PutBytes(ctx, "alice", "note", name, fmt.Appendf(nil, "%q", strings.Repeat("x", size)), PutOpts{}); err != nil {
						t.Fatal(err)
					}
				}
				get := func(name string, size int) {
					for range 2 {
						data, _, err := s.GetBytes(ctx, "alice", "note", name)
						if err != nil || len(data) != size+2 {
							t.Fatalf("GetBytes %s = %d bytes, %v; want %d", name, len(data), err, size+2)
						}
					}
				}
				put("small", tc.small)
				put("big", tc.big)
				get("small", tc.small)
				get("big", tc.big)
				if !cached("small") {
					t.Fatal("a small document was not cached: the test proves nothing")
				}
				if cached("big") {
					t.Fatal("an oversized document was cached")
				}
				// A document outgrowing the bound is read afresh, never
				// from its smaller cached past.
				put("small", tc.big)
				get("small", tc.big)
				if st := s.shared.Stats(); st.Oversized < 2 || st.Failures != 0 {
					t.Fatalf("stats %+v", st)
				}
			})
		}
	})
}

// TestBlobCacheEntries exercises BlobCache directly against Redis.
func TestBlobCacheEntries(t *testing.T) {
	addr := testsvc.Redis(t)
	bs := redisKinds[0].open(t, addr, "c:")
	c, err := NewBlobCache(bs, BlobCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.Add("k", "e1", []byte("one"))
	c.Add("", "e1", []byte("empty key"))
	c.Add("noetag", "", []byte("no etag"))
	long := strings.Repeat("k", sdk.MaxKeyLength)
	c.Add(long, "e1", []byte("too long"))
	if _, _, err := bs.Get(ctx, DefaultBlobCachePrefix+"noetag"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("an entry without ETag was stored: %v", err)
	}
	if _, err := bs.Put(ctx, DefaultBlobCachePrefix+"junk", []byte{9, 9, 9}, sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, etag, want string
		hit             bool
	}{
		{"k", "e1", "one", true},
		{"k", "e2", "", false},
		{"k", "", "", false},
		{"k", "e", "", false}, // a prefix of the cached ETag
		{"missing", "e1", "", false},
		{"junk", "e1", "", false},
		{long, "e1", "", false},
		{"", "e1", "", false},
	} {
		got, ok := c.Get(tc.key, tc.etag)
		if ok != tc.hit || string(got) != tc.want {
			t.Errorf("Get(%.20q, %q) = %q, %v; want %q, %v", tc.key, tc.etag, got, ok, tc.want, tc.hit)
		}
	}
	c.Add("k", "e2", []byte("two"))
	if _, ok := c.Get("k", "e1"); ok {
		t.Error("a superseded ETag was served")
	}
	c.Remove("k")
	c.Remove("never-added")
	if _, ok := c.Get("k", "e2"); ok {
		t.Error("a removed entry was served")
	}
	if st := c.Stats(); st.Failures != 0 || st.Hits != 1 || !st.Available {
		t.Errorf("stats %+v", st)
	}

	// An entry the cache store reports as damaged is a miss, not an outage.
	dbs := redisKinds[0].open(t, addr, "d:")
	dc, err := NewBlobCache(dbs, BlobCacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dc.Add("k", "e1", []byte("one"))
	rc := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rc.Close()
	chunks, err := rc.Keys(ctx, "d:c:*").Result()
	if err != nil || len(chunks) != 1 {
		t.Fatalf("chunks of the entry: %v, %v", chunks, err)
	}
	if err := rc.Set(ctx, chunks[0], "short", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := dbs.Get(ctx, DefaultBlobCachePrefix+"k"); !errors.Is(err, sdk.ErrIntegrity) {
		t.Fatalf("the damaged entry reads as %v, want ErrIntegrity", err)
	}
	if _, ok := dc.Get("k", "e1"); ok {
		t.Fatal("a damaged entry was served")
	}
	if st := dc.Stats(); st.Failures != 0 || !st.Available {
		t.Fatalf("a damaged entry paused the cache: %+v", st)
	}

	// Tiered: a far hit is kept near, so the next read needs no round trip.
	near, err := NewLRU(10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	tc := Tiered{Near: near, Far: c}
	c.Add("t", "e1", []byte("tiered"))
	for range 3 {
		if got, ok := tc.Get("t", "e1"); !ok || string(got) != "tiered" {
			t.Fatalf("tiered Get = %q, %v", got, ok)
		}
	}
	if ns, fs := near.Stats(), c.Stats(); ns.Hits != 2 || fs.Hits != 2 {
		t.Fatalf("near %+v, far %+v: want 2 near hits after 1 far hit", ns, fs)
	}
	tc.Remove("t")
	if _, ok := tc.Get("t", "e1"); ok {
		t.Fatal("tiered Remove left an entry")
	}
}

func TestEntryEncoding(t *testing.T) {
	for _, tc := range []struct {
		etag string
		data []byte
	}{
		{"e", nil},
		{"\"5f0c\"", []byte("{}")},
		{strings.Repeat("e", 300), bytes.Repeat([]byte{0}, 1000)},
	} {
		etag, data, ok := decodeEntry(encodeEntry(tc.etag, tc.data))
		if !ok || etag != tc.etag || !bytes.Equal(data, tc.data) {
			t.Errorf("round trip of %q: %q, %q, %v", tc.etag, etag, data, ok)
		}
	}
	for _, bad := range [][]byte{nil, {}, {2, 1, 'e'}, {1}, {1, 0}, {1, 5, 'e'}, {1, 0x80}} {
		if _, _, ok := decodeEntry(bad); ok {
			t.Errorf("decodeEntry(%v) accepted", bad)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry("e1", []byte("data")))
	f.Add(encodeEntry(strings.Repeat("e", 200), nil))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, entry []byte) {
		etag, data, ok := decodeEntry(entry)
		if !ok {
			return
		}
		if etag == "" || !bytes.Equal(encodeEntry(etag, data), entry) {
			t.Fatalf("decodeEntry(%q) = %q, %q does not encode back", entry, etag, data)
		}
	})
}

// BenchmarkSharedCacheGet reads one encrypted document through the file
// backend with no cache, the LRU, the shared Redis cache (hit, and miss:
// entries too small to hold the document) and the two tiers.
func BenchmarkSharedCacheGet(b *testing.B) {
	addr := testsvc.Redis(b)
	for _, k := range redisKinds {
		for _, size := range []int{2 << 10, 50 << 10} {
			for _, mode := range []string{"none", "lru", "shared", "shared-miss", "tiered"} {
				if k.name == "plugin" && (mode == "none" || mode == "lru") {
					continue // no Redis involved: measured once
				}
				b.Run(fmt.Sprintf("%s/%dKiB/%s", k.name, size>>10, mode), func(b *testing.B) {
					ctx := context.Background()
					fs := openFileStore(b, b.TempDir())
					var s *Store
					switch mode {
					case "none":
						s = newInstance(b, fs, newMasterKey(), instanceOpts{}).Store
					case "lru":
						s = newInstance(b, fs, newMasterKey(), instanceOpts{cached: true}).Store
					default:
						o, m := BlobCacheOptions{}, mode
						if mode == "shared-miss" {
							o.MaxEntryBytes, m = 1, "shared"
						}
						s = newSharedInstance(b, fs, k.open(b, addr, testsvc.RandomToken(4)+":"), newMasterKey(), m, o).Store
					}
					if _, err := s.Put(ctx, "alice", "portfolio", "main", benchDoc(size), PutOpts{}); err != nil {
						b.Fatal(err)
					}
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						var doc map[string]string
						if _, err := s.Get(ctx, "alice", "portfolio", "main", &doc); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
