package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// TestMemBlobStoreConformance proves the in-memory backend the other tests
// use is a complete BlobStore.
func TestMemBlobStoreConformance(t *testing.T) {
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore { return newMemBlobStore() },
	})
}

func TestRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		for _, tc := range []struct {
			name   string
			o      instanceOpts
			sealed bool
		}{
			{"encrypted", instanceOpts{}, true},
			{"encrypted+cache", instanceOpts{cached: true}, true},
			{"plain", instanceOpts{plain: true}, false},
			{"plain+cache", instanceOpts{plain: true, cached: true}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				b := be.open(t)
				s := newInstance(t, b, newMasterKey(), tc.o)
				want := holding{Ticker: "BHP.AU", Units: 1234.5, Note: "secret strategy note"}
				etag, err := s.Put(ctx, "alice", "holding", "bhp", want, PutOpts{})
				if err != nil || etag == "" {
					t.Fatalf("Put = %q, %v", etag, err)
				}
				var got holding
				getTag, err := s.Get(ctx, "alice", "holding", "bhp", &got)
				if err != nil || got != want {
					t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
				}
				if getTag != etag {
					t.Fatalf("Get ETag %q, Put returned %q", getTag, etag)
				}
				raw := rawBlob(t, b, "users/alice/holding/bhp")
				if tc.sealed {
					if bytes.Contains(raw, []byte("secret strategy note")) || !bytes.HasPrefix(raw, []byte(crypt.Magic)) {
						t.Fatalf("stored blob is not sealed: %q", raw)
					}
				} else if !bytes.Contains(raw, []byte(`"ticker":"BHP.AU"`)) {
					t.Fatalf("plain store wrote %q", raw)
				}
				data, tag, err := s.GetBytes(ctx, "alice", "holding", "bhp")
				if err != nil || tag != etag || !bytes.Contains(data, []byte("BHP.AU")) {
					t.Fatalf("GetBytes = %q, %q, %v", data, tag, err)
				}
				data[0] = 'X' // callers own what GetBytes returns
				if _, err := s.Get(ctx, "alice", "holding", "bhp", &got); err != nil || got != want {
					t.Fatalf("modifying GetBytes' result changed the stored document: %+v, %v", got, err)
				}
				if _, err := s.Get(ctx, "alice", "holding", "nope", &got); !errors.Is(err, sdk.ErrNotFound) {
					t.Fatalf("missing document: %v", err)
				}
				if err := s.Delete(ctx, "alice", "holding", "bhp", DeleteOpts{}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Get(ctx, "alice", "holding", "bhp", &got); !errors.Is(err, sdk.ErrNotFound) {
					t.Fatalf("deleted document: %v", err)
				}
				if err := s.Delete(ctx, "alice", "holding", "bhp", DeleteOpts{}); !errors.Is(err, sdk.ErrNotFound) {
					t.Fatalf("second delete: %v", err)
				}
			})
		}
	})
}

func TestInvalidArgumentsNeverReachTheBackend(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{})
	for _, c := range [][3]string{
		{"Alice", "holding", "x"}, {"alice", "market", "x"}, {"alice", "holding", "../bob/holding/x"},
		{"../users/bob", "holding", "x"}, {"alice", "", "x"}, {"alice", "holding", ""},
	} {
		if _, err := s.Put(ctx, c[0], c[1], c[2], holding{}, PutOpts{}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Put%q: %v", c, err)
		}
	}
	if _, err := s.PutBytes(ctx, "alice", "holding", "x", []byte("{not json"), PutOpts{}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("PutBytes of invalid JSON: %v", err)
	}
	if _, err := s.Put(ctx, "alice", "holding", "x", holding{}, PutOpts{IfNoneMatch: `"abc"`}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("IfNoneMatch other than *: %v", err)
	}
	if keys := allKeys(t, b, ""); len(keys) != 0 {
		t.Fatalf("rejected writes reached the backend: %q", keys)
	}
}

func TestTenantIsolation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{cached: true})
		for _, tenant := range []string{"alice", "bob", "alice2"} {
			for i := range 3 {
				v := holding{Ticker: fmt.Sprintf("%s-%d", tenant, i)}
				if _, err := s.Put(ctx, tenant, "holding", fmt.Sprint("h", i), v, PutOpts{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, tenant := range []string{"alice", "bob", "alice2"} {
			p, err := s.List(ctx, tenant, "holding", ListOpts{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, it := range p.Items {
				names = append(names, it.Name)
				var h holding
				if _, err := s.Get(ctx, tenant, "holding", it.Name, &h); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(h.Ticker, tenant+"-") {
					t.Fatalf("tenant %s reads %q", tenant, h.Ticker)
				}
			}
			if !slices.Equal(names, []string{"h0", "h1", "h2"}) {
				t.Fatalf("tenant %s lists %q", tenant, names)
			}
		}
	})
}

// TestMovedBlobsFailToOpen copies sealed blobs to another tenant and to
// another name at the storage level: neither may open.
func TestMovedBlobsFailToOpen(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{})
		if _, err := s.Put(ctx, "alice", "portfolio", "main", holding{Ticker: "A"}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(ctx, "bob", "portfolio", "main", holding{Ticker: "B"}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		alice := rawBlob(t, b, "users/alice/portfolio/main")
		for _, tc := range []struct{ tenant, kind, name string }{
			{"bob", "portfolio", "main"},   // over bob's own document
			{"bob", "portfolio", "stolen"}, // as a new document of bob's
			{"alice", "portfolio", "renamed"},
			{"alice", "strategy", "main"},
		} {
			key, _ := s.Layout().DocKey(tc.tenant, tc.kind, tc.name)
			putRaw(t, b, key, alice)
			var h holding
			_, err := s.Get(ctx, tc.tenant, tc.kind, tc.name, &h)
			if !errors.Is(err, crypt.ErrAuthFailed) || !errors.Is(err, sdk.ErrIntegrity) {
				t.Fatalf("%v: err = %v, want the wrong-tenant-or-key error", tc, err)
			}
			if !strings.Contains(err.Error(), "wrong tenant or key, or the blob was modified") {
				t.Fatalf("message %q", err)
			}
			if h != (holding{}) {
				t.Fatal("data decoded despite the error")
			}
		}
	})
}

func TestDamagedBlobs(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{})
	if _, err := s.Put(ctx, "alice", "portfolio", "main", holding{Ticker: "A", Units: 3}, PutOpts{}); err != nil {
		t.Fatal(err)
	}
	good := rawBlob(t, b, "users/alice/portfolio/main")
	flip := func(i int) []byte { c := bytes.Clone(good); c[i] ^= 0x40; return c }
	for _, tc := range []struct {
		name string
		blob []byte
		want error
	}{
		{"truncated header", good[:10], crypt.ErrTruncated},
		{"truncated body", good[:len(good)-3], crypt.ErrAuthFailed},
		{"tampered ciphertext", flip(len(good) - 20), crypt.ErrAuthFailed},
		{"tampered DEK version", flip(12), crypt.ErrUnknownDEK},
		{"future format", func() []byte { c := bytes.Clone(good); c[4] = 9; return c }(), crypt.ErrUnknownFormat},
		{"plaintext", []byte(`{"ticker":"EVIL"}`), crypt.ErrNotEncrypted},
		{"empty", []byte{}, crypt.ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			putRaw(t, b, "users/alice/portfolio/main", tc.blob)
			var h holding
			_, err := s.Get(ctx, "alice", "portfolio", "main", &h)
			if !errors.Is(err, tc.want) || !errors.Is(err, sdk.ErrIntegrity) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if h != (holding{}) {
				t.Fatal("data decoded despite the error")
			}
		})
	}
}

func TestStaleIfMatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		master := newMasterKey()
		s1 := newInstance(t, b, master, instanceOpts{cached: true})
		s2 := newInstance(t, be.reopen(t, b), master, instanceOpts{cached: true})
		e1, err := s1.Put(ctx, "alice", "plan", "p", counter{1}, PutOpts{IfNoneMatch: "*"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s2.Put(ctx, "alice", "plan", "p", counter{9}, PutOpts{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
			t.Fatalf("second create: %v", err)
		}
		e2, err := s2.Put(ctx, "alice", "plan", "p", counter{2}, PutOpts{IfMatch: e1})
		if err != nil || e2 == e1 {
			t.Fatalf("Put IfMatch current = %q, %v", e2, err)
		}
		if _, err := s1.Put(ctx, "alice", "plan", "p", counter{3}, PutOpts{IfMatch: e1}); !errors.Is(err, sdk.ErrPrecondition) {
			t.Fatalf("Put with a stale ETag: %v", err)
		}
		if err := s1.Delete(ctx, "alice", "plan", "p", DeleteOpts{IfMatch: e1}); !errors.Is(err, sdk.ErrPrecondition) {
			t.Fatalf("Delete with a stale ETag: %v", err)
		}
		var c counter
		if tag, err := s1.Get(ctx, "alice", "plan", "p", &c); err != nil || c.N != 2 || tag != e2 {
			t.Fatalf("after the lost writes: %+v %q %v", c, tag, err)
		}
		if err := s1.Delete(ctx, "alice", "plan", "p", DeleteOpts{IfMatch: e2}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentUpdatesLoseNothing runs 16 goroutines, spread over two
// instances sharing the backend, each incrementing one counter.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		master := newMasterKey()
		instances := []*instance{
			newInstance(t, b, master, instanceOpts{cached: true}),
			newInstance(t, be.reopen(t, b), master, instanceOpts{}),
		}
		for _, in := range instances {
			in.maxAttempts = 1000 // contention is the point here
		}
		const goroutines, each = 16, 25
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				s := instances[g%len(instances)].Store
				for range each {
					_, err := Update(ctx, s, "alice", "counter", "c", func(c counter, _ bool) (counter, error) {
						c.N++
						return c, nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, in := range instances {
			var c counter
			if _, err := in.Get(ctx, "alice", "counter", "c", &c); err != nil || c.N != goroutines*each {
				t.Fatalf("counter = %d, %v; want %d", c.N, err, goroutines*each)
			}
		}
	})
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	master := newMasterKey()
	s := newInstance(t, b, master, instanceOpts{})
	other := newInstance(t, b, master, instanceOpts{})

	// Creates when missing.
	tag, err := Update(ctx, s.Store, "alice", "counter", "c", func(c counter, exists bool) (counter, error) {
		if exists {
			t.Error("exists for a new document")
		}
		return counter{N: 10}, nil
	})
	if err != nil || tag == "" {
		t.Fatal(tag, err)
	}
	// ErrNoChange writes nothing.
	same, err := Update(ctx, s.Store, "alice", "counter", "c", func(c counter, _ bool) (counter, error) {
		return c, ErrNoChange
	})
	if err != nil || same != tag {
		t.Fatalf("ErrNoChange: %q, %v; want the unchanged ETag %q", same, err, tag)
	}
	// fn's error is returned.
	boom := errors.New("boom")
	if _, err := Update(ctx, s.Store, "alice", "counter", "c", func(c counter, _ bool) (counter, error) {
		return c, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
	// A writer that always gets in first exhausts the attempts, and the
	// error says so and wraps ErrPrecondition.
	s.maxAttempts = 3
	calls := 0
	_, err = s.UpdateBytes(ctx, "alice", "counter", "c", func(cur []byte, _ bool) ([]byte, error) {
		calls++
		if _, err := other.Put(ctx, "alice", "counter", "c", counter{N: 100 + calls}, PutOpts{}); err != nil {
			return nil, err
		}
		return []byte(`{"n":-1}`), nil
	})
	if !errors.Is(err, sdk.ErrPrecondition) || calls != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("after %d calls: %v", calls, err)
	}
	// Invalid JSON from fn is refused.
	if _, err := s.UpdateBytes(ctx, "alice", "counter", "c", func([]byte, bool) ([]byte, error) {
		return []byte("{"), nil
	}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("invalid JSON: %v", err)
	}
}

// TestCacheNeverServesStale writes through one instance and reads through
// another that has the document cached.
func TestCacheNeverServesStale(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		master := newMasterKey()
		a := newInstance(t, b, master, instanceOpts{cached: true})
		w := newInstance(t, be.reopen(t, b), master, instanceOpts{cached: true})
		get := func() (counter, error) {
			var c counter
			_, err := a.Get(ctx, "alice", "counter", "c", &c)
			return c, err
		}
		for i := 1; i <= 20; i++ {
			if _, err := w.Put(ctx, "alice", "counter", "c", counter{N: i}, PutOpts{}); err != nil {
				t.Fatal(err)
			}
			for range 3 { // the first read fills a's cache, the others hit it
				c, err := get()
				if err != nil || c.N != i {
					t.Fatalf("after write %d: read %d, %v", i, c.N, err)
				}
			}
		}
		st := a.cache.Stats()
		if st.Hits < 40 {
			t.Fatalf("cache was barely used (%+v): the test proves nothing", st)
		}
		if err := w.Delete(ctx, "alice", "counter", "c", DeleteOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := get(); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("read after another instance's delete: %v", err)
		}
		// Same bytes rewritten: a new ETag, still consistent.
		if _, err := w.Put(ctx, "alice", "counter", "c", counter{N: 5}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if c, err := get(); err != nil || c.N != 5 {
			t.Fatalf("read after re-create: %d, %v", c.N, err)
		}
	})
}

func TestListPagination(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{})
	var want []string
	for i := range 25 {
		n := fmt.Sprintf("w%02d", i)
		want = append(want, n)
		if _, err := s.Put(ctx, "alice", "watchlist", n, counter{i}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
	}
	// Documents of other kinds and tenants and a nested foreign key stay out.
	s.Put(ctx, "alice", "watchlists", "x", counter{}, PutOpts{})
	s.Put(ctx, "bob", "watchlist", "x", counter{}, PutOpts{})
	putRaw(t, b, "users/alice/watchlist/nested/key", []byte("{}"))
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.List(ctx, "alice", "watchlist", ListOpts{Cursor: cursor, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if it.ETag == "" || it.Modified.IsZero() || it.Size == 0 {
				t.Fatalf("entry without meta: %+v", it)
			}
			got = append(got, it.Name)
		}
		if p.NextCursor == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		cursor = p.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
}

func TestMarketIsNeverEncrypted(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{cached: true})
	m := s.Market()
	tag, err := m.Put(ctx, "price", "BHP.AU", holding{Ticker: "BHP.AU", Units: 45.1}, PutOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if raw := rawBlob(t, b, "market/price/BHP.AU"); !bytes.HasPrefix(raw, []byte(`{"ticker":"BHP.AU"`)) {
		t.Fatalf("market blob stored as %q", raw)
	}
	var h holding
	if got, err := m.Get(ctx, "price", "BHP.AU", &h); err != nil || got != tag || h.Units != 45.1 {
		t.Fatalf("market Get = %+v %q %v", h, got, err)
	}
	if _, err := m.UpdateBytes(ctx, "price", "BHP.AU", func(cur []byte, exists bool) ([]byte, error) {
		return bytes.Replace(cur, []byte("45.1"), []byte("46"), 1), nil
	}); err != nil {
		t.Fatal(err)
	}
	p, err := m.List(ctx, "price", ListOpts{})
	if err != nil || len(p.Items) != 1 || p.Items[0].Name != "BHP.AU" {
		t.Fatalf("market List = %+v, %v", p, err)
	}
	if err := m.Delete(ctx, "price", "BHP.AU", DeleteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Put(ctx, "price", "../../users/alice/x", h, PutOpts{}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("market name escaping its prefix: %v", err)
	}
}

func TestPersonalLayout(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{layout: Layout{Personal: true}})
	if _, err := s.Put(ctx, DefaultPersonalTenant, "portfolio", "main", holding{Ticker: "A"}, PutOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Market().Put(ctx, "price", "A", holding{Ticker: "A"}, PutOpts{}); err != nil {
		t.Fatal(err)
	}
	if keys := allKeys(t, b, ""); !slices.Equal(keys, []string{"_keyring", "market/price/A", "portfolio/main"}) {
		t.Fatalf("personal store keys: %q", keys)
	}
	if _, err := s.Put(ctx, "alice", "portfolio", "main", holding{}, PutOpts{}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("personal store accepted tenant alice: %v", err)
	}
	// Walking the personal tenant skips the keyring and the market.
	var buf bytes.Buffer
	n, err := s.Export(ctx, DefaultPersonalTenant, &buf)
	if err != nil || n != 1 {
		t.Fatalf("Export = %d, %v\n%s", n, err, buf.String())
	}
}

func TestKeyringsAreConditional(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	k := NewKeyrings(b, Layout{})
	rev, err := k.SaveKeyring(ctx, "alice", []byte(`{"v":1}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.SaveKeyring(ctx, "alice", []byte(`{"v":"fork"}`), ""); !errors.Is(err, sdk.ErrPrecondition) {
		t.Fatalf("second create: %v", err)
	}
	rev2, err := k.SaveKeyring(ctx, "alice", []byte(`{"v":2}`), rev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.SaveKeyring(ctx, "alice", []byte(`{"v":"fork"}`), rev); !errors.Is(err, sdk.ErrPrecondition) {
		t.Fatalf("update from a stale revision: %v", err)
	}
	data, got, err := k.LoadKeyring(ctx, "alice")
	if err != nil || got != rev2 || string(data) != `{"v":2}` {
		t.Fatalf("LoadKeyring = %s %q %v", data, got, err)
	}
	if _, _, err := k.LoadKeyring(ctx, "bob"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("missing keyring: %v", err)
	}
	if _, _, err := k.LoadKeyring(ctx, "../x"); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("bad tenant: %v", err)
	}
	if raw := rawBlob(t, b, "users/alice/_keyring"); string(raw) != `{"v":2}` {
		t.Fatalf("keyring stored as %q", raw)
	}
}
