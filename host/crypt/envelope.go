package crypt

import (
	"context"
	"crypto/cipher"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"

	"github.com/vire-dev/vire/sdk"
)

// Defaults for Options.
const (
	DefaultCacheTTL        = 5 * time.Minute
	DefaultRotateAfter     = uint64(1) << 30
	DefaultSealReserve     = uint64(4096)
	DefaultProviderTimeout = 30 * time.Second
	DefaultMaxAttempts     = 16

	// MaxRotateAfter is the hard limit on seals under one data key: with
	// random 96-bit nonces NIST SP 800-38D allows at most 2^32.
	MaxRotateAfter = uint64(1) << 32
)

// Options configure an Envelope.
type Options struct {
	// Provider wraps and unwraps data keys. Required.
	Provider sdk.KeyProvider
	// ProviderID names the configured key provider in every header and
	// keyring ("env", "vault", ...): 1 to 64 bytes of [a-z0-9._-]. A blob or
	// keyring made under another id is refused with ErrProviderMismatch.
	ProviderID string
	// Keyrings persists keyrings. Required.
	Keyrings KeyringStore
	// Logger receives rotation events; never key material.
	Logger hclog.Logger
	// CacheTTL is how long an unwrapped data key stays in memory, and how
	// long a loaded keyring is trusted before it is read again (so other
	// instances' rotations are picked up within one TTL). Default 5m.
	CacheTTL time.Duration
	// RotateAfter is how many seals one data key may perform before a new
	// data key is created automatically. Default 2^30, at most 2^32.
	RotateAfter uint64
	// SealReserve is how many seals an instance reserves in the keyring at
	// a time. Larger means fewer keyring writes and more over-counting after
	// a crash. Default 4096 (capped at RotateAfter).
	SealReserve uint64
	// ProviderTimeout bounds one call to the key provider. Default 30s.
	ProviderTimeout time.Duration
	// MaxAttempts bounds retries of a keyring write that lost a race.
	// Default 16.
	MaxAttempts int
}

// Envelope seals and opens tenant blobs with per-tenant data keys.
// It is safe for concurrent use.
type Envelope struct {
	o    Options
	log  hclog.Logger
	deks *dekCache
	sf   singleflight.Group

	mu      sync.Mutex
	tenants map[string]*tenantState
	closed  atomic.Bool
}

// tenantState is this instance's view of one tenant's keyring and its
// reserved seal allowance.
type tenantState struct {
	mu        sync.Mutex
	kr        *Keyring
	rev       string
	loaded    time.Time
	leaseVer  uint32
	leaseLeft uint64
}

// New returns an Envelope. It does not contact the provider or the store.
func New(o Options) (*Envelope, error) {
	if o.Provider == nil || o.Keyrings == nil {
		return nil, errors.New("crypt: Options.Provider and Options.Keyrings are required")
	}
	if !validProviderID(o.ProviderID) {
		return nil, fmt.Errorf("crypt: provider id %q must be 1 to %d bytes of [a-z0-9._-]", o.ProviderID, MaxProviderIDLength)
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.RotateAfter == 0 {
		o.RotateAfter = DefaultRotateAfter
	}
	if o.RotateAfter > MaxRotateAfter {
		return nil, fmt.Errorf("crypt: RotateAfter %d exceeds the AES-GCM limit of 2^32 seals per key", o.RotateAfter)
	}
	if o.SealReserve == 0 {
		o.SealReserve = DefaultSealReserve
	}
	o.SealReserve = min(o.SealReserve, o.RotateAfter)
	if o.ProviderTimeout <= 0 {
		o.ProviderTimeout = DefaultProviderTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	return &Envelope{
		o:       o,
		log:     o.Logger.Named("crypt"),
		deks:    newDEKCache(o.CacheTTL),
		tenants: map[string]*tenantState{},
	}, nil
}

// ProviderID returns the configured key-provider id.
func (e *Envelope) ProviderID() string { return e.o.ProviderID }

// Close zeroes every cached data key. Later calls fail with ErrClosed.
func (e *Envelope) Close() error {
	e.closed.Store(true)
	e.deks.close()
	return nil
}

// Forget drops the tenant's cached data keys and keyring, for example after
// the tenant was deleted.
func (e *Envelope) Forget(tenant string) {
	e.mu.Lock()
	delete(e.tenants, tenant)
	e.mu.Unlock()
	e.deks.dropTenant(tenant)
}

func (e *Envelope) check(tenant string) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if tenant == "" {
		return fmt.Errorf("crypt: empty tenant id: %w", sdk.ErrInvalidArgument)
	}
	return nil
}

func (e *Envelope) state(tenant string) *tenantState {
	e.mu.Lock()
	defer e.mu.Unlock()
	ts, ok := e.tenants[tenant]
	if !ok {
		ts = &tenantState{}
		e.tenants[tenant] = ts
	}
	return ts
}

// Seal encrypts plaintext for tenant under the blob key it will be stored
// at, with the tenant's current data key. It creates the tenant's keyring on
// first use.
func (e *Envelope) Seal(ctx context.Context, tenant, key string, plaintext []byte) ([]byte, error) {
	if err := e.check(tenant); err != nil {
		return nil, err
	}
	ver, wrapped, err := e.take(ctx, tenant)
	if err != nil {
		return nil, err
	}
	a, err := e.aeadFor(ctx, tenant, ver, wrapped)
	if err != nil {
		return nil, err
	}
	h := Header{Format: FormatVersion, ProviderID: e.o.ProviderID, DEKVersion: ver}
	crand.Read(h.Nonce[:])
	out := make([]byte, 0, Overhead(len(h.ProviderID))+len(plaintext))
	out = appendHeader(out, &h)
	return sealRaw(a, out, h.Nonce[:], plaintext, additionalData(out, tenant, key)), nil
}

// Open authenticates and decrypts a blob sealed for tenant at key. It never
// returns plaintext with an error.
func (e *Envelope) Open(ctx context.Context, tenant, key string, blob []byte) ([]byte, error) {
	if err := e.check(tenant); err != nil {
		return nil, err
	}
	h, n, err := parseBlob(blob)
	if err != nil {
		return nil, err
	}
	if h.ProviderID != e.o.ProviderID {
		return nil, fmt.Errorf("%w: the blob was sealed under key provider %q, the configured provider is %q",
			ErrProviderMismatch, h.ProviderID, e.o.ProviderID)
	}
	wrapped, err := e.wrappedKey(ctx, tenant, h.DEKVersion)
	if err != nil {
		return nil, err
	}
	a, err := e.aeadFor(ctx, tenant, h.DEKVersion, wrapped)
	if err != nil {
		return nil, err
	}
	return openRaw(a, h.Nonce[:], blob[n:], additionalData(blob[:n], tenant, key))
}

// take reserves one seal and returns the DEK version to use.
func (e *Envelope) take(ctx context.Context, tenant string) (uint32, sdk.WrappedKey, error) {
	ts := e.state(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.kr == nil || e.stale(ts) {
		err := e.loadLocked(ctx, tenant, ts)
		if errors.Is(err, sdk.ErrNotFound) {
			err = e.createLocked(ctx, tenant, ts, e.o.SealReserve)
		}
		if err != nil {
			return 0, sdk.WrappedKey{}, err
		}
	}
	if ts.leaseLeft == 0 || ts.leaseVer != ts.kr.Current {
		if err := e.reserveLocked(ctx, tenant, ts); err != nil {
			return 0, sdk.WrappedKey{}, err
		}
	}
	ts.leaseLeft--
	d, _ := ts.kr.dek(ts.leaseVer)
	return ts.leaseVer, d.Wrapped, nil
}

// wrappedKey returns the wrapped DEK of a version, re-reading the keyring
// once when the version is unknown (another instance may have rotated).
func (e *Envelope) wrappedKey(ctx context.Context, tenant string, ver uint32) (sdk.WrappedKey, error) {
	ts := e.state(tenant)
	ts.mu.Lock()
	defer ts.mu.Unlock()
	fresh := false
	if ts.kr == nil || e.stale(ts) {
		if err := e.loadLocked(ctx, tenant, ts); err != nil {
			if errors.Is(err, sdk.ErrNotFound) {
				return sdk.WrappedKey{}, fmt.Errorf("%w: tenant %q has no keyring", ErrUnknownDEK, tenant)
			}
			return sdk.WrappedKey{}, err
		}
		fresh = true
	}
	d, ok := ts.kr.dek(ver)
	if !ok && !fresh {
		if err := e.loadLocked(ctx, tenant, ts); err != nil {
			return sdk.WrappedKey{}, err
		}
		d, ok = ts.kr.dek(ver)
	}
	if !ok {
		return sdk.WrappedKey{}, fmt.Errorf("%w: the blob names version %d, the keyring of tenant %q holds versions up to %d",
			ErrUnknownDEK, ver, tenant, ts.kr.nextVersion()-1)
	}
	return d.Wrapped, nil
}

func (e *Envelope) stale(ts *tenantState) bool {
	return time.Since(ts.loaded) > e.o.CacheTTL
}

// loadLocked reads the tenant's keyring. ts.mu must be held.
func (e *Envelope) loadLocked(ctx context.Context, tenant string, ts *tenantState) error {
	data, rev, err := e.o.Keyrings.LoadKeyring(ctx, tenant)
	if err != nil {
		return fmt.Errorf("crypt: loading keyring of tenant %q: %w", tenant, err)
	}
	kr, err := decodeKeyring(data, tenant)
	if err != nil {
		return err
	}
	if kr.Provider != e.o.ProviderID {
		return fmt.Errorf("%w: the keyring of tenant %q was made by key provider %q, the configured provider is %q",
			ErrProviderMismatch, tenant, kr.Provider, e.o.ProviderID)
	}
	ts.kr, ts.rev, ts.loaded = kr, rev, time.Now()
	return nil
}

// newDEK returns a fresh random data key and its wrapped form.
func (e *Envelope) newDEK(ctx context.Context, tenant string) ([]byte, sdk.WrappedKey, error) {
	dek := make([]byte, DEKSize)
	crand.Read(dek)
	pctx, cancel := context.WithTimeout(ctx, e.o.ProviderTimeout)
	defer cancel()
	w, err := e.o.Provider.Wrap(pctx, tenant, dek)
	if err != nil {
		clear(dek)
		return nil, sdk.WrappedKey{}, providerErr("wrapping", tenant, err)
	}
	return dek, w, nil
}

// createLocked creates the tenant's keyring with one data key and, when
// reserve > 0, a first seal allowance. If another instance created it first,
// that keyring is loaded instead.
func (e *Envelope) createLocked(ctx context.Context, tenant string, ts *tenantState, reserve uint64) error {
	dek, w, err := e.newDEK(ctx, tenant)
	if err != nil {
		return err
	}
	defer clear(dek)
	now := time.Now().UTC()
	kr := &Keyring{
		Format: KeyringFormat, Tenant: tenant, Provider: e.o.ProviderID, Current: 1, Created: now, Updated: now,
		DEKs: []DEK{{Version: 1, Wrapped: w, Created: now, SealsReserved: reserve}},
	}
	data, err := json.Marshal(kr)
	if err != nil {
		return err
	}
	rev, err := e.o.Keyrings.SaveKeyring(ctx, tenant, data, "")
	if errors.Is(err, sdk.ErrPrecondition) {
		return e.loadLocked(ctx, tenant, ts)
	}
	if err != nil {
		return fmt.Errorf("crypt: creating keyring of tenant %q: %w", tenant, err)
	}
	ts.kr, ts.rev, ts.loaded = kr, rev, time.Now()
	ts.leaseVer, ts.leaseLeft = 1, reserve
	e.deks.put(newDEKID(tenant, 1, w), dek)
	e.log.Info("created tenant keyring", "tenant", tenant, "dek_version", 1, "key_version", w.KeyVersion)
	return nil
}

// mutateLocked applies fn to a copy of the keyring and stores the result
// conditionally, re-reading and re-applying fn when another instance wrote
// first. ts.mu must be held and ts.kr loaded.
func (e *Envelope) mutateLocked(ctx context.Context, tenant string, ts *tenantState, fn func(*Keyring) error) error {
	for attempt := 1; ; attempt++ {
		next := ts.kr.clone()
		if err := fn(next); err != nil {
			return err
		}
		next.Updated = time.Now().UTC()
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		rev, err := e.o.Keyrings.SaveKeyring(ctx, tenant, data, ts.rev)
		if err == nil {
			ts.kr, ts.rev, ts.loaded = next, rev, time.Now()
			return nil
		}
		if !errors.Is(err, sdk.ErrPrecondition) || attempt >= e.o.MaxAttempts {
			return fmt.Errorf("crypt: saving keyring of tenant %q (attempt %d): %w", tenant, attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
		if err := e.loadLocked(ctx, tenant, ts); err != nil {
			return err
		}
	}
}

// backoff sleeps a jittered, growing interval.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1<<min(attempt, 7)) * time.Millisecond
	t := time.NewTimer(mrand.N(d) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// reserveLocked reserves SealReserve seals on the current data key, creating
// a new data key first when the current one would pass RotateAfter.
func (e *Envelope) reserveLocked(ctx context.Context, tenant string, ts *tenantState) error {
	n := e.o.SealReserve
	var fresh []byte
	var freshW sdk.WrappedKey
	defer func() { clear(fresh) }()
	var rotated uint32
	err := e.mutateLocked(ctx, tenant, ts, func(k *Keyring) error {
		rotated = 0
		cur, _ := k.dek(k.Current)
		if cur.SealsReserved <= e.o.RotateAfter-n {
			cur.SealsReserved += n
			return nil
		}
		if fresh == nil {
			var err error
			if fresh, freshW, err = e.newDEK(ctx, tenant); err != nil {
				return err
			}
		}
		rotated = k.nextVersion()
		k.DEKs = append(k.DEKs, DEK{Version: rotated, Wrapped: freshW, Created: time.Now().UTC(), SealsReserved: n})
		k.Current = rotated
		return nil
	})
	if err != nil {
		return err
	}
	ts.leaseVer, ts.leaseLeft = ts.kr.Current, n
	if rotated != 0 {
		e.deks.put(newDEKID(tenant, rotated, freshW), fresh)
		e.log.Info("rotated data key: seal limit reached", "tenant", tenant, "dek_version", rotated, "rotate_after", e.o.RotateAfter)
	}
	return nil
}

// aeadFor returns the AEAD of a data key, unwrapping it at most once at a
// time per key however many callers ask concurrently.
func (e *Envelope) aeadFor(ctx context.Context, tenant string, ver uint32, w sdk.WrappedKey) (cipher.AEAD, error) {
	id := newDEKID(tenant, ver, w)
	if a, ok := e.deks.aead(id); ok {
		return a, nil
	}
	sfKey := tenant + "\x00" + strconv.FormatUint(uint64(ver), 10) + "\x00" + string(id.wrapped[:])
	ch := e.sf.DoChan(sfKey, func() (any, error) {
		if a, ok := e.deks.aead(id); ok {
			return a, nil
		}
		// Shared by every waiter: one caller's cancellation must not fail
		// the others, so only the provider timeout bounds the call.
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.o.ProviderTimeout)
		defer cancel()
		dek, err := e.o.Provider.Unwrap(pctx, tenant, w)
		if err != nil {
			return nil, providerErr("unwrapping", tenant, err)
		}
		defer clear(dek)
		if len(dek) != DEKSize {
			return nil, fmt.Errorf("crypt: unwrapping data key for tenant %q: %w: the provider returned %d bytes, want %d",
				tenant, ErrProviderRefused, len(dek), DEKSize)
		}
		a, err := newAEAD(dek)
		if err != nil {
			return nil, err
		}
		e.deks.put(id, dek)
		return a, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(cipher.AEAD), nil
	}
}
