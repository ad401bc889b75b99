package env

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// configured returns a provider configured with the given keys, the last
// one as master_key.
func configured(t *testing.T, keys ...[]byte) *Provider {
	t.Helper()
	p := New(hclog.NewNullLogger())
	cfg := sdk.ConfigValue{"master_key": b64(keys[len(keys)-1])}
	if len(keys) > 1 {
		var retired []string
		for _, k := range keys[:len(keys)-1] {
			retired = append(retired, b64(k))
		}
		cfg["retired_keys"] = retired
	}
	cfg, err := p.Schema().Complete(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestConformance(t *testing.T) {
	t.Run("OneKey", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			return configured(t, randomKey(t))
		}})
	})
	t.Run("ThreeVersions", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			return configured(t, randomKey(t), randomKey(t), randomKey(t))
		}})
	})
}

func TestConfigErrors(t *testing.T) {
	good := randomKey(t)
	other := randomKey(t)
	cases := []struct {
		name    string
		cfg     sdk.ConfigValue
		attr    string
		message string
	}{
		{"missing", sdk.ConfigValue{}, "master_key", "not set"},
		{"empty", sdk.ConfigValue{"master_key": ""}, "master_key", "empty"},
		{"blank", sdk.ConfigValue{"master_key": " \n\t "}, "master_key", "empty"},
		{"not a string", sdk.ConfigValue{"master_key": 42.0}, "master_key", "string"},
		{"not base64", sdk.ConfigValue{"master_key": "this is not base64 at all!!"}, "master_key", "not valid base64"},
		{"short", sdk.ConfigValue{"master_key": b64(good[:31])}, "master_key", "31 bytes"},
		{"long", sdk.ConfigValue{"master_key": b64(append(bytes.Clone(good), 0))}, "master_key", "33 bytes"},
		{"sixteen", sdk.ConfigValue{"master_key": b64(good[:16])}, "master_key", "16 bytes"},
		{"hex instead of base64", sdk.ConfigValue{"master_key": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, "master_key", "48 bytes"},
		{"retired not a list", sdk.ConfigValue{"master_key": b64(good), "retired_keys": "x"}, "retired_keys", "list"},
		{"retired bad entry", sdk.ConfigValue{"master_key": b64(good), "retired_keys": []any{b64(other), "nope"}}, "retired_keys", "entry 2"},
		{"retired short", sdk.ConfigValue{"master_key": b64(good), "retired_keys": []string{b64(other[:20])}}, "retired_keys", "20 bytes"},
		{"retired repeats", sdk.ConfigValue{"master_key": b64(good), "retired_keys": []string{b64(other), b64(other)}}, "retired_keys", "repeats entry 1"},
		{"master equals retired", sdk.ConfigValue{"master_key": b64(good), "retired_keys": []string{b64(other), b64(good)}}, "master_key", "retired_keys entry 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := New(hclog.NewNullLogger())
			err := p.Configure(t.Context(), tc.cfg)
			var ce sdk.ConfigErrors
			if !errors.As(err, &ce) || !errors.Is(err, sdk.ErrInvalidConfig) {
				t.Fatalf("Configure = %v, want sdk.ConfigErrors", err)
			}
			found := false
			for _, e := range ce {
				if e.Attribute == tc.attr && strings.Contains(e.Message, tc.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %v lack %s: …%s…", ce, tc.attr, tc.message)
			}
			for _, secret := range []string{b64(good), b64(other), b64(good[:31]), b64(good[:16]), "0123456789abcdef0123"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error quotes a key: %v", err)
				}
			}
			if _, err := p.Wrap(t.Context(), "acme", randomKey(t)); !errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("Wrap after a rejected configuration = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestKeyEncodingsAccepted(t *testing.T) {
	k := randomKey(t)
	for name, s := range map[string]string{
		"standard":          base64.StdEncoding.EncodeToString(k),
		"standard unpadded": base64.RawStdEncoding.EncodeToString(k),
		"url":               base64.URLEncoding.EncodeToString(k),
		"url unpadded":      base64.RawURLEncoding.EncodeToString(k),
		"with whitespace":   "  " + base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := New(nil)
			if err := p.Configure(t.Context(), sdk.ConfigValue{"master_key": s}); err != nil {
				t.Fatal(err)
			}
			// Every spelling yields the same key: a key wrapped under one
			// opens under another.
			ref := configured(t, k)
			dek := randomKey(t)
			w, err := ref.Wrap(t.Context(), "acme", dek)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Unwrap(t.Context(), "acme", w)
			if err != nil || !bytes.Equal(got, dek) {
				t.Fatalf("Unwrap = %v", err)
			}
		})
	}
}

// TestRotationByConfiguration follows the operator's rotation procedure:
// move master_key into retired_keys, set a new master key, restart.
func TestRotationByConfiguration(t *testing.T) {
	ctx := t.Context()
	k1, k2 := randomKey(t), randomKey(t)
	before := configured(t, k1)
	dek := randomKey(t)
	w1, err := before.Wrap(ctx, "acme", dek)
	if err != nil || w1.KeyVersion != 1 {
		t.Fatalf("Wrap = %+v, %v", w1, err)
	}
	_, err = before.Rotate(ctx, "acme")
	if !errors.Is(err, sdk.ErrUnsupported) || !strings.Contains(err.Error(), "retired_keys") {
		t.Fatalf("Rotate = %v, want ErrUnsupported telling the operator to use retired_keys", err)
	}

	after := configured(t, k1, k2)
	st, err := after.Status(ctx, "acme")
	if err != nil || st.Latest != 2 || st.MinDecrypt != 1 || len(st.Versions) != 2 || st.Rotatable {
		t.Fatalf("Status = %+v, %v", st, err)
	}
	got, err := after.Unwrap(ctx, "acme", w1)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("old wrapped key after rotation: %v", err)
	}
	w2, err := after.Rewrap(ctx, "acme", w1)
	if err != nil || w2.KeyVersion != 2 {
		t.Fatalf("Rewrap = %+v, %v", w2, err)
	}
	// Dropping the retired key strands version-1 keys but not rewrapped ones.
	onlyNew := configured(t, k2)
	if _, err := onlyNew.Unwrap(ctx, "acme", w1); !errors.Is(err, sdk.ErrIntegrity) {
		t.Errorf("Unwrap of version 1 with only version 1 configured as a different key: %v", err)
	}
	if _, err := onlyNew.Unwrap(ctx, "acme", w2); !errors.Is(err, sdk.ErrIntegrity) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("Unwrap of version 2 with one version configured: %v", err)
	}
	got, err = configured(t, k1, k2).Unwrap(ctx, "acme", w2)
	if err != nil || !bytes.Equal(got, dek) {
		t.Errorf("rewrapped key: %v", err)
	}
	// A version-2 key opened as version 1 (a lying KeyVersion) fails.
	if _, err := after.Unwrap(ctx, "acme", sdk.WrappedKey{KeyVersion: 1, Ciphertext: w2.Ciphertext}); !errors.Is(err, sdk.ErrIntegrity) {
		t.Errorf("Unwrap with a wrong KeyVersion: %v", err)
	}
}

// TestDocumentedFormat rebuilds a wrapped key from the package
// documentation with nothing but crypto/hmac and crypto/cipher, so the
// format cannot drift without this test noticing.
func TestDocumentedFormat(t *testing.T) {
	master := randomKey(t)
	const tenant = "t_01HZX3"
	const version = 1
	hmacSum := func(key, msg []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return m.Sum(nil)
	}
	// RFC 5869: PRK = HMAC(salt, IKM); OKM = T(1) = HMAC(PRK, info || 0x01).
	prk := hmacSum([]byte(tenant), master)
	kek := hmacSum(prk, append([]byte("vire env key provider v1 kek"), 1))
	aad := []byte("vire env key provider v1 wrap\x00")
	aad = binary.BigEndian.AppendUint32(aad, version)
	aad = binary.BigEndian.AppendUint32(aad, uint32(len(tenant)))
	aad = append(aad, tenant...)
	block, err := aes.NewCipher(kek)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}

	p := configured(t, master)
	dek := randomKey(t)
	nonce := randomKey(t)[:12]
	byHand := sdk.WrappedKey{KeyVersion: version, Ciphertext: gcm.Seal(bytes.Clone(nonce), nonce, dek, aad)}
	got, err := p.Unwrap(t.Context(), tenant, byHand)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("provider cannot open a key wrapped by the documented format: %v", err)
	}
	w, err := p.Wrap(t.Context(), tenant, dek)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Ciphertext) != 12+len(dek)+16 {
		t.Fatalf("wrapped key is %d bytes, want nonce+dek+tag = %d", len(w.Ciphertext), 12+len(dek)+16)
	}
	opened, err := gcm.Open(nil, w.Ciphertext[:12], w.Ciphertext[12:], aad)
	if err != nil || !bytes.Equal(opened, dek) {
		t.Fatalf("the documented format cannot open the provider's wrapped key: %v", err)
	}
	// HKDF pads the salt, so "x" and "x\x00" derive one KEK; the AAD keeps
	// their wrapped keys apart.
	wx, err := p.Wrap(t.Context(), "x", dek)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Unwrap(t.Context(), "x\x00", wx); !errors.Is(err, sdk.ErrIntegrity) {
		t.Errorf("tenant x\\x00 opened tenant x's key: %v", err)
	}
}

func TestArgumentsAndLifecycle(t *testing.T) {
	ctx := t.Context()
	p := New(nil)
	if err := p.Health(ctx); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Health before Configure = %v", err)
	}
	if _, err := p.Status(ctx, "acme"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Status before Configure = %v", err)
	}
	p = configured(t, randomKey(t))
	if _, err := p.Wrap(ctx, "acme", nil); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Wrap of an empty key = %v", err)
	}
	if _, err := p.Wrap(ctx, "acme", make([]byte, maxDEK+1)); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Wrap of an oversized key = %v", err)
	}
	for _, v := range []uint32{0, 2, 1 << 31} {
		if _, err := p.Unwrap(ctx, "acme", sdk.WrappedKey{KeyVersion: v, Ciphertext: make([]byte, 60)}); !errors.Is(err, sdk.ErrIntegrity) {
			t.Errorf("Unwrap with KeyVersion %d = %v", v, err)
		}
	}
	p.mu.RLock()
	held := p.keys[0]
	p.mu.RUnlock()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(held, make([]byte, 32)) {
		t.Error("Close left the master key in memory")
	}
	if _, err := p.Wrap(ctx, "acme", randomKey(t)); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Wrap after Close = %v", err)
	}
}

func BenchmarkWrapUnwrap(b *testing.B) {
	p := New(nil)
	if err := p.Configure(b.Context(), sdk.ConfigValue{"master_key": b64(randomKey(b))}); err != nil {
		b.Fatal(err)
	}
	dek := randomKey(b)
	for b.Loop() {
		w, err := p.Wrap(b.Context(), "acme", dek)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Unwrap(b.Context(), "acme", w); err != nil {
			b.Fatal(err)
		}
	}
}
