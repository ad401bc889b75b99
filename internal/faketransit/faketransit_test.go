package faketransit

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

type reply struct {
	status int
	body   map[string]any
}

func (r reply) data() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

func (r reply) errs() string {
	l, _ := r.body["errors"].([]any)
	var parts []string
	for _, e := range l {
		s, _ := e.(string)
		parts = append(parts, s)
	}
	return strings.Join(parts, "|")
}

func call(t *testing.T, s *Server, method, path, tok string, body any, hdr ...string) reply {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, s.URL+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("X-Vault-Token", tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: status %d, undecodable body: %v", method, path, resp.StatusCode, err)
		}
	}
	return reply{status: resp.StatusCode, body: out}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func want(t *testing.T, r reply, status int, errPart string) {
	t.Helper()
	if r.status != status || !strings.Contains(r.errs(), errPart) {
		t.Fatalf("got %d %v, want %d with an error containing %q", r.status, r.body, status, errPart)
	}
}

// setup returns a server with transit mounted through the API and a derived
// key "k".
func setup(t *testing.T) *Server {
	s := New(t, Options{})
	root := s.RootToken
	want(t, call(t, s, "POST", "sys/mounts/transit", root, map[string]any{"type": "transit"}), 204, "")
	want(t, call(t, s, "POST", "sys/mounts/transit", root, map[string]any{"type": "transit"}), 400, "path is already in use at transit/")
	want(t, call(t, s, "POST", "transit/keys/k", root, map[string]any{"type": "aes256-gcm96", "derived": true}), 200, "")
	return s
}

func TestRoutesAndMounts(t *testing.T) {
	s := New(t, Options{})
	want(t, call(t, s, "GET", "transit/keys/k", s.RootToken, nil), 404, `no handler for route "transit/keys/k"`)
	other := s.CreateToken(0)
	want(t, call(t, s, "GET", "transit/keys/k", other, nil), 403, "permission denied")
	want(t, call(t, s, "POST", "sys/mounts/transit", other, map[string]any{"type": "transit"}), 403, "permission denied")
	s.Mount("transit", "transit")
	r := call(t, s, "GET", "transit/keys/k", s.RootToken, nil)
	if r.status != 404 || r.errs() != "" || r.body["errors"] == nil {
		t.Fatalf("read of a missing key: %d %v, want 404 with an empty errors list", r.status, r.body)
	}
	want(t, call(t, s, "GET", "transit/keys/bad!name", s.RootToken, nil), 404, "unsupported path")
	if r := call(t, s, "GET", "sys/health", "", nil); r.status != 200 || r.body["sealed"] != false || r.body["initialized"] != true {
		t.Fatalf("health: %d %v", r.status, r.body)
	}
}

func TestKeyLifecycle(t *testing.T) {
	s := setup(t)
	root := s.RootToken
	r := call(t, s, "GET", "transit/keys/k", root, nil)
	d := r.data()
	if r.status != 200 || d["derived"] != true || d["type"] != "aes256-gcm96" || d["kdf"] != "hkdf_sha256" ||
		d["latest_version"] != 1.0 || d["min_decryption_version"] != 1.0 {
		t.Fatalf("read: %d %v", r.status, d)
	}
	if keys, _ := d["keys"].(map[string]any); len(keys) != 1 || keys["1"] == nil {
		t.Fatalf("keys map: %v", d["keys"])
	}
	again := call(t, s, "POST", "transit/keys/k", root, map[string]any{"derived": true})
	if w, _ := again.body["warnings"].([]any); again.status != 200 || len(w) != 1 {
		t.Fatalf("creating an existing key: %d %v", again.status, again.body)
	}
	want(t, call(t, s, "POST", "transit/keys/x", root, map[string]any{"type": "nonsense"}), 400, "unknown key type nonsense")
	want(t, call(t, s, "POST", "transit/keys/missing/rotate", root, nil), 400, "key not found")

	old := call(t, s, "POST", "transit/encrypt/k", root, map[string]any{"plaintext": b64("secret"), "context": b64("acme")})
	oldCT, _ := old.data()["ciphertext"].(string)
	if !strings.HasPrefix(oldCT, "vault:v1:") || old.data()["key_version"] != 1.0 {
		t.Fatalf("encrypt: %v", old.body)
	}
	rot := call(t, s, "POST", "transit/keys/k/rotate", root, nil)
	if rot.status != 200 || rot.data()["latest_version"] != 2.0 {
		t.Fatalf("rotate: %d %v", rot.status, rot.body)
	}
	ct2, _ := call(t, s, "POST", "transit/encrypt/k", root, map[string]any{"plaintext": b64("x"), "context": b64("acme")}).data()["ciphertext"].(string)
	ctOld, _ := call(t, s, "POST", "transit/encrypt/k", root, map[string]any{"plaintext": b64("x"), "context": b64("acme"), "key_version": 1}).data()["ciphertext"].(string)
	if !strings.HasPrefix(ct2, "vault:v2:") || !strings.HasPrefix(ctOld, "vault:v1:") {
		t.Fatalf("after rotate: %q, with key_version 1: %q", ct2, ctOld)
	}
	want(t, call(t, s, "POST", "transit/encrypt/k", root, map[string]any{"plaintext": b64("x"), "context": b64("acme"), "key_version": 3}), 400, "higher than the latest key version")

	rw := call(t, s, "POST", "transit/rewrap/k", root, map[string]any{"ciphertext": oldCT, "context": b64("acme")})
	rwCT, _ := rw.data()["ciphertext"].(string)
	if !strings.HasPrefix(rwCT, "vault:v2:") || rw.data()["plaintext"] != nil {
		t.Fatalf("rewrap: %v", rw.body)
	}
	want(t, call(t, s, "POST", "transit/keys/k/config", root, map[string]any{"min_decryption_version": 3}), 400,
		"cannot set min decryption version of 3, latest key version is 2")
	cfg := call(t, s, "POST", "transit/keys/k/config", root, map[string]any{"min_decryption_version": 2})
	if keys, _ := cfg.data()["keys"].(map[string]any); cfg.status != 200 || len(keys) != 1 || keys["2"] == nil {
		t.Fatalf("config: %d %v", cfg.status, cfg.body)
	}
	want(t, call(t, s, "POST", "transit/decrypt/k", root, map[string]any{"ciphertext": oldCT, "context": b64("acme")}), 400, errTooOld)
	dec := call(t, s, "POST", "transit/decrypt/k", root, map[string]any{"ciphertext": rwCT, "context": b64("acme")})
	if dec.data()["plaintext"] != b64("secret") {
		t.Fatalf("decrypt of the rewrapped ciphertext: %v", dec.body)
	}
	want(t, call(t, s, "POST", "transit/encrypt/k", root, map[string]any{"plaintext": b64("x"), "context": b64("acme"), "key_version": 1}), 400, "")

	want(t, call(t, s, "DELETE", "transit/keys/k", root, nil), 400, "deletion is not allowed")
	call(t, s, "POST", "transit/keys/k/config", root, map[string]any{"deletion_allowed": true})
	want(t, call(t, s, "DELETE", "transit/keys/k", root, nil), 204, "")
	want(t, call(t, s, "POST", "transit/decrypt/k", root, map[string]any{"ciphertext": rwCT, "context": b64("acme")}), 400, "encryption key not found")
}

// TestRealCrypto opens a ciphertext outside the server with the documented
// derivation, so the fake's cryptography is the real thing.
func TestRealCrypto(t *testing.T) {
	s := setup(t)
	r := call(t, s, "POST", "transit/encrypt/k", s.RootToken, map[string]any{"plaintext": b64("data key"), "context": b64("tenant-a")})
	ct, _ := r.data()["ciphertext"].(string)
	raw, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(ct, "vault:v1:"))
	if err != nil || len(raw) != 12+len("data key")+16 {
		t.Fatalf("ciphertext %q: %v", ct, err)
	}
	s.mu.Lock()
	secret := s.keys["transit/k"].versions[1].secret
	s.mu.Unlock()
	for _, tc := range []struct {
		context string
		opens   bool
	}{{"tenant-a", true}, {"tenant-b", false}, {"tenant-a\x00", false}} {
		k, err := hkdf.Key(sha256.New, secret, nil, tc.context, 32)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := aes.NewCipher(k)
		aead, _ := cipher.NewGCM(block)
		plain, err := aead.Open(nil, raw[:12], raw[12:], nil)
		if tc.opens != (err == nil) || tc.opens && string(plain) != "data key" {
			t.Errorf("context %q: opened=%v (%v)", tc.context, err == nil, err)
		}
	}
}

func TestDecryptErrors(t *testing.T) {
	s := setup(t)
	root := s.RootToken
	ct, _ := call(t, s, "POST", "transit/encrypt/k", root, map[string]any{"plaintext": b64("p"), "context": b64("a")}).data()["ciphertext"].(string)
	for _, tc := range []struct {
		name, ct, context, msg string
	}{
		{"wrong context", ct, b64("b"), "cipher: message authentication failed"},
		{"no context", ct, "", "missing 'context' for key derivation"},
		{"no prefix", strings.TrimPrefix(ct, "vault:"), b64("a"), "invalid ciphertext: no prefix"},
		{"one field", "vault:v1", b64("a"), "invalid ciphertext: wrong number of fields"},
		{"bad version", strings.Replace(ct, "v1", "vX", 1), b64("a"), "version number could not be decoded"},
		{"too new", strings.Replace(ct, "v1", "v7", 1), b64("a"), "invalid ciphertext: version is too new"},
		{"bad base64", ct + "!", b64("a"), "invalid ciphertext: could not decode base64"},
		{"short", "vault:v1:AAAA", b64("a"), "invalid ciphertext length"},
		{"bad context", ct, "%%%", "illegal base64 data"},
		{"empty", "", b64("a"), "missing ciphertext to decrypt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want(t, call(t, s, "POST", "transit/decrypt/k", root, map[string]any{"ciphertext": tc.ct, "context": tc.context}), 400, tc.msg)
		})
	}
	// Vault reads version 0 as 1.
	zero := strings.Replace(ct, "vault:v1:", "vault:v0:", 1)
	if r := call(t, s, "POST", "transit/decrypt/k", root, map[string]any{"ciphertext": zero, "context": b64("a")}); r.data()["plaintext"] != b64("p") {
		t.Errorf("v0 ciphertext: %v", r.body)
	}
}

func TestUpsertAndDatakey(t *testing.T) {
	s := setup(t)
	root := s.RootToken
	r := call(t, s, "POST", "transit/encrypt/fresh", root, map[string]any{"plaintext": b64("p"), "context": b64("a")})
	if r.status != 200 || call(t, s, "GET", "transit/keys/fresh", root, nil).data()["derived"] != true {
		t.Fatalf("encrypt did not create a derived key: %v", r.body)
	}
	limited := s.CreateToken(0, Rule{Path: "transit/encrypt/*", Capabilities: []string{"update"}})
	want(t, call(t, s, "POST", "transit/encrypt/other", limited, map[string]any{"plaintext": b64("p")}), 403, "permission denied")
	for _, kind := range []string{"plaintext", "wrapped"} {
		r := call(t, s, "POST", "transit/datakey/"+kind+"/k", root, map[string]any{"context": b64("a"), "bits": 512})
		ct, _ := r.data()["ciphertext"].(string)
		pt, hasPT := r.data()["plaintext"].(string)
		if r.status != 200 || !strings.HasPrefix(ct, "vault:v1:") || hasPT != (kind == "plaintext") {
			t.Fatalf("datakey/%s: %v", kind, r.body)
		}
		dec := call(t, s, "POST", "transit/decrypt/k", root, map[string]any{"ciphertext": ct, "context": b64("a")})
		got, _ := base64.StdEncoding.DecodeString(dec.data()["plaintext"].(string))
		if len(got) != 64 || hasPT && dec.data()["plaintext"] != pt {
			t.Fatalf("datakey/%s does not decrypt to a 64-byte key", kind)
		}
	}
	want(t, call(t, s, "POST", "transit/datakey/raw/k", root, map[string]any{"context": b64("a")}), 400, "Invalid path")
	want(t, call(t, s, "POST", "transit/datakey/wrapped/k", root, map[string]any{"context": b64("a"), "bits": 100}), 400, "invalid bit length")
}

func TestTokens(t *testing.T) {
	s := setup(t)
	want(t, call(t, s, "GET", "transit/keys/k", "", nil), 403, "invalid token")
	want(t, call(t, s, "GET", "transit/keys/k", "hvs.nope", nil), 403, "invalid token")
	reader := s.CreateToken(time.Hour, Rule{Path: "transit/keys/*", Capabilities: []string{"read"}})
	if r := call(t, s, "GET", "transit/keys/k", reader, nil); r.status != 200 {
		t.Fatalf("reader: %v", r.body)
	}
	r := call(t, s, "POST", "transit/keys/k/rotate", reader, nil)
	if r.status != 403 || strings.Contains(r.errs(), "invalid token") {
		t.Fatalf("policy denial: %d %v", r.status, r.body)
	}
	look := call(t, s, "GET", "auth/token/lookup-self", reader, nil)
	if ttl, _ := look.data()["ttl"].(float64); look.status != 200 || ttl < 3590 || ttl > 3600 || look.data()["id"] != reader {
		t.Fatalf("lookup-self: %v", look.body)
	}
	s.Revoke(reader)
	want(t, call(t, s, "GET", "transit/keys/k", reader, nil), 403, "invalid token")
	s.Restore(reader)
	want(t, call(t, s, "GET", "transit/keys/k", reader, nil), 200, "")
	s.Advance(time.Hour)
	want(t, call(t, s, "GET", "transit/keys/k", reader, nil), 403, "invalid token")
	if s.Denied() != 5 {
		t.Errorf("Denied() = %d, want 5", s.Denied())
	}
}

func TestAppRole(t *testing.T) {
	s := setup(t)
	s.AddAppRole("role", "secret", time.Minute, Rule{Path: "transit/*", Capabilities: []string{"read", "update"}})
	want(t, call(t, s, "POST", "auth/approle/login", "", map[string]any{"role_id": "role", "secret_id": "wrong"}), 400, "invalid role or secret ID")
	want(t, call(t, s, "POST", "auth/approle/login", "", map[string]any{"secret_id": "secret"}), 400, "missing role_id")
	r := call(t, s, "POST", "auth/approle/login", "", map[string]any{"role_id": "role", "secret_id": "secret"})
	auth, _ := r.body["auth"].(map[string]any)
	tok, _ := auth["client_token"].(string)
	if r.status != 200 || tok == "" || auth["lease_duration"] != 60.0 {
		t.Fatalf("login: %v", r.body)
	}
	want(t, call(t, s, "GET", "transit/keys/k", tok, nil), 200, "")
	s.Advance(time.Minute)
	want(t, call(t, s, "GET", "transit/keys/k", tok, nil), 403, "invalid token")
	if s.Calls("POST", "auth/approle/login") != 3 {
		t.Errorf("login calls = %d", s.Calls("POST", "auth/approle/login"))
	}
}

func TestKV(t *testing.T) {
	s := New(t, Options{})
	want(t, call(t, s, "GET", "secret/data/app", s.RootToken, nil), 404, "")
	s.PutKV("app", map[string]any{"token": "v1"})
	want(t, call(t, s, "POST", "secret/data/app", s.RootToken, map[string]any{"data": map[string]any{"token": "v2"}}), 200, "")
	r := call(t, s, "GET", "secret/data/app", s.RootToken, nil)
	inner, _ := r.data()["data"].(map[string]any)
	meta, _ := r.data()["metadata"].(map[string]any)
	if inner["token"] != "v2" || meta["version"] != 2.0 {
		t.Fatalf("kv read: %v", r.body)
	}
	r = call(t, s, "GET", "secret/data/app?version=1", s.RootToken, nil)
	if inner, _ := r.data()["data"].(map[string]any); inner["token"] != "v1" {
		t.Fatalf("kv read of version 1: %v", r.body)
	}
}

func TestFaultsSealAndNamespace(t *testing.T) {
	s := setup(t)
	root := s.RootToken
	s.FailNext(2, 502)
	want(t, call(t, s, "GET", "transit/keys/k", root, nil), 502, "injected")
	want(t, call(t, s, "GET", "transit/keys/k", root, nil), 502, "injected")
	want(t, call(t, s, "GET", "transit/keys/k", root, nil), 200, "")
	if n := s.Calls("GET", "transit/keys/k"); n != 3 {
		t.Errorf("Calls = %d, want 3", n)
	}
	s.Seal(true)
	want(t, call(t, s, "GET", "transit/keys/k", root, nil), 503, "Vault is sealed")
	if r := call(t, s, "GET", "sys/health", "", nil); r.status != 503 || r.body["sealed"] != true {
		t.Errorf("sealed health: %d %v", r.status, r.body)
	}
	s.Seal(false)

	s.Mount("team-a/transit", "transit")
	want(t, call(t, s, "POST", "transit/keys/nk", root, map[string]any{"derived": true}, "X-Vault-Namespace", "team-a"), 200, "")
	if s.Calls("POST", "team-a/transit/keys/nk") != 1 {
		t.Error("namespace was not applied to the path")
	}
	want(t, call(t, s, "GET", "transit/keys/nk", root, nil), 404, "")
}

func TestTLS(t *testing.T) {
	s := New(t, Options{TLS: true})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("CACertPEM is not a certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(s.URL + "/v1/sys/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
