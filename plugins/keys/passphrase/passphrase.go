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
// This is the env provider's format under this provider's labels; the code
// both share is plugins/keys/internal/kek.
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
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/argon2"

	"github.com/vire-dev/vire/plugins/keys/internal/kek"
	"github.com/vire-dev/vire/sdk"
)

// keySize is the size of a stretched master key and of a derived KEK.
const keySize = kek.KeySize

// Provider is the passphrase key provider. Construct it with New and
// configure it before use.
type Provider struct {
	log hclog.Logger
	// ring holds the stretched master keys, version v at index v-1; empty
	// until configured.
	ring *kek.Ring
}

// New returns an unconfigured provider.
func New(log hclog.Logger) *Provider {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	// The labels are part of every wrapped key: changing them strands
	// every key wrapped so far.
	return &Provider{log: log, ring: kek.NewRing(kek.Scheme{
		Provider:    "passphrase key provider",
		KEKInfo:     "vire passphrase key provider v1 kek",
		AADLabel:    "vire passphrase key provider v1 wrap",
		VersionHint: " (was a retired passphrase removed?)",
		MismatchHint: "another tenant's key; a different passphrase, salt or " +
			"Argon2id parameters than it was wrapped under; or altered bytes",
	})}
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

	p.ring.Install(masters)
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
	_, err := p.ring.Versions()
	return err
}

// Wrap seals dek for tenant under the latest key version.
func (p *Provider) Wrap(ctx context.Context, tenant string, dek []byte) (sdk.WrappedKey, error) {
	return p.ring.Wrap(tenant, dek)
}

// Unwrap opens a wrapped key. Every failure to authenticate wraps
// sdk.ErrIntegrity and says nothing about the key material.
func (p *Provider) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	return p.ring.Unwrap(tenant, w)
}

// Rewrap re-seals w under the latest key version; the data key never leaves
// the provider.
func (p *Provider) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	return p.ring.Rewrap(tenant, w)
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
	return p.ring.Status()
}

// Close zeroes the stretched master keys; the provider is unusable
// afterwards until configured again.
func (p *Provider) Close() error {
	p.ring.Close()
	return nil
}
