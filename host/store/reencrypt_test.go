package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/sdk"
)

// dekVersions returns the DEK version of every sealed document blob under
// prefix.
func dekVersions(t *testing.T, b sdk.BlobStore, prefix string) map[string]uint32 {
	t.Helper()
	out := map[string]uint32{}
	for _, k := range allKeys(t, b, prefix) {
		if strings.HasSuffix(k, "/"+keyringName) {
			continue
		}
		h, err := crypt.ParseHeader(rawBlob(t, b, k))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = h.DEKVersion
	}
	return out
}

func putDocs(t *testing.T, s *instance, tenant string, n int) {
	t.Helper()
	for i := range n {
		kind := []string{"portfolio", "strategy", "plan"}[i%3]
		if _, err := s.Put(context.Background(), tenant, kind, fmt.Sprintf("d%02d", i), counter{N: i}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
	}
}

func onlyVersion(t *testing.T, vs map[string]uint32, want uint32) {
	t.Helper()
	for k, v := range vs {
		if v != want {
			t.Fatalf("%s is sealed with DEK version %d, want %d", k, v, want)
		}
	}
}

func TestReEncryptAfterRotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		master := newMasterKey()
		s := newInstance(t, b, master, instanceOpts{cached: true})
		s.pageSize = 7
		putDocs(t, s, "alice", 30)
		putDocs(t, s, "bob", 5)
		bobBefore := map[string][]byte{}
		for _, k := range allKeys(t, b, "users/bob/") {
			bobBefore[k] = rawBlob(t, b, k)
		}
		onlyVersion(t, dekVersions(t, b, "users/alice/"), 1)

		if v, err := s.env.RotateDEK(ctx, "alice"); err != nil || v != 2 {
			t.Fatalf("RotateDEK = %d, %v", v, err)
		}
		var calls []ReEncryptProgress
		p, err := s.ReEncrypt(ctx, "alice", "", func(p ReEncryptProgress) { calls = append(calls, p) })
		if err != nil {
			t.Fatal(err)
		}
		if p.Rewritten != 30 || p.Scanned != 30 || p.Current != 0 || p.Failed != 0 || p.Cursor != "" || p.DEKVersion != 2 {
			t.Fatalf("progress %+v", p)
		}
		if len(calls) < 30/7 {
			t.Fatalf("progress reported %d times for 30 documents in pages of 7", len(calls))
		}
		onlyVersion(t, dekVersions(t, b, "users/alice/"), 2)
		for k, raw := range bobBefore {
			if !bytes.Equal(rawBlob(t, b, k), raw) {
				t.Fatalf("re-encrypting alice touched %s", k)
			}
		}
		// A fresh instance (no caches) reads every document.
		fresh := newInstance(t, b, master, instanceOpts{})
		for i := range 30 {
			var c counter
			kind := []string{"portfolio", "strategy", "plan"}[i%3]
			if _, err := fresh.Get(ctx, "alice", kind, fmt.Sprintf("d%02d", i), &c); err != nil || c.N != i {
				t.Fatalf("doc %d after re-encryption: %+v, %v", i, c, err)
			}
		}
		// A second run finds nothing to do.
		p, err = s.ReEncrypt(ctx, "alice", "", nil)
		if err != nil || p.Current != 30 || p.Rewritten != 0 {
			t.Fatalf("second run: %+v, %v", p, err)
		}
	})
}

func TestReEncryptResumes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{})
		s.pageSize = 5
		putDocs(t, s, "alice", 23)
		if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		cctx, cancel := context.WithCancel(ctx)
		first, err := s.ReEncrypt(cctx, "alice", "", func(ReEncryptProgress) { cancel() })
		if !errors.Is(err, context.Canceled) || first.Cursor == "" || first.Rewritten == 0 {
			t.Fatalf("interrupted run: %+v, %v", first, err)
		}
		vs := dekVersions(t, b, "users/alice/")
		old := 0
		for _, v := range vs {
			if v == 1 {
				old++
			}
		}
		if old == 0 || old != 23-first.Rewritten {
			t.Fatalf("after the interrupted run %d documents are on the old key, progress says %d rewritten", old, first.Rewritten)
		}
		second, err := s.ReEncrypt(ctx, "alice", first.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first.Rewritten+second.Rewritten != 23 || second.Current != 0 {
			t.Fatalf("resumed run rewrote %d after %d (current %d), want 23 in total", second.Rewritten, first.Rewritten, second.Current)
		}
		onlyVersion(t, dekVersions(t, b, "users/alice/"), 2)
	})
}

// TestReEncryptWithConcurrentWriters updates documents while they are being
// re-encrypted: no update may be lost and every document must end on the
// newest key.
func TestReEncryptWithConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{})
	s.pageSize = 3
	s.maxAttempts = 1000
	putDocs(t, s, "alice", 12)
	if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	const rounds = 30
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for range rounds {
				kind := []string{"portfolio", "strategy", "plan"}[w%3]
				if _, err := Update(ctx, s.Store, "alice", kind, fmt.Sprintf("d%02d", w), func(c counter, _ bool) (counter, error) {
					c.N += 1000
					return c, nil
				}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	p, err := s.ReEncrypt(ctx, "alice", "", nil)
	wg.Wait()
	if err != nil || p.Failed != 0 {
		t.Fatalf("%+v, %v", p, err)
	}
	t.Logf("outcomes with concurrent writers: %+v", p)
	if p.Rewritten+p.Current+p.Raced != 12 {
		t.Fatalf("outcomes do not add up: %+v", p)
	}
	onlyVersion(t, dekVersions(t, b, "users/alice/"), 2)
	for w := range 4 {
		var c counter
		kind := []string{"portfolio", "strategy", "plan"}[w%3]
		if _, err := s.Get(ctx, "alice", kind, fmt.Sprintf("d%02d", w), &c); err != nil || c.N != w+1000*rounds {
			t.Fatalf("doc %d = %d, %v; want %d", w, c.N, err, w+1000*rounds)
		}
	}
}

func TestReEncryptReportsDamagedDocuments(t *testing.T) {
	ctx := context.Background()
	b := newMemBlobStore()
	s := newInstance(t, b, newMasterKey(), instanceOpts{})
	putDocs(t, s, "alice", 6)
	putRaw(t, b, "users/alice/portfolio/d00", []byte(`{"n":"planted"}`))
	if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	p, err := s.ReEncrypt(ctx, "alice", "", nil)
	if !errors.Is(err, crypt.ErrNotEncrypted) || p.Failed != 1 || p.Rewritten != 5 {
		t.Fatalf("%+v, %v", p, err)
	}
	plain := newInstance(t, b, "", instanceOpts{plain: true})
	if _, err := plain.ReEncrypt(ctx, "alice", "", nil); !errors.Is(err, sdk.ErrUnsupported) {
		t.Fatalf("ReEncrypt without encryption: %v", err)
	}
	// A tenant that never stored anything has nothing to re-encrypt.
	if p, err := s.ReEncrypt(ctx, "nobody", "", nil); err != nil || p.Scanned != 0 {
		t.Fatalf("empty tenant: %+v, %v", p, err)
	}
}

// TestRewrapTouchesNoDataBlob rotates the key provider's master key and
// re-wraps: the keyring changes, no document blob changes by a byte, and the
// old master key is no longer needed.
func TestRewrapTouchesNoDataBlob(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		k1, k2 := newMasterKey(), newMasterKey()
		s := newInstance(t, b, k1, instanceOpts{})
		putDocs(t, s, "alice", 10)
		if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		putDocs(t, s, "alice", 4) // d00..d03 now on DEK 2, the rest on DEK 1
		before := map[string][]byte{}
		for _, k := range allKeys(t, b, "") {
			before[k] = rawBlob(t, b, k)
		}

		rotated := newInstance(t, b, "", instanceOpts{provider: newProvider(t, k2, k1)})
		info, err := rotated.env.Rewrap(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range info.DEKs {
			if d.KeyVersion != 2 {
				t.Fatalf("DEK %d wrapped under key version %d after rewrap", d.Version, d.KeyVersion)
			}
		}
		after := map[string][]byte{}
		for _, k := range allKeys(t, b, "") {
			after[k] = rawBlob(t, b, k)
		}
		if !slices.Equal(slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after))) {
			t.Fatal("rewrap added or removed blobs")
		}
		for k, raw := range before {
			changed := !bytes.Equal(after[k], raw)
			if isKeyring := strings.HasSuffix(k, "/"+keyringName); changed != isKeyring {
				t.Fatalf("%s: changed=%v (only the keyring may change, and it must)", k, changed)
			}
		}
		// Version 1's master key destroyed: everything still opens.
		destroyed := newInstance(t, b, "", instanceOpts{provider: newProvider(t, k2, newMasterKey())})
		for i := range 10 {
			var c counter
			kind := []string{"portfolio", "strategy", "plan"}[i%3]
			if _, err := destroyed.Get(ctx, "alice", kind, fmt.Sprintf("d%02d", i), &c); err != nil || c.N != i {
				t.Fatalf("doc %d: %+v, %v", i, c, err)
			}
		}
	})
}

func TestHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{cached: true})
		for i := 1; i <= 3; i++ {
			if _, err := s.Put(ctx, "alice", "plan", "p", counter{N: i}, PutOpts{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReEncrypt(ctx, "alice", "", nil); err != nil {
			t.Fatal(err)
		}
		vs, err := s.History(ctx, "alice", "plan", "p")
		if err != nil {
			t.Fatal(err)
		}
		// Newest first: the re-encrypted copy of 3 (DEK 2), then 3, 2, 1
		// (DEK 1) — a backend may leave the current version out.
		var got []int
		for _, v := range vs {
			var c counter
			if _, err := s.GetVersion(ctx, "alice", "plan", "p", v.ID, &c); err != nil {
				t.Fatalf("version %s: %v", v.ID, err)
			}
			got = append(got, c.N)
		}
		if !slices.Equal(got, []int{3, 3, 2, 1}) && !slices.Equal(got, []int{3, 2, 1}) {
			t.Fatalf("history holds %v, want [3 3 2 1] newest first", got)
		}
		// Another tenant's version id does not leak across.
		if _, _, err := s.GetVersionBytes(ctx, "bob", "plan", "p", vs[0].ID); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("bob reading alice's version: %v", err)
		}
		// Without a versioned backend history is unsupported.
		nv := newInstance(t, struct{ sdk.BlobStore }{b}, "", instanceOpts{plain: true})
		if _, err := nv.History(ctx, "alice", "plan", "p"); !errors.Is(err, sdk.ErrUnsupported) {
			t.Fatalf("History on an unversioned backend: %v", err)
		}
	})
}

// interleaved is a real backend with a hook that runs just before a
// conditional Put, to force a concurrent write into the window between
// ReEncrypt's read and its write.
type interleaved struct {
	sdk.BlobStore
	before func(key string)
}

func (i *interleaved) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	if o.IfMatch != "" && i.before != nil {
		i.before(key)
	}
	return i.BlobStore.Put(ctx, key, data, o)
}

func TestReEncryptNeverClobbersAConcurrentWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		// staleWriter: the other instance has not seen the rotation yet and
		// still seals with DEK 1.
		staleWriter   bool
		wantRaced     int
		wantRewritten int
	}{
		{"writer on the new key", false, 1, 3},
		// After the conflict d00 is read again and still needs rewriting
		// (the stale write sealed it with DEK 1); the writer's own "warm"
		// document is a fifth one on DEK 1.
		{"writer on the old key", true, 0, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			mem := newMemBlobStore()
			hooked := &interleaved{BlobStore: mem}
			master := newMasterKey()
			s := newInstance(t, hooked, master, instanceOpts{})
			putDocs(t, s, "alice", 4)
			var writer *instance
			if tc.staleWriter {
				writer = newInstance(t, mem, master, instanceOpts{})
				if _, err := writer.Put(ctx, "alice", "plan", "warm", counter{}, PutOpts{}); err != nil {
					t.Fatal(err) // loads (and caches) the keyring at DEK 1
				}
			}
			if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if writer == nil {
				writer = newInstance(t, mem, master, instanceOpts{})
			}
			fired := false
			hooked.before = func(key string) {
				if key == "users/alice/portfolio/d00" && !fired {
					fired = true
					if _, err := writer.Put(ctx, "alice", "portfolio", "d00", counter{N: 999}, PutOpts{}); err != nil {
						t.Error(err)
					}
				}
			}
			p, err := s.ReEncrypt(ctx, "alice", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !fired {
				t.Fatal("the concurrent write never happened")
			}
			if p.Raced != tc.wantRaced || p.Rewritten != tc.wantRewritten {
				t.Fatalf("progress %+v", p)
			}
			var c counter
			if _, err := s.Get(ctx, "alice", "portfolio", "d00", &c); err != nil || c.N != 999 {
				t.Fatalf("the concurrent write was lost: %+v, %v", c, err)
			}
			onlyVersion(t, dekVersions(t, mem, "users/alice/"), 2)
		})
	}
}
