// Package kek is the key-wrapping scheme shared by the key providers whose
// key versions are a list of 32-byte master keys held in memory (env and
// passphrase). Version v is masters[v-1]; a tenant's key-encryption key for
// version v is
//
//	KEK = HKDF-SHA256(secret = master_v, salt = tenant id, info = Scheme.KEKInfo)
//
// and a data key is wrapped as
//
//	ciphertext = nonce (12 random bytes) || AES-256-GCM-Seal(KEK, nonce, dek, aad)
//	aad        = Scheme.AADLabel || 0x00 || uint32be(v) || uint32be(len(tenant)) || tenant
//
// HKDF pads short salts with zeros, so tenants "a" and "a\x00" share a KEK;
// the length-prefixed tenant in the AAD still keeps their wrapped keys apart.
//
// Each provider keeps its own labels, so the same master key under two
// providers derives unrelated keys, and its own wording for the errors an
// operator acts on; where the master keys come from (a configured key, a
// stretched passphrase) stays with the provider.
package kek

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/vire-dev/vire/sdk"
)

const (
	// KeySize is the size of a master key and of a derived KEK.
	KeySize = 32
	// MaxDEK bounds what Wrap accepts; data keys are 32 bytes.
	MaxDEK    = 1024
	nonceSize = 12
	tagSize   = 16
)

// Scheme is one provider's instance of the wrapping format and the words its
// errors use. KEKInfo and AADLabel are part of the wire format: changing
// either makes every wrapped key unreadable.
type Scheme struct {
	// Provider names the provider in errors, e.g. "env key provider".
	Provider string
	// KEKInfo is the HKDF info string.
	KEKInfo string
	// AADLabel starts the additional data of every wrapped key.
	AADLabel string
	// VersionHint follows "versions 1 to n are configured" when a wrapped
	// key names a version that is not: "" or " (why that may be)".
	VersionHint string
	// MismatchHint lists, inside parentheses, why a wrapped key may fail to
	// authenticate.
	MismatchHint string
}

// Ring holds a provider's master keys, one per key version, and wraps and
// unwraps under them. It is safe for concurrent use; the zero value is not
// usable (use NewRing).
type Ring struct {
	scheme Scheme

	mu sync.RWMutex
	// masters[v-1] is the master key of version v; nil until installed.
	masters [][]byte
}

// NewRing returns a ring with no key versions: every operation fails with
// sdk.ErrUnavailable until Install.
func NewRing(s Scheme) *Ring { return &Ring{scheme: s} }

// Install makes masters the key versions (masters[v-1] is version v) and
// zeroes the ones it replaces. The ring takes ownership of the slices.
func (r *Ring) Install(masters [][]byte) {
	r.mu.Lock()
	old := r.masters
	r.masters = masters
	r.mu.Unlock()
	for _, m := range old {
		clear(m)
	}
}

// Close zeroes the master keys; the ring is unusable afterwards until the
// next Install.
func (r *Ring) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.masters {
		clear(m)
	}
	r.masters = nil
}

// Held returns the master-key slices the ring holds (not copies), so that a
// provider's tests can see that Close and Install zero them. Nothing else
// has a use for it.
func (r *Ring) Held() [][]byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([][]byte(nil), r.masters...)
}

func (r *Ring) notConfigured() error {
	return fmt.Errorf("%s is not configured: %w", r.scheme.Provider, sdk.ErrUnavailable)
}

// Versions returns the latest key version, or sdk.ErrUnavailable when none
// is installed.
func (r *Ring) Versions() (uint32, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.masters) == 0 {
		return 0, r.notConfigured()
	}
	return uint32(len(r.masters)), nil
}

// aead returns the AEAD for tenant at key version v. An unknown version is an
// integrity failure: the wrapped key cannot be opened.
func (r *Ring) aead(tenant string, v uint32) (cipher.AEAD, error) {
	r.mu.RLock()
	n := uint32(len(r.masters))
	if n == 0 {
		r.mu.RUnlock()
		return nil, r.notConfigured()
	}
	if v < 1 || v > n {
		r.mu.RUnlock()
		return nil, fmt.Errorf("wrapped key names key version %d, but versions 1 to %d are configured%s: %w",
			v, n, r.scheme.VersionHint, sdk.ErrIntegrity)
	}
	kek, err := hkdf.Key(sha256.New, r.masters[v-1], []byte(tenant), r.scheme.KEKInfo, KeySize)
	r.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("deriving key-encryption key: %w", err)
	}
	defer clear(kek)
	return newAEAD(kek)
}

// newAEAD is AES-GCM with the standard 96-bit nonce and 128-bit tag.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("key-encryption cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData binds a wrapped key to its tenant and key version.
func (r *Ring) additionalData(tenant string, v uint32) []byte {
	label := r.scheme.AADLabel
	aad := make([]byte, 0, len(label)+9+len(tenant))
	aad = append(aad, label...)
	aad = append(aad, 0)
	aad = binary.BigEndian.AppendUint32(aad, v)
	aad = binary.BigEndian.AppendUint32(aad, uint32(len(tenant)))
	return append(aad, tenant...)
}

// Wrap seals dek for tenant under the latest key version.
func (r *Ring) Wrap(tenant string, dek []byte) (sdk.WrappedKey, error) {
	if len(dek) == 0 || len(dek) > MaxDEK {
		return sdk.WrappedKey{}, fmt.Errorf("a data key must be 1 to %d bytes, got %d: %w", MaxDEK, len(dek), sdk.ErrInvalidArgument)
	}
	v, err := r.Versions()
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	return r.wrapAt(tenant, v, dek)
}

func (r *Ring) wrapAt(tenant string, v uint32, dek []byte) (sdk.WrappedKey, error) {
	g, err := r.aead(tenant, v)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	out := make([]byte, nonceSize, nonceSize+len(dek)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return sdk.WrappedKey{}, fmt.Errorf("nonce: %w", err)
	}
	out = g.Seal(out, out[:nonceSize], dek, r.additionalData(tenant, v))
	return sdk.WrappedKey{KeyVersion: v, Ciphertext: out}, nil
}

// Unwrap opens a wrapped key. Every failure to authenticate wraps
// sdk.ErrIntegrity and says nothing about the key material.
func (r *Ring) Unwrap(tenant string, w sdk.WrappedKey) ([]byte, error) {
	g, err := r.aead(tenant, w.KeyVersion)
	if err != nil {
		return nil, err
	}
	if len(w.Ciphertext) < nonceSize+tagSize {
		return nil, fmt.Errorf("wrapped key is truncated: %w", sdk.ErrIntegrity)
	}
	dek, err := g.Open(nil, w.Ciphertext[:nonceSize], w.Ciphertext[nonceSize:], r.additionalData(tenant, w.KeyVersion))
	if err != nil {
		return nil, fmt.Errorf("wrapped key did not authenticate (%s): %w", r.scheme.MismatchHint, sdk.ErrIntegrity)
	}
	return dek, nil
}

// Rewrap re-seals w under the latest key version; the data key never leaves
// the ring.
func (r *Ring) Rewrap(tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	dek, err := r.Unwrap(tenant, w)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	defer clear(dek)
	v, err := r.Versions()
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	return r.wrapAt(tenant, v, dek)
}

// Status lists the installed key versions; they are the same for every
// tenant, and only the operator can add one.
func (r *Ring) Status() (sdk.KeyStatus, error) {
	n, err := r.Versions()
	if err != nil {
		return sdk.KeyStatus{}, err
	}
	st := sdk.KeyStatus{Latest: n, MinDecrypt: 1, Versions: make([]uint32, 0, n)}
	for v := uint32(1); v <= n; v++ {
		st.Versions = append(st.Versions, v)
	}
	return st, nil
}
