package crypt

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/sdk"
)

// newMasterKey returns a fresh random master key in the env provider's
// configuration form.
func newMasterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// newEnvProvider returns the env key provider configured with master as its
// latest key version and retired as versions 1..len(retired).
func newEnvProvider(t testing.TB, master string, retired ...string) *countingProvider {
	t.Helper()
	p := env.New(nil)
	cfg := sdk.ConfigValue{"master_key": master}
	if len(retired) > 0 {
		l := make([]any, len(retired))
		for i, r := range retired {
			l[i] = r
		}
		cfg["retired_keys"] = l
	}
	complete, err := p.Schema().Complete(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(context.Background(), complete); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &countingProvider{KeyProvider: p}
}

// countingProvider counts unwraps of a real provider and can slow them down,
// to observe caching and coalescing.
type countingProvider struct {
	sdk.KeyProvider
	unwraps     atomic.Int64
	unwrapDelay time.Duration
}

func (c *countingProvider) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	c.unwraps.Add(1)
	if c.unwrapDelay > 0 {
		time.Sleep(c.unwrapDelay)
	}
	return c.KeyProvider.Unwrap(ctx, tenant, w)
}

// memKeyrings is an in-memory KeyringStore with real compare-and-swap.
type memKeyrings struct {
	mu    sync.Mutex
	data  map[string][]byte
	revs  map[string]int
	saves atomic.Int64
}

func newMemKeyrings() *memKeyrings {
	return &memKeyrings{data: map[string][]byte{}, revs: map[string]int{}}
}

func (m *memKeyrings) LoadKeyring(_ context.Context, tenant string) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.data[tenant]
	if !ok {
		return nil, "", fmt.Errorf("keyring %q: %w", tenant, sdk.ErrNotFound)
	}
	return append([]byte(nil), d...), strconv.Itoa(m.revs[tenant]), nil
}

func (m *memKeyrings) SaveKeyring(_ context.Context, tenant string, data []byte, rev string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, exists := m.data[tenant]
	switch {
	case rev == "" && exists:
		return "", fmt.Errorf("keyring %q exists: %w", tenant, sdk.ErrPrecondition)
	case rev != "" && (!exists || strconv.Itoa(m.revs[tenant]) != rev):
		return "", fmt.Errorf("keyring %q changed: %w", tenant, sdk.ErrPrecondition)
	}
	m.saves.Add(1)
	m.data[tenant] = append([]byte(nil), data...)
	m.revs[tenant]++
	return strconv.Itoa(m.revs[tenant]), nil
}

// set overwrites a stored keyring unconditionally (to simulate damage).
func (m *memKeyrings) set(tenant string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.data[tenant] = data
	m.revs[tenant]++
}

func (m *memKeyrings) get(tenant string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.data[tenant]...)
}

// newTestEnvelope builds an Envelope over p and ks, closed at test end.
func newTestEnvelope(t testing.TB, p sdk.KeyProvider, ks KeyringStore, mod func(*Options)) *Envelope {
	t.Helper()
	o := Options{Provider: p, ProviderID: "test", Keyrings: ks}
	if mod != nil {
		mod(&o)
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}
