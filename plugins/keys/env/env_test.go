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
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/plugins/keys/internal/kektest"
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
	secrets := []string{b64(good), b64(other), b64(good[:31]), b64(good[:16]), "0123456789abcdef0123"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kektest.ConfigError(t, New(hclog.NewNullLogger()), tc.cfg, tc.attr, tc.message, secrets)
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
	kektest.RotationByConfiguration(t, kektest.Rotation[[]byte]{
		Open:       func(t *testing.T, keys ...[]byte) sdk.KeyProvider { return configured(t, keys...) },
		NewSecret:  func(t *testing.T) []byte { return randomKey(t) },
		RotateSays: []string{"retired_keys"},
	})
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
	p := configured(t, randomKey(t))
	kektest.Arguments(t, New(nil), p)
	held := p.ring.Held()[0]
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
	kektest.BenchWrapUnwrap(b, p)
}
