// Package passphrase is Vire's "passphrase" key provider: per-tenant
// key-encryption keys derived from a passphrase the operator supplies in
// configuration, for installations that want encryption without managing a
// random master key or a Vault.
//
// Each configured passphrase is one key version: retired_passphrases[i] is
// version i+1 and passphrase is the latest, version
// len(retired_passphrases)+1. The passphrase is never hashed bare: it is
// stretched once, at Configure, with Argon2id under the installation's salt
// and cost parameters,
//
//	master_v = Argon2id(passphrase_v, salt, time, memory_kib, threads, 32 bytes)
//
// and a tenant's key-encryption key for version v is
//
//	KEK = HKDF-SHA256(secret = master_v, salt = tenant id, info = "vire passphrase key provider v1 kek")
//
// A data key is wrapped as
//
//	ciphertext = nonce (12 random bytes) || AES-256-GCM-Seal(KEK, nonce, dek, aad)
//	aad        = "vire passphrase key provider v1 wrap" || 0x00 || uint32be(v) || uint32be(len(tenant)) || tenant
//
// The salt and the three Argon2id parameters are part of every key: changing
// any of them is like changing every passphrase at once. The stretched master
// keys live in memory only and are zeroed on Close and when a new
// configuration replaces them. (Go strings cannot be wiped, so the
// passphrases themselves stay in memory until the garbage collector reuses
// it; Argon2's own work buffers are not wiped either.)
//
// The provider cannot create key versions itself: Rotate returns
// sdk.ErrUnsupported and the operator rotates by moving passphrase to the end
// of retired_passphrases and setting a new passphrase.
package passphrase

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/argon2"

	"github.com/vire-dev/vire/sdk"
)

const (
	kekInfo  = "vire passphrase key provider v1 kek"
	aadLabel = "vire passphrase key provider v1 wrap"
	// keySize is the size of a stretched master key and of a derived KEK.
	keySize   = 32
	nonceSize = 12
	tagSize   = 16
	// maxDEK bounds what Wrap accepts; data keys are 32 bytes.
	maxDEK = 1024
)

// Provider is the passphrase key provider. Construct it with New and
// configure it before use.
type Provider struct {
	log hclog.Logger

	mu sync.RWMutex
	// masters[v-1] is the stretched master key of version v; nil until
	// configured.
	masters [][]byte
}

// New returns an unconfigured provider.
func New(log hclog.Logger) *Provider {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Provider{log: log}
}

// Schema declares the passphrases, the salt and the Argon2id parameters.
func (p *Provider) Schema() sdk.ConfigSchema { return schema() }

// Configure validates the configuration and stretches every passphrase. It
// is slow by design: each passphrase costs one Argon2id run, about half a
// second with the defaults on a small two-core machine (BenchmarkStretch).
// Afterwards wrapping costs one HKDF and one AES-GCM operation.
func (p *Provider) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	s, err := parseSettings(cfg)
	if err != nil {
		return err
	}
	if s.params.belowRecommended() {
		p.log.Warn("Argon2id parameters are below the recommended cost: a stolen wrapped key is cheaper to attack by guessing the passphrase",
			"time", s.params.time, "memory_kib", s.params.memoryKiB,
			"recommended", "time=3 memory_kib=65536 or more (or time=1 with memory_kib=2097152)")
	}
	start := time.Now()
	masters := make([][]byte, 0, len(s.passphrases))
	for _, pass := range s.passphrases {
		if err := ctx.Err(); err != nil {
			for _, m := range masters {
				clear(m)
			}
			return err
		}
		masters = append(masters, stretch(pass, s.salt, s.params))
	}

	p.mu.Lock()
	old := p.masters
	p.masters = masters
	p.mu.Unlock()
	for _, m := range old {
		clear(m)
	}
	p.log.Info("configured", "key_versions", len(masters),
		"time", s.params.time, "memory_kib", s.params.memoryKiB, "threads", s.params.threads,
		"stretching", time.Since(start).Round(time.Millisecond))
	return nil
}

// stretch derives a master key from a passphrase with Argon2id.
func stretch(passphrase string, salt []byte, pr params) []byte {
	pass := []byte(passphrase)
	defer clear(pass)
	return argon2.IDKey(pass, salt, pr.time, pr.memoryKiB, pr.threads, keySize)
}

// Health reports whether the provider is configured.
func (p *Provider) Health(ctx context.Context) error {
	_, err := p.versions()
	return err
}

func (p *Provider) versions() (uint32, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.masters) == 0 {
		return 0, fmt.Errorf("passphrase key provider is not configured: %w", sdk.ErrUnavailable)
	}
	return uint32(len(p.masters)), nil
}

// aead returns the AEAD for tenant at key version v. An unknown version is an
// integrity failure: the wrapped key cannot be opened.
func (p *Provider) aead(tenant string, v uint32) (cipher.AEAD, error) {
	p.mu.RLock()
	n := uint32(len(p.masters))
	if n == 0 {
		p.mu.RUnlock()
		return nil, fmt.Errorf("passphrase key provider is not configured: %w", sdk.ErrUnavailable)
	}
	if v < 1 || v > n {
		p.mu.RUnlock()
		return nil, fmt.Errorf("wrapped key names key version %d, but versions 1 to %d are configured "+
			"(was a retired passphrase removed?): %w", v, n, sdk.ErrIntegrity)
	}
	kek, err := hkdf.Key(sha256.New, p.masters[v-1], []byte(tenant), kekInfo, keySize)
	p.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("deriving key-encryption key: %w", err)
	}
	defer clear(kek)
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key-encryption cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// additionalData binds a wrapped key to its tenant and key version; the
// length prefix keeps tenants such as "a" and "a\x00", whose HKDF salts pad
// to the same HMAC key, apart.
func additionalData(tenant string, v uint32) []byte {
	aad := make([]byte, 0, len(aadLabel)+9+len(tenant))
	aad = append(aad, aadLabel...)
	aad = append(aad, 0)
	aad = binary.BigEndian.AppendUint32(aad, v)
	aad = binary.BigEndian.AppendUint32(aad, uint32(len(tenant)))
	return append(aad, tenant...)
}

// Wrap seals dek for tenant under the latest key version.
func (p *Provider) Wrap(ctx context.Context, tenant string, dek []byte) (sdk.WrappedKey, error) {
	if len(dek) == 0 || len(dek) > maxDEK {
		return sdk.WrappedKey{}, fmt.Errorf("a data key must be 1 to %d bytes, got %d: %w", maxDEK, len(dek), sdk.ErrInvalidArgument)
	}
	v, err := p.versions()
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	return p.wrapAt(tenant, v, dek)
}

func (p *Provider) wrapAt(tenant string, v uint32, dek []byte) (sdk.WrappedKey, error) {
	g, err := p.aead(tenant, v)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	out := make([]byte, nonceSize, nonceSize+len(dek)+tagSize)
	if _, err := rand.Read(out); err != nil {
		return sdk.WrappedKey{}, fmt.Errorf("nonce: %w", err)
	}
	out = g.Seal(out, out[:nonceSize], dek, additionalData(tenant, v))
	return sdk.WrappedKey{KeyVersion: v, Ciphertext: out}, nil
}

// Unwrap opens a wrapped key. Every failure to authenticate wraps
// sdk.ErrIntegrity and says nothing about the key material.
func (p *Provider) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	g, err := p.aead(tenant, w.KeyVersion)
	if err != nil {
		return nil, err
	}
	if len(w.Ciphertext) < nonceSize+tagSize {
		return nil, fmt.Errorf("wrapped key is truncated: %w", sdk.ErrIntegrity)
	}
	dek, err := g.Open(nil, w.Ciphertext[:nonceSize], w.Ciphertext[nonceSize:], additionalData(tenant, w.KeyVersion))
	if err != nil {
		return nil, fmt.Errorf("wrapped key did not authenticate (another tenant's key; a different passphrase, salt or "+
			"Argon2id parameters than it was wrapped under; or altered bytes): %w", sdk.ErrIntegrity)
	}
	return dek, nil
}

// Rewrap re-seals w under the latest key version; the data key never leaves
// the provider.
func (p *Provider) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	dek, err := p.Unwrap(ctx, tenant, w)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	defer clear(dek)
	v, err := p.versions()
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	return p.wrapAt(tenant, v, dek)
}

// Rotate is not something this provider can do on its own: a new key
// version needs a new passphrase, which only the operator has.
func (p *Provider) Rotate(ctx context.Context, tenant string) (uint32, error) {
	return 0, fmt.Errorf("the passphrase key provider rotates by configuration: append the current passphrase to "+
		"retired_passphrases, set passphrase to a new one (keep salt and the Argon2id parameters), restart, "+
		"then run `vire-server keys rewrap -all`: %w", sdk.ErrUnsupported)
}

// Status lists the configured key versions; they are the same for every
// tenant.
func (p *Provider) Status(ctx context.Context, tenant string) (sdk.KeyStatus, error) {
	n, err := p.versions()
	if err != nil {
		return sdk.KeyStatus{}, err
	}
	st := sdk.KeyStatus{Latest: n, MinDecrypt: 1, Versions: make([]uint32, 0, n)}
	for v := uint32(1); v <= n; v++ {
		st.Versions = append(st.Versions, v)
	}
	return st, nil
}

// Close zeroes the stretched master keys; the provider is unusable
// afterwards until configured again.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.masters {
		clear(m)
	}
	p.masters = nil
	return nil
}
