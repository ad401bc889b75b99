package crypt

import (
	"crypto/cipher"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// dekID names one unwrapped data key. The fingerprint of the wrapped key is
// part of the name, so a keyring that was replaced (deleted and created
// anew) can never be served a key unwrapped from its predecessor.
type dekID struct {
	tenant  string
	version uint32
	wrapped [16]byte
}

func newDEKID(tenant string, version uint32, w sdk.WrappedKey) dekID {
	sum := sha256.Sum256(w.Ciphertext)
	id := dekID{tenant: tenant, version: version}
	copy(id.wrapped[:], sum[:])
	return id
}

// dekCache keeps unwrapped data keys for a fixed time after unwrapping (not
// after last use, so a key revoked at the provider stops working here within
// one TTL). A dropped, expired or closed entry is zeroed. Callers never see
// the key slice itself: they receive an AEAD built under the lock, so zeroing
// can never race with a seal in progress.
type dekCache struct {
	ttl time.Duration

	mu     sync.Mutex
	m      map[dekID]*dekEntry
	closed bool
}

type dekEntry struct {
	key   []byte
	timer *time.Timer
}

func newDEKCache(ttl time.Duration) *dekCache {
	return &dekCache{ttl: ttl, m: map[dekID]*dekEntry{}}
}

// aead returns an AES-GCM instance for a cached key.
func (c *dekCache) aead(id dekID) (cipher.AEAD, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return nil, false
	}
	a, err := newAEAD(e.key)
	if err != nil {
		return nil, false
	}
	return a, true
}

// put caches a copy of key; the caller still owns (and should zero) key.
func (c *dekCache) put(id dekID, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if old, ok := c.m[id]; ok {
		c.dropLocked(id, old)
	}
	e := &dekEntry{key: append([]byte(nil), key...)}
	e.timer = time.AfterFunc(c.ttl, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.m[id] == e {
			c.dropLocked(id, e)
		}
	})
	c.m[id] = e
}

func (c *dekCache) dropLocked(id dekID, e *dekEntry) {
	e.timer.Stop()
	clear(e.key)
	delete(c.m, id)
}

// dropTenant forgets every key of a tenant.
func (c *dekCache) dropTenant(tenant string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.m {
		if id.tenant == tenant {
			c.dropLocked(id, e)
		}
	}
}

// len reports how many keys are cached.
func (c *dekCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// close zeroes every key and refuses new ones.
func (c *dekCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.m {
		c.dropLocked(id, e)
	}
	c.closed = true
}
