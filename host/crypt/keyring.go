package crypt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// KeyringFormat is the version of the keyring document this package writes.
const KeyringFormat = 1

// KeyringStore persists tenants' keyring documents. Writes are conditional so
// that two server instances sharing a store never fork a keyring: the
// Envelope re-reads and re-applies its change when a write loses a race.
type KeyringStore interface {
	// LoadKeyring returns the tenant's encoded keyring and an opaque
	// revision, or an error wrapping sdk.ErrNotFound when it has none.
	LoadKeyring(ctx context.Context, tenant string) (data []byte, rev string, err error)
	// SaveKeyring stores data only if the keyring is still at rev (rev ""
	// means it must not exist yet) and returns the new revision. A lost
	// condition is an error wrapping sdk.ErrPrecondition.
	SaveKeyring(ctx context.Context, tenant string, data []byte, rev string) (newRev string, err error)
}

// Keyring is a tenant's set of data keys, each wrapped by the key provider.
// It holds no plaintext key material, so it is stored unencrypted:
//
//	{"format":1,"tenant":"alice","provider":"env","current":2,
//	 "created":"2026-01-02T03:04:05Z","updated":"2026-03-01T10:00:00Z",
//	 "deks":[
//	  {"version":1,"wrapped":{"key_version":1,"ciphertext":"<base64>"},"created":"…","seals_reserved":8192},
//	  {"version":2,"wrapped":{"key_version":1,"ciphertext":"<base64>"},"created":"…","seals_reserved":4096}]}
//
// Someone who can write to storage can damage a keyring (drop versions,
// reset counters) but cannot make it yield a key: every wrapped key is
// authenticated by the provider and bound to the tenant.
type Keyring struct {
	Format   int       `json:"format"`
	Tenant   string    `json:"tenant"`
	Provider string    `json:"provider"`
	Current  uint32    `json:"current"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	DEKs     []DEK     `json:"deks"`
}

// DEK is one data-key version in a keyring.
type DEK struct {
	Version uint32         `json:"version"`
	Wrapped sdk.WrappedKey `json:"wrapped"`
	Created time.Time      `json:"created"`
	// SealsReserved is an upper bound on the number of blobs sealed with
	// this key: instances reserve ranges of seals before using them, so a
	// crash loses unused reservations (over-counting) but never a seal.
	SealsReserved uint64 `json:"seals_reserved"`
}

// dek returns the entry for version v.
func (k *Keyring) dek(v uint32) (*DEK, bool) {
	for i := range k.DEKs {
		if k.DEKs[i].Version == v {
			return &k.DEKs[i], true
		}
	}
	return nil, false
}

// clone returns a deep copy, so a change that fails to persist leaves the
// cached keyring untouched.
func (k *Keyring) clone() *Keyring {
	c := *k
	c.DEKs = make([]DEK, len(k.DEKs))
	for i, d := range k.DEKs {
		d.Wrapped.Ciphertext = slices.Clone(d.Wrapped.Ciphertext)
		c.DEKs[i] = d
	}
	return &c
}

// nextVersion returns one more than the highest DEK version.
func (k *Keyring) nextVersion() uint32 {
	var max uint32
	for _, d := range k.DEKs {
		max = maxU32(max, d.Version)
	}
	return max + 1
}

func maxU32(a, b uint32) uint32 {
	if a > b {
		return a
	}
	return b
}

// decodeKeyring parses and checks a stored keyring.
func decodeKeyring(data []byte, tenant string) (*Keyring, error) {
	var k Keyring
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("%w (tenant %q): %v", ErrKeyringCorrupt, tenant, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w (tenant %q): %s", ErrKeyringCorrupt, tenant, fmt.Sprintf(format, args...))
	}
	switch {
	case k.Format != KeyringFormat:
		return nil, bad("format %d, this build reads %d", k.Format, KeyringFormat)
	case k.Tenant != tenant:
		return nil, bad("it belongs to another tenant")
	case len(k.DEKs) == 0:
		return nil, bad("it holds no data keys")
	}
	seen := map[uint32]bool{}
	for _, d := range k.DEKs {
		if d.Version == 0 || seen[d.Version] {
			return nil, bad("DEK version %d is zero or repeated", d.Version)
		}
		if len(d.Wrapped.Ciphertext) == 0 {
			return nil, bad("DEK version %d has no wrapped key", d.Version)
		}
		seen[d.Version] = true
	}
	if !seen[k.Current] {
		return nil, bad("current DEK version %d is not in the keyring", k.Current)
	}
	return &k, nil
}

// KeyringInfo summarises a tenant's keyring for operators; it carries no key
// material.
type KeyringInfo struct {
	Tenant   string    `json:"tenant"`
	Provider string    `json:"provider"`
	Current  uint32    `json:"current"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	DEKs     []DEKInfo `json:"deks"`
}

// DEKInfo describes one data-key version.
type DEKInfo struct {
	Version       uint32    `json:"version"`
	KeyVersion    uint32    `json:"key_version"`
	Created       time.Time `json:"created"`
	SealsReserved uint64    `json:"seals_reserved"`
}

func (k *Keyring) info() KeyringInfo {
	out := KeyringInfo{Tenant: k.Tenant, Provider: k.Provider, Current: k.Current, Created: k.Created, Updated: k.Updated}
	for _, d := range k.DEKs {
		out.DEKs = append(out.DEKs, DEKInfo{Version: d.Version, KeyVersion: d.Wrapped.KeyVersion, Created: d.Created, SealsReserved: d.SealsReserved})
	}
	return out
}
