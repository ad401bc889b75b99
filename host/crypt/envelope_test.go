package crypt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

func TestSealOpenRoundTrip(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), newMemKeyrings(), nil)
	for _, n := range []int{0, 1, 15, 16, 17, 2048, 1 << 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			plain := bytes.Repeat([]byte{byte(n)}, n)
			blob, err := e.Seal(ctx, "alice", "users/alice/doc/x", plain)
			if err != nil {
				t.Fatal(err)
			}
			if len(blob) != n+Overhead(len("test")) {
				t.Fatalf("sealed %d bytes into %d, want overhead %d", n, len(blob), Overhead(4))
			}
			if n > 16 && bytes.Contains(blob, plain[:16]) {
				t.Fatal("plaintext visible in the sealed blob")
			}
			got, err := e.Open(ctx, "alice", "users/alice/doc/x", blob)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatal("round trip changed the plaintext")
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), newMemKeyrings(), nil)
	seen := map[[NonceSize]byte]bool{}
	for i := 0; i < 1000; i++ {
		blob, err := e.Seal(ctx, "alice", "k", []byte("same"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := ParseHeader(blob)
		if err != nil {
			t.Fatal(err)
		}
		if seen[h.Nonce] {
			t.Fatalf("nonce repeated after %d seals", i)
		}
		seen[h.Nonce] = true
	}
}

func TestOpenBindsTenantAndKey(t *testing.T) {
	ctx := context.Background()
	p := newEnvProvider(t, newMasterKey())
	e := newTestEnvelope(t, p, newMemKeyrings(), nil)
	blob, err := e.Seal(ctx, "alice", "users/alice/portfolio/main", []byte(`{"cash":1}`))
	if err != nil {
		t.Fatal(err)
	}
	// bob needs a keyring of his own with a DEK version 1 for the test to
	// reach authentication rather than stop at "no keyring".
	if _, err := e.Seal(ctx, "bob", "users/bob/portfolio/main", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, tenant, key string }{
		{"other tenant", "bob", "users/alice/portfolio/main"},
		{"other tenant, its own path", "bob", "users/bob/portfolio/main"},
		{"renamed", "alice", "users/alice/portfolio/other"},
		{"other kind", "alice", "users/alice/strategy/main"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Open(ctx, tc.tenant, tc.key, blob)
			if got != nil {
				t.Fatal("plaintext returned on failure")
			}
			// For bob this is an authentication failure too: his DEK
			// version 1 is not alice's, so the tag cannot verify.
			if !errors.Is(err, ErrAuthFailed) || !errors.Is(err, sdk.ErrIntegrity) {
				t.Fatalf("err = %v, want ErrAuthFailed matching sdk.ErrIntegrity", err)
			}
			if !strings.Contains(err.Error(), "wrong tenant or key, or the blob was modified") {
				t.Fatalf("message %q does not explain the failure", err)
			}
		})
	}
	if _, err := e.Open(ctx, "carol", "users/alice/portfolio/main", blob); !errors.Is(err, ErrUnknownDEK) {
		t.Fatalf("tenant without keyring: err = %v, want ErrUnknownDEK", err)
	}
}

func TestOpenDamagedBlobs(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), newMemKeyrings(), nil)
	const key = "users/alice/doc/x"
	blob, err := e.Seal(ctx, "alice", key, []byte(`{"a":"some document"}`))
	if err != nil {
		t.Fatal(err)
	}
	hdrLen := fixedHeader + len("test")
	open := func(b []byte) error {
		got, err := e.Open(ctx, "alice", key, b)
		if err == nil {
			t.Fatalf("damaged blob opened: %q", got)
		}
		if got != nil {
			t.Fatal("plaintext returned with an error")
		}
		if !errors.Is(err, sdk.ErrIntegrity) {
			t.Fatalf("%v does not match sdk.ErrIntegrity", err)
		}
		return err
	}
	// Every truncation fails: inside the header as truncated, after it as
	// an authentication failure.
	for n := 0; n < len(blob); n++ {
		err := open(blob[:n])
		want := ErrTruncated
		if n >= hdrLen+TagSize {
			want = ErrAuthFailed
		}
		if !errors.Is(err, want) {
			t.Fatalf("truncated to %d bytes: err = %v, want %v", n, err, want)
		}
	}
	// Every single-bit flip fails.
	for i := range blob {
		b := bytes.Clone(blob)
		b[i] ^= 0x01
		open(b)
	}
	withHeader := func(h Header) []byte {
		orig, n, err := parseBlob(blob)
		if err != nil {
			t.Fatal(err)
		}
		h.Nonce = orig.Nonce
		return append(appendHeader(nil, &h), blob[n:]...)
	}
	tests := []struct {
		name string
		blob []byte
		want error
	}{
		{"tag flipped", func() []byte { b := bytes.Clone(blob); b[len(b)-1] ^= 0x80; return b }(), ErrAuthFailed},
		{"ciphertext flipped", func() []byte { b := bytes.Clone(blob); b[hdrLen] ^= 0x80; return b }(), ErrAuthFailed},
		{"nonce flipped", func() []byte { b := bytes.Clone(blob); b[hdrLen-1] ^= 0x80; return b }(), ErrAuthFailed},
		{"unknown DEK version", withHeader(Header{Format: 1, ProviderID: "test", DEKVersion: 99}), ErrUnknownDEK},
		{"other provider", withHeader(Header{Format: 1, ProviderID: "tset", DEKVersion: 1}), ErrProviderMismatch},
		{"format 2", func() []byte { b := bytes.Clone(blob); b[4] = 2; return b }(), ErrUnknownFormat},
		{"plaintext", []byte(`{"a":"some document"}`), ErrNotEncrypted},
		{"empty", []byte{}, ErrTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := open(tc.blob); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestProviderRefused(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	a := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), ks, nil)
	blob, err := a.Seal(ctx, "alice", "k", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	// Same keyring, another master key: the provider cannot unwrap.
	b := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), ks, nil)
	got, err := b.Open(ctx, "alice", "k", blob)
	if got != nil || !errors.Is(err, ErrProviderRefused) || !errors.Is(err, sdk.ErrIntegrity) {
		t.Fatalf("got %q, %v; want ErrProviderRefused wrapping the provider's integrity error", got, err)
	}
	if _, err := b.Seal(ctx, "alice", "k", []byte("x")); !errors.Is(err, ErrProviderRefused) {
		t.Fatalf("seal with the wrong master key: %v", err)
	}
}

func TestProviderMismatchKeyring(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	a := newTestEnvelope(t, p, ks, nil)
	if _, err := a.Seal(ctx, "alice", "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	b := newTestEnvelope(t, p, ks, func(o *Options) { o.ProviderID = "vault" })
	if _, err := b.Seal(ctx, "alice", "k", []byte("x")); !errors.Is(err, ErrProviderMismatch) {
		t.Fatalf("err = %v, want ErrProviderMismatch", err)
	}
}

func TestKeyringCorrupt(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	e := newTestEnvelope(t, p, ks, nil)
	if _, err := e.Seal(ctx, "alice", "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	alice := ks.get("alice")
	var kr Keyring
	if err := json.Unmarshal(alice, &kr); err != nil {
		t.Fatal(err)
	}
	mut := func(f func(k *Keyring)) []byte {
		k := *kr.clone()
		f(&k)
		b, _ := json.Marshal(k)
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"not json", []byte("{")},
		{"copied from another tenant", alice},
		{"future format", mut(func(k *Keyring) { k.Format = 9; k.Tenant = "bob" })},
		{"no keys", mut(func(k *Keyring) { k.DEKs = nil; k.Tenant = "bob" })},
		{"current missing", mut(func(k *Keyring) { k.Current = 7; k.Tenant = "bob" })},
		{"repeated version", mut(func(k *Keyring) { k.DEKs = append(k.DEKs, k.DEKs[0]); k.Tenant = "bob" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ks.set("bob", tc.data)
			fresh := newTestEnvelope(t, p, ks, nil)
			_, err := fresh.Seal(ctx, "bob", "k", []byte("x"))
			if !errors.Is(err, ErrKeyringCorrupt) || !errors.Is(err, sdk.ErrIntegrity) {
				t.Fatalf("err = %v, want ErrKeyringCorrupt", err)
			}
		})
	}
}

func TestRotateDEK(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	a := newTestEnvelope(t, p, ks, nil)
	b := newTestEnvelope(t, p, ks, nil)

	old, err := a.Seal(ctx, "alice", "k1", []byte("old"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, "alice", "k1", old); err != nil { // b caches keyring v1
		t.Fatal(err)
	}
	v, err := a.RotateDEK(ctx, "alice")
	if err != nil || v != 2 {
		t.Fatalf("RotateDEK = %d, %v; want 2", v, err)
	}
	newer, err := a.Seal(ctx, "alice", "k2", []byte("new"))
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := ParseHeader(newer); h.DEKVersion != 2 {
		t.Fatalf("seal after rotation used DEK version %d", h.DEKVersion)
	}
	// b has never seen version 2: it re-reads the keyring instead of failing.
	for name, blob := range map[string][]byte{"k1": old, "k2": newer} {
		if _, err := b.Open(ctx, "alice", name, blob); err != nil {
			t.Fatalf("open %s on the other instance: %v", name, err)
		}
	}
	cur, err := b.CurrentVersion(ctx, "alice")
	if err != nil || cur != 2 {
		t.Fatalf("CurrentVersion = %d, %v", cur, err)
	}
	// RotateDEK on a tenant without a keyring creates it.
	if v, err := a.RotateDEK(ctx, "new-tenant"); err != nil || v != 1 {
		t.Fatalf("RotateDEK on a new tenant = %d, %v", v, err)
	}
}

func TestConcurrentRotationsNeverFork(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	const n = 6
	envs := make([]*Envelope, n)
	for i := range envs {
		envs[i] = newTestEnvelope(t, p, ks, nil)
	}
	if _, err := envs[0].Seal(ctx, "alice", "k", []byte("x")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]uint32, n)
	errs := make([]error, n)
	for i := range envs {
		wg.Go(func() { got[i], errs[i] = envs[i].RotateDEK(ctx, "alice") })
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for i, v := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if seen[v] {
			t.Fatalf("two rotations produced version %d", v)
		}
		seen[v] = true
	}
	st, err := envs[0].Status(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.DEKs) != n+1 || st.Current != n+1 {
		t.Fatalf("keyring has %d versions, current %d; want %d, %d", len(st.DEKs), st.Current, n+1, n+1)
	}
}

func TestRewrapKeepsDataReadable(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	k1, k2 := newMasterKey(), newMasterKey()
	e := newTestEnvelope(t, newEnvProvider(t, k1), ks, nil)
	b1 := mustSeal(t, e, "alice", "k1")
	if _, err := e.RotateDEK(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	b2 := mustSeal(t, e, "alice", "k2")
	bob := mustSeal(t, e, "bob", "k") // never re-wrapped: the control case

	// The operator rotates the env provider's master key: k1 becomes
	// version 1, k2 the latest (version 2).
	rotated := newTestEnvelope(t, newEnvProvider(t, k2, k1), ks, nil)
	info, err := rotated.Rewrap(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.DEKs) != 2 {
		t.Fatalf("keyring lists %d DEKs, want 2", len(info.DEKs))
	}
	for _, d := range info.DEKs {
		if d.KeyVersion != 2 {
			t.Fatalf("DEK %d still wrapped under key version %d", d.Version, d.KeyVersion)
		}
	}
	// Destroying the old master key (a random stand-in for version 1)
	// proves nothing of alice's depends on it any more.
	destroyed := newTestEnvelope(t, newEnvProvider(t, k2, newMasterKey()), ks, nil)
	for k, b := range map[string][]byte{"k1": b1, "k2": b2} {
		if got, err := destroyed.Open(ctx, "alice", k, b); err != nil || string(got) != "x" {
			t.Fatalf("open %s after rewrap: %q, %v", k, got, err)
		}
	}
	// Control: bob's keyring was not re-wrapped and no longer opens, so
	// the check above can fail.
	if _, err := destroyed.Open(ctx, "bob", "k", bob); !errors.Is(err, ErrProviderRefused) {
		t.Fatalf("without rewrap a destroyed key version must fail, got %v", err)
	}
}

func mustSeal(t testing.TB, e *Envelope, tenant, key string) []byte {
	t.Helper()
	b, err := e.Seal(context.Background(), tenant, key, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAutomaticRotationCountsSeals(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	const rotateAfter, reserve = 10, 4
	e := newTestEnvelope(t, p, ks, func(o *Options) { o.RotateAfter = rotateAfter; o.SealReserve = reserve })
	perVersion := map[uint32]uint64{}
	blobs := map[string][]byte{}
	for i := 0; i < 25; i++ {
		k := fmt.Sprint("k", i)
		b, err := e.Seal(ctx, "alice", k, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		h, _ := ParseHeader(b)
		perVersion[h.DEKVersion]++
		blobs[k] = b
	}
	st, err := e.Status(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.DEKs) < 3 {
		t.Fatalf("25 seals with a limit of 10 made only %d DEK versions", len(st.DEKs))
	}
	for _, d := range st.DEKs {
		if d.SealsReserved > rotateAfter {
			t.Fatalf("DEK %d reserved %d seals, limit %d", d.Version, d.SealsReserved, rotateAfter)
		}
		if perVersion[d.Version] > d.SealsReserved {
			t.Fatalf("DEK %d sealed %d blobs but the keyring counts %d", d.Version, perVersion[d.Version], d.SealsReserved)
		}
	}
	fresh := newTestEnvelope(t, p, ks, nil)
	for k, b := range blobs {
		got, err := fresh.Open(ctx, "alice", k, b)
		if err != nil || string(got) != k {
			t.Fatalf("open %s: %q, %v", k, got, err)
		}
	}
}

// TestSealCounterAcrossInstances seals concurrently from several instances
// sharing one keyring store; the stored counters must bound the real number
// of seals for every DEK version, and instances that stop without returning
// their reservations (a crash) may only make the count too high.
func TestSealCounterAcrossInstances(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	const rotateAfter, reserve = 100, 8
	mk := func() *Envelope {
		return newTestEnvelope(t, p, ks, func(o *Options) { o.RotateAfter = rotateAfter; o.SealReserve = reserve })
	}
	envs := []*Envelope{mk(), mk(), mk()}
	var mu sync.Mutex
	perVersion := map[uint32]uint64{}
	blobs := map[string][]byte{}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Go(func() {
			for i := 0; i < 40; i++ {
				k := fmt.Sprintf("g%d-%d", g, i)
				e := envs[(g+i)%len(envs)]
				if i == 20 && g%4 == 0 {
					e = mk() // a new instance, abandoned afterwards
				}
				b, err := e.Seal(ctx, "alice", k, []byte(k))
				if err != nil {
					t.Error(err)
					return
				}
				h, _ := ParseHeader(b)
				mu.Lock()
				perVersion[h.DEKVersion]++
				blobs[k] = b
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st, err := envs[0].Status(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, d := range st.DEKs {
		if perVersion[d.Version] > d.SealsReserved || d.SealsReserved > rotateAfter {
			t.Fatalf("DEK %d: %d seals, %d reserved, limit %d", d.Version, perVersion[d.Version], d.SealsReserved, rotateAfter)
		}
		total += perVersion[d.Version]
	}
	if total != 16*40 {
		t.Fatalf("counted %d seals across versions, made %d", total, 16*40)
	}
	reader := mk()
	for k, b := range blobs {
		if _, err := reader.Open(ctx, "alice", k, b); err != nil {
			t.Fatalf("open %s: %v", k, err)
		}
	}
}

func TestUnwrapIsCoalescedAndCached(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	blob := mustSeal(t, newTestEnvelope(t, p, ks, nil), "alice", "k")
	p.unwrapDelay = 20 * time.Millisecond
	p.unwraps.Store(0)
	e := newTestEnvelope(t, p, ks, nil)
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Go(func() {
			if _, err := e.Open(ctx, "alice", "k", blob); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := p.unwraps.Load(); n != 1 {
		t.Fatalf("32 concurrent opens unwrapped %d times, want 1", n)
	}
	for i := 0; i < 10; i++ {
		if _, err := e.Open(ctx, "alice", "k", blob); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.unwraps.Load(); n != 1 {
		t.Fatalf("cached key was unwrapped again (%d unwraps)", n)
	}
}

func TestUnwrapWaiterCancellation(t *testing.T) {
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	blob := mustSeal(t, newTestEnvelope(t, p, ks, nil), "alice", "k")
	p.unwrapDelay = 200 * time.Millisecond
	e := newTestEnvelope(t, p, ks, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := e.Open(context.Background(), "alice", "k", blob)
		done <- err
	}()
	time.Sleep(5 * time.Millisecond)
	if _, err := e.Open(ctx, "alice", "k", blob); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cancelled waiter: err = %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the other caller failed because one waiter gave up: %v", err)
	}
}

// cachedKeys returns the cached key slices (aliases, so a test can watch
// them being zeroed).
func cachedKeys(e *Envelope) [][]byte {
	e.deks.mu.Lock()
	defer e.deks.mu.Unlock()
	var out [][]byte
	for _, d := range e.deks.m {
		out = append(out, d.key)
	}
	return out
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func TestCachedKeysExpireAndAreZeroed(t *testing.T) {
	ctx := context.Background()
	ks := newMemKeyrings()
	p := newEnvProvider(t, newMasterKey())
	e := newTestEnvelope(t, p, ks, func(o *Options) { o.CacheTTL = 30 * time.Millisecond })
	blob := mustSeal(t, e, "alice", "k")
	keys := cachedKeys(e)
	if len(keys) != 1 || allZero(keys[0]) {
		t.Fatalf("expected one live cached key, have %d", len(keys))
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.deks.len() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if e.deks.len() != 0 {
		t.Fatal("cached key did not expire")
	}
	if !allZero(keys[0]) {
		t.Fatal("expired key was not zeroed")
	}
	before := p.unwraps.Load()
	if _, err := e.Open(ctx, "alice", "k", blob); err != nil {
		t.Fatal(err)
	}
	if p.unwraps.Load() != before+1 {
		t.Fatal("open after expiry did not unwrap again")
	}
}

func TestCloseZeroesKeys(t *testing.T) {
	ctx := context.Background()
	e := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), newMemKeyrings(), nil)
	blob := mustSeal(t, e, "alice", "k")
	mustSeal(t, e, "bob", "k")
	keys := cachedKeys(e)
	if len(keys) != 2 {
		t.Fatalf("%d cached keys, want 2", len(keys))
	}
	e.Forget("bob")
	if e.deks.len() != 1 {
		t.Fatal("Forget kept bob's key")
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !allZero(k) {
			t.Fatal("Close left a key in memory")
		}
	}
	if _, err := e.Open(ctx, "alice", "k", blob); !errors.Is(err, ErrClosed) {
		t.Fatalf("open after close: %v", err)
	}
	if _, err := e.Seal(ctx, "alice", "k", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("seal after close: %v", err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	p := newEnvProvider(t, newMasterKey())
	ks := newMemKeyrings()
	tests := []struct {
		name string
		o    Options
	}{
		{"no provider", Options{ProviderID: "x", Keyrings: ks}},
		{"no keyrings", Options{ProviderID: "x", Provider: p}},
		{"empty id", Options{Provider: p, Keyrings: ks}},
		{"id with slash", Options{ProviderID: "a/b", Provider: p, Keyrings: ks}},
		{"id too long", Options{ProviderID: strings.Repeat("a", 65), Provider: p, Keyrings: ks}},
		{"rotate past 2^32", Options{ProviderID: "x", Provider: p, Keyrings: ks, RotateAfter: 1<<32 + 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.o); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := New(Options{ProviderID: "x", Provider: p, Keyrings: ks, RotateAfter: 1 << 32}); err != nil {
		t.Fatalf("2^32 is allowed: %v", err)
	}
}

func TestEmptyTenantRejected(t *testing.T) {
	e := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), newMemKeyrings(), nil)
	if _, err := e.Seal(context.Background(), "", "k", nil); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("err = %v", err)
	}
}

func TestKeyringHoldsNoPlaintextKeys(t *testing.T) {
	ks := newMemKeyrings()
	e := newTestEnvelope(t, newEnvProvider(t, newMasterKey()), ks, nil)
	mustSeal(t, e, "alice", "k")
	keys := cachedKeys(e)
	raw := ks.get("alice")
	var kr Keyring
	if err := json.Unmarshal(raw, &kr); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if bytes.Contains(raw, k) || bytes.Contains(kr.DEKs[0].Wrapped.Ciphertext, k) {
			t.Fatal("keyring contains a plaintext data key")
		}
	}
}
