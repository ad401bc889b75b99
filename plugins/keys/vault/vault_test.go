package vault

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/faketransit"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

func TestConformance(t *testing.T) {
	t.Run("Token", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			return configured(t, newFake(t, faketransit.Options{}), nil, nil)
		}})
	})
	t.Run("AppRole", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			s := newFake(t, faketransit.Options{})
			s.AddAppRole("vire-role", "vire-secret", time.Hour, docPolicy(t)...)
			return configured(t, s, sdk.ConfigValue{"role_id": "vire-role", "secret_id": "vire-secret"}, nil)
		}})
	})
	t.Run("Namespace", func(t *testing.T) {
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			s := faketransit.New(t, faketransit.Options{})
			s.Mount("team-a/kms", "transit")
			p := configured(t, s, sdk.ConfigValue{"token": s.RootToken, "namespace": "team-a", "mount": "kms", "key_name": "tenants"}, nil)
			if s.Calls("POST", "team-a/kms/keys/tenants") != 1 {
				t.Fatal("the key was not created inside the namespace")
			}
			return p
		}})
	})
	t.Run("RealVault", func(t *testing.T) {
		addr, tok := os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
		if addr == "" || tok == "" {
			t.Skip("VAULT_ADDR and VAULT_TOKEN are not set, so there is no real Vault to run against. " +
				"No Vault server can be installed on these machines, so this skip stands even with VIRE_REQUIRE_SERVICES=1; " +
				"the faketransit runs above cover the protocol. Start `vault server -dev -dev-root-token-id=root` and set " +
				"VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root to run it.")
		}
		mountTransit(t, addr, tok)
		plugintest.RunKeyProvider(t, plugintest.KeyHarness{Open: func(t *testing.T) sdk.KeyProvider {
			name := "vire-conformance-" + hex.EncodeToString(newDEK(t)[:6])
			t.Cleanup(func() { deleteRealKey(t, addr, tok, name) })
			p := New(hclog.NewNullLogger())
			cfg, err := p.Schema().Complete(sdk.ConfigValue{"address": addr, "token": tok, "key_name": name})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Configure(t.Context(), cfg); err != nil {
				t.Fatalf("Configure against %s: %v", addr, err)
			}
			t.Cleanup(func() { p.Close() })
			return p
		}})
	})
}

// realVault sends one request to a real Vault for test setup.
func realVault(t *testing.T, method, addr, tok, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(addr, "/")+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mountTransit enables transit/ on a real Vault unless it already is.
func mountTransit(t *testing.T, addr, tok string) {
	t.Helper()
	status, body := realVault(t, "POST", addr, tok, "sys/mounts/transit", map[string]any{"type": "transit"})
	if status != http.StatusNoContent && !strings.Contains(body, "already in use") {
		t.Fatalf("mounting transit on %s: HTTP %d %s", addr, status, body)
	}
}

func deleteRealKey(t *testing.T, addr, tok, name string) {
	realVault(t, "POST", addr, tok, "transit/keys/"+name+"/config", map[string]any{"deletion_allowed": true})
	if status, body := realVault(t, "DELETE", addr, tok, "transit/keys/"+name, nil); status != http.StatusNoContent {
		t.Logf("deleting test key %s: HTTP %d %s", name, status, body)
	}
}

func TestUnconfigured(t *testing.T) {
	p := New(nil)
	ctx := t.Context()
	_, err := p.Wrap(ctx, "acme", newDEK(t))
	wantKind(t, err, sdk.ErrUnavailable, "Wrap", "not configured")
	_, err = p.Unwrap(ctx, "acme", sdk.WrappedKey{KeyVersion: 1, Ciphertext: []byte("vault:v1:x")})
	wantKind(t, err, sdk.ErrUnavailable, "Unwrap")
	wantKind(t, p.Health(ctx), sdk.ErrUnavailable, "Health")
}

func TestArguments(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	p := configured(t, s, nil, nil)
	ctx := t.Context()
	_, err := p.Wrap(ctx, "", newDEK(t))
	wantKind(t, err, sdk.ErrInvalidArgument, "Wrap for an empty tenant")
	_, err = p.Wrap(ctx, "acme", nil)
	wantKind(t, err, sdk.ErrInvalidArgument, "Wrap of an empty key")
	_, err = p.Wrap(ctx, "acme", make([]byte, maxDEK+1))
	wantKind(t, err, sdk.ErrInvalidArgument, "Wrap of a huge key")
	_, err = p.Rotate(ctx, "")
	wantKind(t, err, sdk.ErrInvalidArgument, "Rotate for an empty tenant")

	w, err := p.Wrap(ctx, "acme", newDEK(t))
	if err != nil {
		t.Fatal(err)
	}
	before := s.Requests()
	for name, bad := range map[string]sdk.WrappedKey{
		"version mismatch":  {KeyVersion: 2, Ciphertext: w.Ciphertext},
		"version zero":      {KeyVersion: 1, Ciphertext: bytes.Replace(w.Ciphertext, []byte("v1:"), []byte("v0:"), 1)},
		"leading zero":      {KeyVersion: 1, Ciphertext: bytes.Replace(w.Ciphertext, []byte("v1:"), []byte("v01:"), 1)},
		"newline in base64": {KeyVersion: 1, Ciphertext: append(append(bytes.Clone(w.Ciphertext[:20]), '\n'), w.Ciphertext[20:]...)},
		"json injection":    {KeyVersion: 1, Ciphertext: append(bytes.Clone(w.Ciphertext), `","context":"`...)},
	} {
		_, err := p.Unwrap(ctx, "acme", bad)
		wantKind(t, err, sdk.ErrIntegrity, name, "damaged")
		_, err = p.Rewrap(ctx, "acme", bad)
		wantKind(t, err, sdk.ErrIntegrity, name+" (rewrap)")
	}
	if n := s.Requests() - before; n != 0 {
		t.Errorf("malformed wrapped keys reached Vault %d times", n)
	}
}

func TestParseCiphertext(t *testing.T) {
	sealed := strings.Repeat("A", 36) + "AA==" // 28 bytes: a nonce and a tag
	for _, tc := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"vault:v1:" + sealed, 1, true},
		{"vault:v1:" + strings.Repeat("A", 40), 1, true},
		{"vault:v4294967295:" + sealed, 4294967295, true},
		{"vault:v4294967296:" + sealed, 0, false},
		{"vault:v0:" + sealed, 0, false},
		{"vault:v01:" + sealed, 0, false},
		{"vault:v+1:" + sealed, 0, false},
		{"vault:v-1:" + sealed, 0, false},
		{"vault:v:" + sealed, 0, false},
		{"vault:v1" + sealed, 0, false},
		{"vault:v1:" + strings.Repeat("A", 36), 0, false},            // 27 bytes: shorter than a nonce and a tag
		{"vault:v1:" + strings.Repeat("A", 36) + "AB==", 0, false},   // non-zero padding bits
		{"vault:v1:" + sealed[:20] + "\r\n" + sealed[20:], 0, false}, // Go's decoder would skip these
		{"vault:v1:" + strings.Repeat("A", 36) + "AA", 0, false},     // unpadded
		{"Vault:v1:" + sealed, 0, false},
		{"vault:v1:" + sealed + "====", 0, false},
		{"", 0, false},
		{"vault:v1:" + strings.Repeat("A", maxCiphertext), 0, false},
	} {
		got, err := parseCiphertext([]byte(tc.in))
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("parseCiphertext(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, errNotTransit) {
			t.Errorf("parseCiphertext(%q): error %v does not wrap errNotTransit", tc.in, err)
		}
	}
}

// FuzzParseCiphertext checks that whatever parses is canonical: printing
// the parsed version back with the payload gives the input.
func FuzzParseCiphertext(f *testing.F) {
	f.Add([]byte("vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	f.Add([]byte("vault:v12:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="))
	f.Add([]byte("vault:v0:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := parseCiphertext(b)
		if err != nil {
			return
		}
		_, payload, _ := bytes.Cut(b[len(ciphertextPrefix):], []byte(":"))
		if canon := fmt.Sprintf("vault:v%d:%s", v, payload); canon != string(b) || v == 0 {
			t.Fatalf("accepted non-canonical %q (version %d)", b, v)
		}
	})
}
