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
// The passphrase provider wraps the same way under its own labels; the code
// both share is plugins/keys/internal/kek.
//
// The provider cannot create key versions itself: Rotate returns
// sdk.ErrUnsupported and the operator rotates by moving master_key to the end
// of retired_keys and setting a newly generated master_key.
package env

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/plugins/keys/internal/kek"
	"github.com/vire-dev/vire/plugins/keys/internal/keyconfig"
	"github.com/vire-dev/vire/sdk"
)

// masterKeySize is the size of a master key and of a derived KEK.
const masterKeySize = kek.KeySize

// Provider is the env key provider. Construct it with New and configure it
// before use.
type Provider struct {
	log hclog.Logger
	// ring holds the master keys, version v at index v-1; empty until
	// configured.
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
		Provider:     "env key provider",
		KEKInfo:      "vire env key provider v1 kek",
		AADLabel:     "vire env key provider v1 wrap",
		MismatchHint: "another tenant's key, a different master key, or altered bytes",
	})}
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
	retired, ok := keyconfig.StringList(cfg["retired_keys"])
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

	p.ring.Install(keys)
	p.log.Info("configured", "key_versions", len(keys))
	return nil
}

// parseKey decodes a base64 master key. Its errors describe the problem
// without the value.
func parseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("is empty; generate a key with `openssl rand -base64 32`")
	}
	k, ok := keyconfig.Base64(s)
	if !ok {
		return nil, fmt.Errorf("is not valid base64 (standard or URL alphabet); generate a key with `openssl rand -base64 32`")
	}
	if len(k) != masterKeySize {
		clear(k)
		return nil, fmt.Errorf("decodes to %d bytes; a master key is exactly %d bytes (`openssl rand -base64 32`)", len(k), masterKeySize)
	}
	return k, nil
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

// Unwrap opens a wrapped key. Every failure wraps sdk.ErrIntegrity and says
// nothing about the key material.
func (p *Provider) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	return p.ring.Unwrap(tenant, w)
}

// Rewrap re-seals w under the latest key version; the data key never leaves
// the provider.
func (p *Provider) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	return p.ring.Rewrap(tenant, w)
}

// Rotate is not something this provider can do on its own.
func (p *Provider) Rotate(ctx context.Context, tenant string) (uint32, error) {
	return 0, fmt.Errorf("the env key provider rotates by configuration: append the current master_key to retired_keys, "+
		"set master_key to a newly generated key (`openssl rand -base64 32`) and restart: %w", sdk.ErrUnsupported)
}

// Status lists the configured key versions; they are the same for every
// tenant.
func (p *Provider) Status(ctx context.Context, tenant string) (sdk.KeyStatus, error) {
	return p.ring.Status()
}

// Close zeroes the master keys the provider holds; it is unusable afterwards
// until configured again.
func (p *Provider) Close() error {
	p.ring.Close()
	return nil
}
