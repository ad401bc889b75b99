package plugintest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/vire-dev/vire/sdk"
)

// memKeys is a small, correct, rotatable KeyProvider used to prove the suite
// passes a correct provider; defect names one deliberate bug.
type memKeys struct {
	defect string

	mu      sync.Mutex
	masters [][]byte // masters[v-1] is version v
}

func newMemKeys(defect string) *memKeys {
	p := &memKeys{defect: defect}
	p.addVersion()
	return p
}

func (p *memKeys) addVersion() uint32 {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	p.masters = append(p.masters, k)
	return uint32(len(p.masters))
}

func (p *memKeys) Schema() sdk.ConfigSchema                         { return sdk.ConfigSchema{} }
func (p *memKeys) Configure(context.Context, sdk.ConfigValue) error { return nil }
func (p *memKeys) Health(context.Context) error                     { return nil }

func (p *memKeys) aead(tenant string, v uint32) (cipher.AEAD, []byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v < 1 || int(v) > len(p.masters) {
		return nil, nil, fmt.Errorf("unknown key version %d: %w", v, sdk.ErrIntegrity)
	}
	mac := hmac.New(sha256.New, p.masters[v-1])
	var aad []byte
	if p.defect != "ignore-tenant" {
		aad = binary.BigEndian.AppendUint32(aad, v)
		aad = binary.BigEndian.AppendUint32(aad, uint32(len(tenant)))
		aad = append(aad, tenant...)
	}
	mac.Write(aad)
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, nil, err
	}
	if p.defect == "no-auth" {
		return nil, aad, nil
	}
	g, err := cipher.NewGCM(block)
	return g, aad, err
}

func (p *memKeys) latest() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return uint32(len(p.masters))
}

func (p *memKeys) Wrap(ctx context.Context, tenant string, dek []byte) (sdk.WrappedKey, error) {
	v := p.latest()
	g, aad, err := p.aead(tenant, v)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	if p.defect == "no-auth" {
		// XOR with a tenant-bound pad and no tag: flips go unnoticed.
		pad := sha256.Sum256(append(p.masters[v-1], aad...))
		ct := make([]byte, len(dek))
		for i := range dek {
			ct[i] = dek[i] ^ pad[i%32]
		}
		return sdk.WrappedKey{KeyVersion: v, Ciphertext: ct}, nil
	}
	nonce := make([]byte, g.NonceSize())
	_, _ = rand.Read(nonce)
	return sdk.WrappedKey{KeyVersion: v, Ciphertext: g.Seal(nonce, nonce, dek, aad)}, nil
}

func (p *memKeys) Unwrap(ctx context.Context, tenant string, w sdk.WrappedKey) ([]byte, error) {
	g, aad, err := p.aead(tenant, w.KeyVersion)
	if err != nil {
		return nil, err
	}
	if p.defect == "no-auth" {
		if len(w.Ciphertext) == 0 {
			return nil, fmt.Errorf("empty: %w", sdk.ErrIntegrity)
		}
		pad := sha256.Sum256(append(p.masters[w.KeyVersion-1], aad...))
		dek := make([]byte, len(w.Ciphertext))
		for i := range dek {
			dek[i] = w.Ciphertext[i] ^ pad[i%32]
		}
		return dek, nil
	}
	ns := g.NonceSize()
	if len(w.Ciphertext) < ns {
		return nil, fmt.Errorf("wrapped key too short: %w", sdk.ErrIntegrity)
	}
	dek, err := g.Open(nil, w.Ciphertext[:ns], w.Ciphertext[ns:], aad)
	if err != nil {
		return nil, fmt.Errorf("wrapped key does not open: %w", sdk.ErrIntegrity)
	}
	return dek, nil
}

func (p *memKeys) Rewrap(ctx context.Context, tenant string, w sdk.WrappedKey) (sdk.WrappedKey, error) {
	dek, err := p.Unwrap(ctx, tenant, w)
	if err != nil {
		return sdk.WrappedKey{}, err
	}
	if p.defect == "rewrap-new-key" {
		_, _ = rand.Read(dek)
	}
	return p.Wrap(ctx, tenant, dek)
}

func (p *memKeys) Rotate(ctx context.Context, tenant string) (uint32, error) {
	if p.defect == "no-rotate" {
		return 0, fmt.Errorf("keys rotate by configuration: %w", sdk.ErrUnsupported)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addVersion(), nil
}

func (p *memKeys) Status(ctx context.Context, tenant string) (sdk.KeyStatus, error) {
	n := p.latest()
	st := sdk.KeyStatus{Latest: n, MinDecrypt: 1, Rotatable: p.defect != "no-rotate"}
	for v := uint32(1); v <= n; v++ {
		st.Versions = append(st.Versions, v)
	}
	return st, nil
}
