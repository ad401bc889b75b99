package crypt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// CurrentVersion returns the DEK version new seals use, read from the stored
// keyring (not the cache), so it reflects rotations by other instances. A
// tenant without a keyring gives an error wrapping sdk.ErrNotFound.
func (e *Envelope) CurrentVersion(ctx context.Context, tenant string) (uint32, error) {
	if err := e.check(tenant); err != nil {
		return 0, err
	}
	ts := e.state(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err := e.loadLocked(ctx, tenant, ts); err != nil {
		return 0, err
	}
	return ts.kr.Current, nil
}

// Status describes the tenant's keyring, read from the store. A tenant
// without a keyring gives an error wrapping sdk.ErrNotFound.
func (e *Envelope) Status(ctx context.Context, tenant string) (KeyringInfo, error) {
	if err := e.check(tenant); err != nil {
		return KeyringInfo{}, err
	}
	ts := e.state(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err := e.loadLocked(ctx, tenant, ts); err != nil {
		return KeyringInfo{}, err
	}
	return ts.kr.info(), nil
}

// RotateDEK adds a new data-key version to the tenant's keyring (creating the
// keyring if it has none) and makes it current: new seals use it, blobs
// sealed with older versions stay readable until they are re-encrypted.
// Other instances switch to the new version within one CacheTTL. It returns
// the new version.
func (e *Envelope) RotateDEK(ctx context.Context, tenant string) (uint32, error) {
	if err := e.check(tenant); err != nil {
		return 0, err
	}
	ts := e.state(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	err := e.loadLocked(ctx, tenant, ts)
	if errors.Is(err, sdk.ErrNotFound) {
		if err := e.createLocked(ctx, tenant, ts, 0); err != nil {
			return 0, err
		}
		return ts.kr.Current, nil
	}
	if err != nil {
		return 0, err
	}
	dek, w, err := e.newDEK(ctx, tenant)
	if err != nil {
		return 0, err
	}
	defer clear(dek)
	var v uint32
	err = e.mutateLocked(ctx, tenant, ts, func(k *Keyring) error {
		v = k.nextVersion()
		k.DEKs = append(k.DEKs, DEK{Version: v, Wrapped: w, Created: time.Now().UTC()})
		k.Current = v
		return nil
	})
	if err != nil {
		return 0, err
	}
	ts.leaseLeft = 0
	e.deks.put(newDEKID(tenant, v, w), dek)
	e.log.Info("rotated data key", "tenant", tenant, "dek_version", v)
	return v, nil
}

// Rewrap re-wraps every data-key version of the tenant under the key
// provider's latest key-encryption key (sdk.KeyProvider.Rewrap: the data keys
// are never unwrapped here). Data blobs are not touched: their headers name
// the DEK version, not the wrapping. It returns the updated keyring summary.
func (e *Envelope) Rewrap(ctx context.Context, tenant string) (KeyringInfo, error) {
	if err := e.check(tenant); err != nil {
		return KeyringInfo{}, err
	}
	ts := e.state(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if err := e.loadLocked(ctx, tenant, ts); err != nil {
		return KeyringInfo{}, err
	}
	err := e.mutateLocked(ctx, tenant, ts, func(k *Keyring) error {
		for i := range k.DEKs {
			d := &k.DEKs[i]
			pctx, cancel := context.WithTimeout(ctx, e.o.ProviderTimeout)
			w, err := e.o.Provider.Rewrap(pctx, tenant, d.Wrapped)
			cancel()
			if err != nil {
				return fmt.Errorf("%w (DEK version %d)", providerErr("rewrapping", tenant, err), d.Version)
			}
			if len(w.Ciphertext) == 0 {
				return fmt.Errorf("crypt: rewrapping DEK version %d of tenant %q: %w: empty wrapped key",
					d.Version, tenant, ErrProviderRefused)
			}
			d.Wrapped = w
		}
		return nil
	})
	if err != nil {
		return KeyringInfo{}, err
	}
	info := ts.kr.info()
	e.log.Info("re-wrapped data keys", "tenant", tenant, "versions", len(info.DEKs))
	return info, nil
}
