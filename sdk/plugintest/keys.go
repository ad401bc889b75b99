package plugintest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

// suiteTenants are distinct tenant ids, including near-twins that a careless
// key derivation merges (a trailing NUL pads to the same HMAC key; case and
// whitespace variants).
var suiteTenants = []string{
	"acme", "acme\x00", "ACME", "acme ", "a", "a\x00", "t_01HZX3", "tenant/with/slashes",
	"\u00e9t\u00e9", strings.Repeat("long-tenant-", 20),
}

// RunKeyProvider runs the KeyProvider conformance suite against the providers
// that h.Open returns.
func RunKeyProvider(t *testing.T, h KeyHarness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("plugintest: KeyHarness.Open is nil")
	}
	k := &keySuite{h: h}
	t.Run("RoundTrip", k.roundTrip)
	t.Run("WrongTenant", k.wrongTenant)
	t.Run("Tampering", k.tampering)
	t.Run("Rewrap", k.rewrap)
	t.Run("Status", k.status)
	t.Run("Rotate", k.rotate)
	t.Run("Concurrent", k.concurrent)
}

type keySuite struct {
	h KeyHarness
}

func (k *keySuite) open(t *testing.T) sdk.KeyProvider {
	t.Helper()
	p := k.h.Open(t)
	if p == nil {
		t.Fatal("KeyHarness.Open returned nil")
	}
	return p
}

// newDEK returns a fresh random 32-byte data key (crypto/rand.Read never
// fails).
func newDEK(testing.TB) []byte {
	dek := make([]byte, 32)
	_, _ = rand.Read(dek)
	return dek
}

// wantIntegrity checks that an unwrap failed with ErrIntegrity and revealed
// no key.
// It reports whether the check held.
func wantIntegrity(t *testing.T, key []byte, err error, what string) bool {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s: unwrapped to a %d-byte key, want an error wrapping ErrIntegrity", what, len(key))
	case !errors.Is(err, sdk.ErrIntegrity):
		t.Errorf("%s: got %q (kind %v), want an error wrapping ErrIntegrity", what, err, sdk.Kind(err))
	case len(key) != 0:
		t.Errorf("%s: returned %d key bytes alongside the error", what, len(key))
	default:
		return true
	}
	return false
}

// maxFailures stops a loop of similar checks from flooding the output.
const maxFailures = 10

func tooMany(t *testing.T, failures *int, ok bool) {
	t.Helper()
	if !ok {
		*failures++
	}
	if *failures >= maxFailures {
		t.Fatalf("stopping after %d failures", *failures)
	}
}

func (k *keySuite) roundTrip(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	if err := p.Schema().Validate(); err != nil {
		t.Errorf("Schema: %v", err)
	}
	noErr(t, p.Health(ctx), "Health of a configured provider")
	for _, tenant := range suiteTenants {
		st, err := p.Status(ctx, tenant)
		noErr(t, err, "Status")
		dek := newDEK(t)
		w, err := p.Wrap(ctx, tenant, dek)
		noErr(t, err, fmt.Sprintf("Wrap for %q", tenant))
		if w.KeyVersion < 1 || w.KeyVersion != st.Latest {
			t.Errorf("Wrap for %q: KeyVersion %d, want Status.Latest %d (at least 1)", tenant, w.KeyVersion, st.Latest)
		}
		if len(w.Ciphertext) == 0 || bytes.Contains(w.Ciphertext, dek) {
			t.Errorf("Wrap for %q: ciphertext is empty or holds the key in clear", tenant)
		}
		got, err := p.Unwrap(ctx, tenant, w)
		noErr(t, err, fmt.Sprintf("Unwrap for %q", tenant))
		if !bytes.Equal(got, dek) {
			t.Errorf("Unwrap for %q returned a different key", tenant)
		}
		// Wrapping the same key again gives a wrapped key that opens too.
		w2, err := p.Wrap(ctx, tenant, dek)
		noErr(t, err, "second Wrap")
		got2, err := p.Unwrap(ctx, tenant, w2)
		if err != nil || !bytes.Equal(got2, dek) {
			t.Errorf("second wrap for %q did not unwrap to the key: %v", tenant, err)
		}
	}
	// Different keys wrap to different ciphertexts that open to their own key.
	a, b := newDEK(t), newDEK(t)
	wa, err := p.Wrap(ctx, "acme", a)
	noErr(t, err, "Wrap a")
	wb, err := p.Wrap(ctx, "acme", b)
	noErr(t, err, "Wrap b")
	if bytes.Equal(wa.Ciphertext, wb.Ciphertext) {
		t.Error("two different keys wrapped to the same ciphertext")
	}
	ga, _ := p.Unwrap(ctx, "acme", wa)
	gb, _ := p.Unwrap(ctx, "acme", wb)
	if !bytes.Equal(ga, a) || !bytes.Equal(gb, b) {
		t.Error("wrapped keys did not unwrap to their own keys")
	}
}

func (k *keySuite) wrongTenant(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	wrapped := map[string]sdk.WrappedKey{}
	for _, tenant := range suiteTenants {
		w, err := p.Wrap(ctx, tenant, newDEK(t))
		noErr(t, err, "Wrap")
		wrapped[tenant] = w
	}
	failures := 0
	for _, owner := range suiteTenants {
		for _, other := range suiteTenants {
			if owner == other {
				continue
			}
			got, err := p.Unwrap(ctx, other, wrapped[owner])
			tooMany(t, &failures, wantIntegrity(t, got, err, fmt.Sprintf("Unwrap of %q's key as tenant %q", owner, other)))
		}
	}
}

func (k *keySuite) tampering(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	const tenant = "acme"
	w, err := p.Wrap(ctx, tenant, newDEK(t))
	noErr(t, err, "Wrap")
	ct := w.Ciphertext

	t.Run("EveryBitFlip", func(t *testing.T) {
		// Long ciphertexts are checked at both ends, where headers, nonces
		// and tags live, and at a stride through the middle.
		var positions []int
		for i := range len(ct) {
			if len(ct) <= 1024 || i < 256 || i >= len(ct)-256 || i%97 == 0 {
				positions = append(positions, i)
			}
		}
		failures := 0
		for _, i := range positions {
			for bit := range 8 {
				bad := slices.Clone(ct)
				bad[i] ^= 1 << bit
				got, err := p.Unwrap(ctx, tenant, sdk.WrappedKey{KeyVersion: w.KeyVersion, Ciphertext: bad})
				tooMany(t, &failures, wantIntegrity(t, got, err, fmt.Sprintf("Unwrap with byte %d bit %d flipped", i, bit)))
			}
		}
	})

	t.Run("Truncation", func(t *testing.T) {
		failures := 0
		for n := range len(ct) {
			got, err := p.Unwrap(ctx, tenant, sdk.WrappedKey{KeyVersion: w.KeyVersion, Ciphertext: slices.Clone(ct[:n])})
			tooMany(t, &failures, wantIntegrity(t, got, err, fmt.Sprintf("Unwrap of the first %d of %d bytes", n, len(ct))))
		}
		got, err := p.Unwrap(ctx, tenant, sdk.WrappedKey{KeyVersion: w.KeyVersion})
		wantIntegrity(t, got, err, "Unwrap of a nil ciphertext")
	})

	t.Run("Extension", func(t *testing.T) {
		for _, tail := range [][]byte{{0}, {1}, ct[:min(len(ct), 16)]} {
			bad := append(slices.Clone(ct), tail...)
			got, err := p.Unwrap(ctx, tenant, sdk.WrappedKey{KeyVersion: w.KeyVersion, Ciphertext: bad})
			wantIntegrity(t, got, err, fmt.Sprintf("Unwrap with %d bytes appended", len(tail)))
		}
	})

	// After all that, the genuine wrapped key still opens.
	if _, err := p.Unwrap(ctx, tenant, w); err != nil {
		t.Errorf("genuine wrapped key no longer unwraps: %v", err)
	}
}

func (k *keySuite) rewrap(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	dek := newDEK(t)
	w, err := p.Wrap(ctx, "acme", dek)
	noErr(t, err, "Wrap")
	st, err := p.Status(ctx, "acme")
	noErr(t, err, "Status")
	w2, err := p.Rewrap(ctx, "acme", w)
	noErr(t, err, "Rewrap")
	if w2.KeyVersion != st.Latest {
		t.Errorf("Rewrap: KeyVersion %d, want latest %d", w2.KeyVersion, st.Latest)
	}
	if bytes.Contains(w2.Ciphertext, dek) {
		t.Error("Rewrap: ciphertext holds the key in clear")
	}
	got, err := p.Unwrap(ctx, "acme", w2)
	noErr(t, err, "Unwrap of rewrapped key")
	if !bytes.Equal(got, dek) {
		t.Error("Rewrap changed the data key")
	}
	bad, err := p.Rewrap(ctx, "acme\x00", w)
	if !errors.Is(err, sdk.ErrIntegrity) || len(bad.Ciphertext) != 0 {
		t.Errorf("Rewrap as another tenant: got %d bytes, %v; want ErrIntegrity", len(bad.Ciphertext), err)
	}
	tampered := slices.Clone(w.Ciphertext)
	tampered[len(tampered)-1] ^= 0x80
	bad, err = p.Rewrap(ctx, "acme", sdk.WrappedKey{KeyVersion: w.KeyVersion, Ciphertext: tampered})
	if !errors.Is(err, sdk.ErrIntegrity) || len(bad.Ciphertext) != 0 {
		t.Errorf("Rewrap of a tampered key: got %d bytes, %v; want ErrIntegrity", len(bad.Ciphertext), err)
	}
}

func (k *keySuite) status(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	for _, tenant := range []string{"acme", "other"} {
		st, err := p.Status(ctx, tenant)
		noErr(t, err, "Status")
		checkStatus(t, st)
	}
}

func checkStatus(t *testing.T, st sdk.KeyStatus) {
	t.Helper()
	if st.Latest < 1 {
		t.Errorf("Status.Latest = %d, want at least 1", st.Latest)
	}
	for i := 1; i < len(st.Versions); i++ {
		if st.Versions[i] <= st.Versions[i-1] {
			t.Errorf("Status.Versions %v is not strictly ascending", st.Versions)
			break
		}
	}
	if len(st.Versions) == 0 || st.Versions[len(st.Versions)-1] != st.Latest {
		t.Errorf("Status.Versions %v does not end with Latest %d", st.Versions, st.Latest)
	}
	if st.MinDecrypt < 1 || st.MinDecrypt > st.Latest || !slices.Contains(st.Versions, st.MinDecrypt) {
		t.Errorf("Status.MinDecrypt %d is not a listed version in %v", st.MinDecrypt, st.Versions)
	}
}

func (k *keySuite) rotate(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	before, err := p.Status(ctx, "acme")
	noErr(t, err, "Status")
	dek := newDEK(t)
	old, err := p.Wrap(ctx, "acme", dek)
	noErr(t, err, "Wrap")

	v, err := p.Rotate(ctx, "acme")
	if errors.Is(err, sdk.ErrUnsupported) {
		if before.Rotatable {
			t.Error("Status says Rotatable but Rotate returned ErrUnsupported")
		}
		if err.Error() == sdk.ErrUnsupported.Error() {
			t.Error("Rotate's ErrUnsupported does not tell the operator how to rotate")
		}
		after, err := p.Status(ctx, "acme")
		noErr(t, err, "Status")
		if after.Latest != before.Latest {
			t.Errorf("an unsupported Rotate moved Latest from %d to %d", before.Latest, after.Latest)
		}
		got, err := p.Unwrap(ctx, "acme", old)
		if err != nil || !bytes.Equal(got, dek) {
			t.Errorf("after an unsupported Rotate the wrapped key no longer unwraps: %v", err)
		}
		return
	}
	noErr(t, err, "Rotate")
	if !before.Rotatable {
		t.Error("Rotate succeeded but Status said Rotatable: false")
	}
	if v <= before.Latest {
		t.Fatalf("Rotate returned version %d, not above the previous latest %d", v, before.Latest)
	}
	after, err := p.Status(ctx, "acme")
	noErr(t, err, "Status after Rotate")
	checkStatus(t, after)
	if after.Latest != v || !slices.Contains(after.Versions, before.Latest) {
		t.Errorf("Status after Rotate to %d: %+v", v, after)
	}
	fresh, err := p.Wrap(ctx, "acme", dek)
	noErr(t, err, "Wrap after Rotate")
	if fresh.KeyVersion != v {
		t.Errorf("Wrap after Rotate used version %d, want %d", fresh.KeyVersion, v)
	}
	got, err := p.Unwrap(ctx, "acme", old)
	if err != nil || !bytes.Equal(got, dek) {
		t.Errorf("a key wrapped before Rotate no longer unwraps: %v", err)
	}
	moved, err := p.Rewrap(ctx, "acme", old)
	noErr(t, err, "Rewrap after Rotate")
	if moved.KeyVersion != v {
		t.Errorf("Rewrap after Rotate gave version %d, want %d", moved.KeyVersion, v)
	}
	got, err = p.Unwrap(ctx, "acme", moved)
	if err != nil || !bytes.Equal(got, dek) {
		t.Errorf("the rewrapped key does not unwrap to the data key: %v", err)
	}
	v2, err := p.Rotate(ctx, "acme")
	noErr(t, err, "second Rotate")
	if v2 <= v {
		t.Errorf("second Rotate returned %d after %d", v2, v)
	}
	got, err = p.Unwrap(ctx, "acme", old)
	if err != nil || !bytes.Equal(got, dek) {
		t.Errorf("a key wrapped two rotations ago no longer unwraps: %v", err)
	}
}

func (k *keySuite) concurrent(t *testing.T) {
	p, ctx := k.open(t), ctxFor(t)
	st, err := p.Status(ctx, "acme")
	noErr(t, err, "Status")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			tenant := suiteTenants[g%4]
			other := suiteTenants[(g+1)%4]
			for i := range 25 {
				dek := newDEK(t)
				w, err := p.Wrap(ctx, tenant, dek)
				if err != nil {
					t.Errorf("goroutine %d: Wrap: %v", g, err)
					return
				}
				if i%5 == 0 {
					if w, err = p.Rewrap(ctx, tenant, w); err != nil {
						t.Errorf("goroutine %d: Rewrap: %v", g, err)
						return
					}
				}
				got, err := p.Unwrap(ctx, tenant, w)
				if err != nil || !bytes.Equal(got, dek) {
					t.Errorf("goroutine %d: Unwrap: %v", g, err)
					return
				}
				if got, err := p.Unwrap(ctx, other, w); !errors.Is(err, sdk.ErrIntegrity) || len(got) != 0 {
					t.Errorf("goroutine %d: Unwrap as another tenant: %v", g, err)
				}
			}
		})
	}
	if st.Rotatable {
		wg.Go(func() {
			for range 3 {
				if _, err := p.Rotate(ctx, "acme"); err != nil {
					t.Errorf("concurrent Rotate: %v", err)
				}
			}
		})
	}
	wg.Wait()
}
