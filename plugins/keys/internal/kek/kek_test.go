package kek

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

var testScheme = Scheme{
	Provider:     "test key provider",
	KEKInfo:      "vire test kek",
	AADLabel:     "vire test wrap",
	VersionHint:  " (hint about versions)",
	MismatchHint: "hint about mismatches",
}

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func ringOf(s Scheme, masters ...[]byte) *Ring {
	r := NewRing(s)
	own := make([][]byte, len(masters))
	for i, m := range masters {
		own[i] = bytes.Clone(m)
	}
	r.Install(own)
	return r
}

// TestFormat opens the ring's output with the scheme's labels put together
// by hand, and the other way round.
func TestFormat(t *testing.T) {
	m1, m2 := randomKey(t), randomKey(t)
	r := ringOf(testScheme, m1, m2)
	const tenant = "t_01"
	dek := randomKey(t)
	w, err := r.Wrap(tenant, dek)
	if err != nil || w.KeyVersion != 2 || len(w.Ciphertext) != nonceSize+len(dek)+tagSize {
		t.Fatalf("Wrap = %d, %d bytes, %v", w.KeyVersion, len(w.Ciphertext), err)
	}
	kek, err := hkdf.Key(sha256.New, m2, []byte(tenant), testScheme.KEKInfo, KeySize)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(kek)
	gcm, _ := cipher.NewGCM(block)
	aad := append([]byte(testScheme.AADLabel), 0)
	aad = binary.BigEndian.AppendUint32(aad, 2)
	aad = binary.BigEndian.AppendUint32(aad, uint32(len(tenant)))
	aad = append(aad, tenant...)
	if got, err := gcm.Open(nil, w.Ciphertext[:nonceSize], w.Ciphertext[nonceSize:], aad); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("the ring's wrapped key does not open by hand: %v", err)
	}
	nonce := randomKey(t)[:nonceSize]
	byHand := sdk.WrappedKey{KeyVersion: 2, Ciphertext: gcm.Seal(bytes.Clone(nonce), nonce, dek, aad)}
	if got, err := r.Unwrap(tenant, byHand); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("the ring cannot open a key wrapped by hand: %v", err)
	}
}

// TestBindings: a wrapped key opens only for its tenant, version, ring
// master keys and labels.
func TestBindings(t *testing.T) {
	m := randomKey(t)
	r := ringOf(testScheme, m)
	dek := randomKey(t)
	w, err := r.Wrap("x", dek)
	if err != nil {
		t.Fatal(err)
	}
	otherInfo, otherLabel := testScheme, testScheme
	otherInfo.KEKInfo += "!"
	otherLabel.AADLabel += "!"
	for name, open := range map[string]func() ([]byte, error){
		"another tenant":       func() ([]byte, error) { return r.Unwrap("y", w) },
		"a zero-padded tenant": func() ([]byte, error) { return r.Unwrap("x\x00", w) },
		"another master key":   func() ([]byte, error) { return ringOf(testScheme, randomKey(t)).Unwrap("x", w) },
		"another KEK info":     func() ([]byte, error) { return ringOf(otherInfo, m).Unwrap("x", w) },
		"another AAD label":    func() ([]byte, error) { return ringOf(otherLabel, m).Unwrap("x", w) },
		"a flipped byte": func() ([]byte, error) {
			c := bytes.Clone(w.Ciphertext)
			c[20] ^= 1
			return r.Unwrap("x", sdk.WrappedKey{KeyVersion: 1, Ciphertext: c})
		},
		"truncated": func() ([]byte, error) {
			return r.Unwrap("x", sdk.WrappedKey{KeyVersion: 1, Ciphertext: w.Ciphertext[:nonceSize+tagSize-1]})
		},
		"a version not installed": func() ([]byte, error) { return r.Unwrap("x", sdk.WrappedKey{KeyVersion: 2, Ciphertext: w.Ciphertext}) },
	} {
		t.Run(name, func(t *testing.T) {
			got, err := open()
			if !errors.Is(err, sdk.ErrIntegrity) || got != nil {
				t.Fatalf("Unwrap = %x, %v; want ErrIntegrity", got, err)
			}
		})
	}
}

// TestErrors: the scheme's words reach the errors, which never quote key
// material.
func TestErrors(t *testing.T) {
	m := randomKey(t)
	r := ringOf(testScheme, m)
	w, err := r.Wrap("acme", randomKey(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Unwrap("acme", sdk.WrappedKey{KeyVersion: 3, Ciphertext: w.Ciphertext})
	if want := "wrapped key names key version 3, but versions 1 to 1 are configured (hint about versions): "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("unknown version: %v", err)
	}
	_, err = r.Unwrap("other", w)
	if want := "wrapped key did not authenticate (hint about mismatches): "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("mismatch: %v", err)
	}
	for _, dek := range [][]byte{nil, make([]byte, MaxDEK+1)} {
		if _, err := r.Wrap("acme", dek); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Wrap of %d bytes = %v", len(dek), err)
		}
	}
	if _, err := r.Wrap("acme", make([]byte, MaxDEK)); err != nil {
		t.Errorf("Wrap of MaxDEK bytes = %v", err)
	}
	empty := NewRing(testScheme)
	_, err = empty.Wrap("acme", randomKey(t))
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.HasPrefix(err.Error(), "test key provider is not configured") {
		t.Errorf("Wrap before Install = %v", err)
	}
	if _, err := empty.Status(); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Status before Install = %v", err)
	}
	if _, err := empty.Unwrap("acme", w); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Unwrap before Install = %v", err)
	}
}

func TestRewrapAndStatus(t *testing.T) {
	m1, m2, m3 := randomKey(t), randomKey(t), randomKey(t)
	dek := randomKey(t)
	w1, err := ringOf(testScheme, m1).Wrap("acme", dek)
	if err != nil {
		t.Fatal(err)
	}
	r := ringOf(testScheme, m1, m2, m3)
	st, err := r.Status()
	if err != nil || st.Latest != 3 || st.MinDecrypt != 1 || len(st.Versions) != 3 || st.Versions[2] != 3 || st.Rotatable {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	w3, err := r.Rewrap("acme", w1)
	if err != nil || w3.KeyVersion != 3 {
		t.Fatalf("Rewrap = %+v, %v", w3, err)
	}
	if got, err := ringOf(testScheme, randomKey(t), randomKey(t), m3).Unwrap("acme", w3); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("the rewrapped key needs only version 3: %v", err)
	}
	if _, err := r.Rewrap("other", w1); !errors.Is(err, sdk.ErrIntegrity) {
		t.Errorf("Rewrap for another tenant = %v", err)
	}
}

// TestZeroing: Install zeroes the keys it replaces and Close the keys it
// holds.
func TestZeroing(t *testing.T) {
	r := ringOf(testScheme, randomKey(t), randomKey(t))
	first := r.Held()
	r.Install([][]byte{randomKey(t)})
	for i, m := range first {
		if !bytes.Equal(m, make([]byte, KeySize)) {
			t.Errorf("Install left replaced key %d in memory", i+1)
		}
	}
	second := r.Held()
	if len(second) != 1 || bytes.Equal(second[0], make([]byte, KeySize)) {
		t.Fatalf("Held after Install = %d keys", len(second))
	}
	r.Close()
	if !bytes.Equal(second[0], make([]byte, KeySize)) {
		t.Error("Close left the key in memory")
	}
	if _, err := r.Versions(); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Versions after Close = %v", err)
	}
}

// TestConcurrent wraps and unwraps while the key versions are replaced; run
// it with -race.
func TestConcurrent(t *testing.T) {
	m1, m2 := randomKey(t), randomKey(t)
	r := ringOf(testScheme, m1)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			dek := randomKey(t)
			for range 200 {
				w, err := r.Wrap("acme", dek)
				if err != nil {
					t.Error(err)
					return
				}
				// Every installation holds the same keys, so whatever
				// version it was wrapped under still opens.
				got, err := r.Unwrap("acme", w)
				if err != nil || !bytes.Equal(got, dek) {
					t.Errorf("goroutine %d: Unwrap = %v", g, err)
					return
				}
			}
		})
	}
	// Each Install zeroes the slices it replaces while the readers run.
	for range 50 {
		r.Install([][]byte{bytes.Clone(m1), bytes.Clone(m2)})
	}
	wg.Wait()
}
