// Package env is Vire's "env" key provider: per-tenant key-encryption keys
// derived from a master key that the operator supplies in configuration
// (normally through a sensitive HCL variable read from VIRE_MASTER_KEY).
//
// Each configured master key is one key version: retired_keys[i] is version
// i+1 and master_key is the latest, version len(retired_keys)+1. A tenant's
// key-encryption key for version v is
//
//	KEK = HKDF-SHA256(secret = master_v, salt = tenant id, info = "vire env key provider v1 kek")
//
// and a data key is wrapped as
//
//	ciphertext = nonce (12 random bytes) || AES-256-GCM-Seal(KEK, nonce, dek, aad)
//	aad        = "vire env key provider v1 wrap" || 0x00 || uint32be(v) || uint32be(len(tenant)) || tenant
//
// HKDF pads short salts with zeros, so tenants "a" and "a\x00" share a KEK;
// the length-prefixed tenant in the AAD still keeps their wrapped keys apart.
//
// The provider cannot create key versions itself: Rotate returns
// sdk.ErrUnsupported and the operator rotates by moving master_key to the end
// of retired_keys and setting a newly generated master_key.
package env

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

const (
	kekInfo  = "vire env key provider v1 kek"
	aadLabel = "vire env key provider v1 wrap"
	// masterKeySize is the size of a master key and of a derived KEK.
	masterKeySize = 32
	nonceSize     = 12
	tagSize       = 16
	// maxDEK bounds what Wrap accepts; data keys are 32 bytes.
	maxDEK = 1024
)

// Provider is the env key provider. Construct it with New and configure it
// before use.
type Provider struct {
	log hclog.Logger

	mu sync.RWMutex
	// keys[v-1] is the master key of version v; nil until configured.
	keys [][]byte
}

// New returns an unconfigured provider.
func New(log hclog.Logger) *Provider {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Provider{log: log}
}

// Schema declares master_key and retired_keys.
func (p *Provider) Schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{
		{
			Name: "master_key", Type: sdk.TypeString, Required: true, Sensitive: true,
			Description: "Base64 (standard or URL alphabet) of exactly 32 random bytes, e.g. from `openssl rand -base64 32`. " +
				"Set it from a sensitive variable whose default reads VIRE_MASTER_KEY; never write it into a config file.",
		},
		{
			Name: "retired_keys", Type: sdk.TypeStringList, Sensitive: true,
			Description: "Earlier master keys, oldest first, kept so data wrapped under them still opens. " +
				"To rotate, append the current master_key here and set a new master_key.",
		},
	}}
}

// Configure parses and installs the master keys. Errors name the attribute
// and never quote a key.
func (p *Provider) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	var keys [][]byte
	var entry []int // entry[i] is the retired_keys position keys[i] came from
	fail := func() error {
		for _, k := range keys {
			clear(k)
		}
		return errs
	}
	retired, ok := stringList(cfg["retired_keys"])
	if !ok {
		errs = append(errs, sdk.ConfigError{Attribute: "retired_keys", Message: "must be a list of strings"})
	}
	for i, s := range retired {
		k, err := parseKey(s)
		if err != nil {
			errs = append(errs, sdk.ConfigError{Attribute: "retired_keys", Message: fmt.Sprintf("entry %d %v", i+1, err)})
			continue
		}
		for j, prev := range keys {
			if subtle.ConstantTimeCompare(prev, k) == 1 {
				errs = append(errs, sdk.ConfigError{Attribute: "retired_keys",
					Message: fmt.Sprintf("entry %d repeats entry %d; each key version needs its own key", i+1, entry[j])})
			}
		}
		keys = append(keys, k)
		entry = append(entry, i+1)
	}

	raw, present := cfg["master_key"]
	s, isString := raw.(string)
	switch {
	case !present || raw == nil:
		errs = append(errs, sdk.ConfigError{Attribute: "master_key",
			Message: "is not set; generate one with `openssl rand -base64 32` and pass it through VIRE_MASTER_KEY"})
	case !isString:
		errs = append(errs, sdk.ConfigError{Attribute: "master_key", Message: "must be a string"})
	default:
		k, err := parseKey(s)
		if err != nil {
			errs = append(errs, sdk.ConfigError{Attribute: "master_key", Message: err.Error()})
			break
		}
		for j, prev := range keys {
			if subtle.ConstantTimeCompare(prev, k) == 1 {
				errs = append(errs, sdk.ConfigError{Attribute: "master_key",
					Message: fmt.Sprintf("equals retired_keys entry %d; set a newly generated master key", entry[j])})
			}
		}
		keys = append(keys, k)
	}
	if len(errs) > 0 {
		return fail()
	}

	p.mu.Lock()
	old := p.keys
	p.keys = keys
	p.mu.Unlock()
	for _, k := range old {
		clear(k)
	}
	p.log.Info("configured", "key_versions", len(keys))
	return nil
}

// stringList accepts a list(string) value as decoded from the wire or built
// in Go.
func stringList(v any) ([]string, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []string:
		return x, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// parseKey decodes a base64 master key. Its errors describe the problem
// without the value.
func parseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("is empty; generate a key with `openssl rand -base64 32`")
	}
	var lastLen = -1
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		k, err := enc.Strict().DecodeString(s)
		if err != nil {
			continue
		}
		if len(k) == masterKeySize {
			return k, nil
		}
		lastLen = len(k)
		clear(k)
	}
	if lastLen >= 0 {
		return nil, fmt.Errorf("decodes to %d bytes; a master key is exactly %d bytes (`openssl rand -base64 32`)", lastLen, masterKeySize)
	}
	return nil, fmt.Errorf("is not valid base64 (standard or URL alphabet); generate a key with `openssl rand -base64 32`")
}

// Health reports whether the provider is configured.
func (p *Provider) Health(ctx context.Context) error {
	if _, err := p.versions(); err != nil {
		return err
	}
	return nil
}

func (p *Provider) versions() (uint32, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if len(p.keys) == 0 {
		return 0, fmt.Errorf("env key provider is not configured: %w", sdk.ErrUnavailable)
	}
	return uint32(len(p.keys)), nil
}

// aead returns the AEAD for tenant at key version v. An unknown version is an
// integrity failure: the wrapped key cannot be opened.
func (p *Provider) aead(tenant string, v uint32) (cipher.AEAD, error) {
	p.mu.RLock()
	n := uint32(len(p.keys))
	if n == 0 {
		p.mu.RUnlock()
		return nil, fmt.Errorf("env key provider is not configured: %w", sdk.ErrUnavailable)
	}
	if v < 1 || v > n {
		p.mu.RUnlock()
		return nil, fmt.Errorf("wrapped key names key version %d, but versions 1 to %d are configured: %w", v, n, sdk.ErrIntegrity)
	}
	kek, err := deriveKEK(p.keys[v-1], tenant)
	p.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	return newAEAD(kek)
}

// deriveKEK derives a tenant's key-encryption key from one master key.
func deriveKEK(master []byte, tenant string) ([]byte, error) {
	kek, err := hkdf.Key(sha256.New, master, []byte(tenant), kekInfo, masterKeySize)
	if err != nil {
		return nil, fmt.Errorf("deriving key-encryption key: %w", err)
	}
	return kek, nil
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

// Unwrap opens a wrapped key. Every failure wraps sdk.ErrIntegrity and says
// nothing about the key material.
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
		return nil, fmt.Errorf("wrapped key did not authenticate (another tenant's key, a different master key, or altered bytes): %w", sdk.ErrIntegrity)
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

// Rotate is not something this provider can do on its own.
func (p *Provider) Rotate(ctx context.Context, tenant string) (uint32, error) {
	return 0, fmt.Errorf("the env key provider rotates by configuration: append the current master_key to retired_keys, "+
		"set master_key to a newly generated key (`openssl rand -base64 32`) and restart: %w", sdk.ErrUnsupported)
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

// Close zeroes the master keys the provider holds; it is unusable afterwards
// until configured again.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.keys {
		clear(k)
	}
	p.keys = nil
	return nil
}
