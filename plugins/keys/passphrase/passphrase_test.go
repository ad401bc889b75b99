package passphrase

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/crypto/argon2"

	"github.com/vire-dev/vire/plugins/keys/internal/kektest"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// Small Argon2id costs keep the tests fast; the schema allows them and the
// provider warns about them.
const (
	testTime      = 1
	testMemoryKiB = 8 * 1024
)

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func newSalt(t testing.TB) string { return base64.StdEncoding.EncodeToString(randomBytes(t, 16)) }

// newPassphrase returns a random passphrase of 24 characters.
func newPassphrase(t testing.TB) string {
	return "pass-" + base64.RawURLEncoding.EncodeToString(randomBytes(t, 14))
}

// testConfig is a configuration with cheap Argon2id costs; the last
// passphrase is the current one.
func testConfig(salt string, passphrases ...string) sdk.ConfigValue {
	cfg := sdk.ConfigValue{
		"passphrase": passphrases[len(passphrases)-1],
		"salt":       salt,
		"time":       testTime,
		"memory_kib": testMemoryKiB,
	}
	if len(passphrases) > 1 {
		cfg["retired_passphrases"] = passphrases[:len(passphrases)-1]
	}
	return cfg
}

func configuredWith(t testing.TB, log hclog.Logger, cfg sdk.ConfigValue) *Provider {
	t.Helper()
	p := New(log)
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

func configured(t testing.TB, salt string, passphrases ...string) *Provider {
	t.Helper()
	return configuredWith(t, nil, testConfig(salt, passphrases...))
}

func TestConformance(t *testing.T) {
	t.Run("OneVersion", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			return configured(t, newSalt(t), newPassphrase(t))
		}})
	})
	t.Run("ThreeVersions", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			return configured(t, newSalt(t), newPassphrase(t), newPassphrase(t), newPassphrase(t))
		}})
	})
}

func TestSchema(t *testing.T) {
	s := New(nil).Schema()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, sensitive := range map[string]bool{
		"passphrase": true, "retired_passphrases": true, "salt": false, "time": false, "memory_kib": false, "threads": false,
	} {
		a, ok := s.Attribute(name)
		if !ok {
			t.Errorf("schema lacks %s", name)
			continue
		}
		if a.Sensitive != sensitive {
			t.Errorf("%s: sensitive = %v, want %v", name, a.Sensitive, sensitive)
		}
		if a.Description == "" {
			t.Errorf("%s has no description", name)
		}
	}
	if a, _ := s.Attribute("salt"); !a.Required || !strings.Contains(a.Description, "openssl rand -base64 16") {
		t.Errorf("salt must be required and say how to make one: %+v", a)
	}
	cfg, err := s.Complete(sdk.ConfigValue{"passphrase": "x", "salt": "y"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Int("time") != DefaultTime || cfg.Int("memory_kib") != DefaultMemoryKiB || cfg.Int("threads") != DefaultThreads {
		t.Errorf("defaults = %v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	good := newPassphrase(t)
	other := newPassphrase(t)
	salt := newSalt(t)
	with := func(kv ...any) sdk.ConfigValue {
		cfg := testConfig(salt, good)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(cfg, kv[i].(string))
				continue
			}
			cfg[kv[i].(string)] = kv[i+1]
		}
		return cfg
	}
	cases := []struct {
		name    string
		cfg     sdk.ConfigValue
		attr    string
		message string
	}{
		{"missing passphrase", with("passphrase", nil), "passphrase", "not set"},
		{"empty", with("passphrase", ""), "passphrase", "empty"},
		{"short", with("passphrase", "elevenchars"), "passphrase", "11 characters long; use at least 12"},
		{"short in runes", with("passphrase", "ééééééééééé"), "passphrase", "11 characters"},
		{"trailing newline", with("passphrase", good+"\n"), "passphrase", "trailing newline"},
		{"leading space", with("passphrase", " "+good), "passphrase", "whitespace"},
		{"not a string", with("passphrase", 42.0), "passphrase", "string"},
		{"not utf-8", with("passphrase", "\xff\xfe"+good), "passphrase", "UTF-8"},
		{"huge", with("passphrase", strings.Repeat("a", 2000)), "passphrase", "2000 bytes"},
		{"missing salt", with("salt", nil), "salt", "openssl rand -base64 16"},
		{"salt not base64", with("salt", "not base64!!"), "salt", "not valid base64"},
		{"salt short", with("salt", base64.StdEncoding.EncodeToString([]byte("fifteen bytes!!"))), "salt", "15 bytes"},
		{"salt long", with("salt", base64.StdEncoding.EncodeToString(make([]byte, 65))), "salt", "65 bytes"},
		{"salt not a string", with("salt", true), "salt", "string"},
		{"time zero", with("time", 0.0), "time", "1 to 64"},
		{"time fraction", with("time", 1.5), "time", "whole number"},
		{"time string", with("time", "3"), "time", "whole number"},
		{"memory too small", with("memory_kib", 4096.0), "memory_kib", "8192 to"},
		{"memory too large", with("memory_kib", float64(8<<20)), "memory_kib", "to 4194304"},
		{"threads zero", with("threads", 0.0), "threads", "1 to 16"},
		{"threads huge", with("threads", 300.0), "threads", "1 to 16"},
		{"retired not a list", with("retired_passphrases", "x"), "retired_passphrases", "list"},
		{"retired short", with("retired_passphrases", []string{other, "short"}), "retired_passphrases", "entry 2 is 5 characters"},
		{"retired repeats", with("retired_passphrases", []string{other, other}), "retired_passphrases", "entry 2 repeats entry 1"},
		{"current equals retired", with("retired_passphrases", []any{other, good}), "passphrase", "retired_passphrases entry 2"},
	}
	secrets := []string{good, other, "elevenchars", "short"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kektest.ConfigError(t, New(hclog.NewNullLogger()), tc.cfg, tc.attr, tc.message, secrets)
		})
	}
}

// TestDerivationInputs checks that the passphrase, the salt and every
// Argon2id parameter are part of the key, and that the key is the same
// for the same inputs (another process, a restart).
func TestDerivationInputs(t *testing.T) {
	ctx := t.Context()
	pass, salt := newPassphrase(t), newSalt(t)
	base := testConfig(salt, pass)
	ref := configuredWith(t, nil, base)
	dek := randomBytes(t, 32)
	w, err := ref.Wrap(ctx, "acme", dek)
	if err != nil {
		t.Fatal(err)
	}
	again := configuredWith(t, nil, testConfig(salt, pass))
	if got, err := again.Unwrap(ctx, "acme", w); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("a provider configured alike cannot open the key: %v", err)
	}
	// The same salt in another base64 spelling is the same salt.
	raw, _ := base64.StdEncoding.DecodeString(salt)
	respelled := configuredWith(t, nil, testConfig(" "+base64.RawURLEncoding.EncodeToString(raw)+"\n", pass))
	if got, err := respelled.Unwrap(ctx, "acme", w); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("the salt in URL base64 derives another key: %v", err)
	}
	for name, change := range map[string]sdk.ConfigValue{
		"passphrase": {"passphrase": pass + "!"},
		"salt":       {"salt": newSalt(t)},
		"time":       {"time": testTime + 1},
		"memory_kib": {"memory_kib": testMemoryKiB + 1024},
		"threads":    {"threads": DefaultThreads + 1},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(salt, pass)
			for k, v := range change {
				cfg[k] = v
			}
			p := configuredWith(t, nil, cfg)
			got, err := p.Unwrap(ctx, "acme", w)
			if !errors.Is(err, sdk.ErrIntegrity) || got != nil {
				t.Fatalf("Unwrap with a different %s = %d bytes, %v; want ErrIntegrity", name, len(got), err)
			}
			if !strings.Contains(err.Error(), "salt or Argon2id parameters") {
				t.Errorf("the error does not point at the likely cause: %v", err)
			}
		})
	}
}

// TestDocumentedFormat rebuilds a wrapped key from the package
// documentation with argon2, crypto/hmac and crypto/cipher, so the format
// cannot drift without this test noticing.
func TestDocumentedFormat(t *testing.T) {
	pass := newPassphrase(t)
	saltRaw := randomBytes(t, 16)
	const tenant = "t_01HZX3"
	const version = 1
	master := argon2.IDKey([]byte(pass), saltRaw, testTime, testMemoryKiB, DefaultThreads, 32)
	hmacSum := func(key, msg []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		return m.Sum(nil)
	}
	// RFC 5869: PRK = HMAC(salt, IKM); OKM = T(1) = HMAC(PRK, info || 0x01).
	prk := hmacSum([]byte(tenant), master)
	kek := hmacSum(prk, append([]byte("vire passphrase key provider v1 kek"), 1))
	aad := []byte("vire passphrase key provider v1 wrap\x00")
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

	p := configured(t, base64.StdEncoding.EncodeToString(saltRaw), pass)
	dek := randomBytes(t, 32)
	nonce := randomBytes(t, 12)
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
	// Never a bare hash: a KEK derived from SHA-256(passphrase) instead of
	// Argon2id does not open the wrapped key.
	bare := sha256.Sum256([]byte(pass))
	prk = hmacSum([]byte(tenant), bare[:])
	weak, _ := aes.NewCipher(hmacSum(prk, append([]byte("vire passphrase key provider v1 kek"), 1)))
	weakGCM, _ := cipher.NewGCM(weak)
	if _, err := weakGCM.Open(nil, w.Ciphertext[:12], w.Ciphertext[12:], aad); err == nil {
		t.Fatal("a key derived from a bare SHA-256 of the passphrase opens the wrapped key")
	}
}

// TestRotationByConfiguration follows the operator's rotation procedure:
// move passphrase into retired_passphrases, set a new one, restart.
func TestRotationByConfiguration(t *testing.T) {
	salt := newSalt(t)
	kektest.RotationByConfiguration(t, kektest.Rotation[string]{
		Open:       func(t *testing.T, passphrases ...string) sdk.KeyProvider { return configured(t, salt, passphrases...) },
		NewSecret:  func(t *testing.T) string { return newPassphrase(t) },
		RotateSays: []string{"retired_passphrases", "keys rewrap"},
	})
}

// syncBuffer is a log sink safe for the provider's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWeakParametersWarn(t *testing.T) {
	pass, salt := newPassphrase(t), newSalt(t)
	for _, tc := range []struct {
		name string
		cfg  sdk.ConfigValue
		warn bool
	}{
		{"test costs", sdk.ConfigValue{"time": 1, "memory_kib": 8192}, true},
		{"enough memory, too few passes", sdk.ConfigValue{"time": 1, "memory_kib": 65536}, true},
		{"defaults", sdk.ConfigValue{}, false},
		{"more memory, fewer passes", sdk.ConfigValue{"time": 2, "memory_kib": 131072, "threads": 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := &syncBuffer{}
			log := hclog.New(&hclog.LoggerOptions{Output: buf, Level: hclog.Info})
			cfg := sdk.ConfigValue{"passphrase": pass, "salt": salt}
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			configuredWith(t, log, cfg)
			out := buf.String()
			if got := strings.Contains(out, "[WARN]") && strings.Contains(out, "below the recommended"); got != tc.warn {
				t.Errorf("warning logged = %v, want %v:\n%s", got, tc.warn, out)
			}
			if !strings.Contains(out, "configured") {
				t.Errorf("no configured line:\n%s", out)
			}
			if strings.Contains(out, pass) || strings.Contains(out, salt) {
				t.Errorf("the log holds the passphrase or the salt:\n%s", out)
			}
		})
	}
}

func TestArgumentsAndLifecycle(t *testing.T) {
	ctx := t.Context()
	salt := newSalt(t)
	p := configured(t, salt, newPassphrase(t))
	kektest.Arguments(t, New(nil), p)

	// Reconfiguring zeroes the keys it replaces.
	first := p.ring.Held()[0]
	if bytes.Equal(first, make([]byte, keySize)) {
		t.Fatal("master key is all zeros")
	}
	if err := p.Configure(ctx, testConfig(salt, newPassphrase(t), newPassphrase(t))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, make([]byte, keySize)) {
		t.Error("a new configuration left the previous master key in memory")
	}
	if st, err := p.Status(ctx, "acme"); err != nil || st.Latest != 2 {
		t.Errorf("Status after reconfiguring = %+v, %v", st, err)
	}

	held := p.ring.Held()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for i, m := range held {
		if !bytes.Equal(m, make([]byte, keySize)) {
			t.Errorf("Close left master key %d in memory", i+1)
		}
	}
	if _, err := p.Wrap(ctx, "acme", randomBytes(t, 32)); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Wrap after Close = %v", err)
	}
	if err := p.Health(ctx); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Health after Close = %v", err)
	}
}

// TestConfigureCancelled: a cancelled context stops stretching and leaves
// the previous configuration in place.
func TestConfigureCancelled(t *testing.T) {
	salt := newSalt(t)
	p := configured(t, salt, newPassphrase(t))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Configure(ctx, testConfig(salt, newPassphrase(t), newPassphrase(t))); !errors.Is(err, ctx.Err()) {
		t.Fatalf("Configure with a cancelled context = %v", err)
	}
	if st, err := p.Status(t.Context(), "acme"); err != nil || st.Latest != 1 {
		t.Errorf("the previous configuration did not survive: %+v, %v", st, err)
	}
}

// BenchmarkStretch measures one Argon2id run with the default costs: what
// Configure pays per configured passphrase.
func BenchmarkStretch(b *testing.B) {
	salt := randomBytes(b, 16)
	pr := params{time: DefaultTime, memoryKiB: DefaultMemoryKiB, threads: DefaultThreads}
	for b.Loop() {
		clear(stretch("correct horse battery staple", salt, pr))
	}
}

func BenchmarkWrapUnwrap(b *testing.B) {
	kektest.BenchWrapUnwrap(b, configured(b, newSalt(b), newPassphrase(b)))
}
