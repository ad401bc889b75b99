package crypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// hkdfProvider is a complete key provider for tests: every tenant has its own
// key-encryption key per version, derived from a master key with HKDF-SHA256,
// and wrapping is AES-256-GCM bound to the tenant and key version. Versions
// below minDecrypt are retired (like Vault's min_decryption_version).
type hkdfProvider struct {
	master []byte

	mu         sync.Mutex
	latest     map[string]uint32
	minDecrypt map[string]uint32

	unwraps     atomic.Int64
	unwrapDelay time.Duration
}

func newHKDFProvider(t testing.TB) *hkdfProvider {
	t.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	p := &hkdfProvider{}
	if err := p.Configure(context.Background(), sdk.ConfigValue{"master_key": base64.StdEncoding.EncodeToString(master)}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *hkdfProvider) Schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{{
		Name: "master_key", Type: sdk.TypeString, Required: true, Sensitive: true,
		Description: "base64 of 32 random bytes",
	}}}
}

func (p *hkdfProvider) Configure(_ context.Context, cfg sdk.ConfigValue) error {
	k, err := base64.StdEncoding.DecodeString(cfg.String("master_key"))
	if err != nil || len(k) != 32 {
		return sdk.AttrError("master_key", "must be base64 of 32 bytes")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.master = k
	p.latest = map[string]uint32{}
	p.minDecrypt = map[string]uint32{}
	return nil
}

func (p *hkdfProvider) Health(context.Context) error { return nil }

func (p *hkdfProvider) versions(tenant string) (latest, min uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.latest[tenant], 1), max(p.minDecrypt[tenant], 1)
}

func (p *hkdfProvider) kek(tenant string, v uint32) (cipher.AEAD, error) {
	info := "vire-test-kek\x00" + tenant + "\x00" + strconv.FormatUint(uint64(v), 10)
	key, err := hkdf.Key(sha256.New, p.master, nil, info, 32)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func wrapAAD(tenant string, v uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte(tenant+"\x00"), v)
}

func (p *hkdfProvider) Wrap(_ context.Context, tenant string, dek []byte) (sdk.WrappedKey, error) {
	v, _ := p.versions(tenant)
	a, err := p.kek(tenant, v)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return sdk.WrappedKey{KeyVersion: v, Ciphertext: a.Seal(nonce, nonce, dek, wrapAAD(tenant, v))}, nil
}

func (p *hkdfProvider) Unwrap(_ context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	p.unwraps.Add(1)
	if p.unwrapDelay > 0 {
		time.Sleep(p.unwrapDelay)
	}
	latest, minDec := p.versions(tenant)
	if w.KeyVersion < minDec || w.KeyVersion > latest {
		return nil, fmt.Errorf("key version %d is not decryptable (%d..%d): %w", w.KeyVersion, minDec, latest, sdk.ErrIntegrity)
	}
	a, err := p.kek(tenant, w.KeyVersion)
	if err != nil {
		return nil, err
	}
	if len(w.Ciphertext) < a.NonceSize() {
		return nil, fmt.Errorf("wrapped key too short: %w", sdk.ErrIntegrity)
	}
	n := a.NonceSize()
	dek, err := a.Open(nil, w.Ciphertext[:n], w.Ciphertext[n:], wrapAAD(tenant, w.KeyVersion))
	if err != nil {
		return nil, fmt.Errorf("unwrap failed: %w", sdk.ErrIntegrity)
	}
	return dek, nil
}

func (p *hkdfProvider) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	dek, err := p.Unwrap(ctx, tenant, w)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	defer clear(dek)
	return p.Wrap(ctx, tenant, dek)
}

func (p *hkdfProvider) Rotate(_ context.Context, tenant string) (uint32, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latest[tenant] = max(p.latest[tenant], 1) + 1
	return p.latest[tenant], nil
}

// retire makes versions below v undecryptable.
func (p *hkdfProvider) retire(tenant string, v uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.minDecrypt[tenant] = v
}

func (p *hkdfProvider) Status(_ context.Context, tenant string) (sdk.KeyStatus, error) {
	latest, minDec := p.versions(tenant)
	st := sdk.KeyStatus{Latest: latest, MinDecrypt: minDec, Rotatable: true}
	for v := minDec; v <= latest; v++ {
		st.Versions = append(st.Versions, v)
	}
	return st, nil
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
