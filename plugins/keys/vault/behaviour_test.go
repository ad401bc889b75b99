package vault

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/faketransit"
	"github.com/vire-dev/vire/sdk"
)

// TestRevokedTokenMidRun revokes the token between calls: every operation
// fails as unauthorized with a message that says why, and restoring the
// token makes the same provider work again without reconfiguring.
func TestRevokedTokenMidRun(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	tok := s.CreateToken(0, docPolicy(t)...)
	p := configured(t, s, sdk.ConfigValue{"token": tok}, nil)
	ctx := t.Context()
	dek := newDEK(t)
	w, err := p.Wrap(ctx, "acme", dek)
	if err != nil {
		t.Fatal(err)
	}

	s.Revoke(tok)
	_, err = p.Unwrap(ctx, "acme", w)
	wantKind(t, err, sdk.ErrUnauthorized, "Unwrap with a revoked token", "expired or been revoked", "transit/decrypt/vire")
	_, err = p.Wrap(ctx, "acme", dek)
	wantKind(t, err, sdk.ErrUnauthorized, "Wrap with a revoked token")
	_, err = p.Rewrap(ctx, "acme", w)
	wantKind(t, err, sdk.ErrUnauthorized, "Rewrap with a revoked token")
	_, err = p.Rotate(ctx, "acme")
	wantKind(t, err, sdk.ErrUnauthorized, "Rotate with a revoked token")
	_, err = p.Status(ctx, "acme")
	wantKind(t, err, sdk.ErrUnauthorized, "Status with a revoked token")
	wantKind(t, p.Health(ctx), sdk.ErrUnauthorized, "Health with a revoked token")
	if strings.Contains(err.Error(), tok) {
		t.Fatalf("the error quotes the token: %v", err)
	}

	s.Restore(tok)
	got, err := p.Unwrap(ctx, "acme", w)
	if err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap after the token was restored: %v", err)
	}
	if err := p.Health(ctx); err != nil {
		t.Fatalf("Health after the token was restored: %v", err)
	}
}

// TestPolicyDenial: a valid token without the needed capability is told
// about its policy, not about expiry.
func TestPolicyDenial(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	rules := slices.DeleteFunc(docPolicy(t), func(r faketransit.Rule) bool { return strings.HasSuffix(r.Path, "/rotate") })
	p := configured(t, s, sdk.ConfigValue{"token": s.CreateToken(0, rules...)}, nil)
	_, err := p.Rotate(t.Context(), "acme")
	wantKind(t, err, sdk.ErrUnauthorized, "Rotate without the rotate capability", "permission denied", "policy does not allow")
}

// TestRotationLifecycle follows an operator through rotation and
// retirement of old versions.
func TestRotationLifecycle(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	p := configured(t, s, nil, nil)
	ctx := t.Context()
	dek := newDEK(t)
	old, err := p.Wrap(ctx, "acme", dek)
	if err != nil || old.KeyVersion != 1 || !bytes.HasPrefix(old.Ciphertext, []byte("vault:v1:")) {
		t.Fatalf("Wrap = %q v%d, %v", old.Ciphertext, old.KeyVersion, err)
	}
	v, err := p.Rotate(ctx, "other-tenant")
	if err != nil || v != 2 {
		t.Fatalf("Rotate = %d, %v", v, err)
	}
	// Rotation belongs to the key name: it moved "acme" too.
	st, err := p.Status(ctx, "acme")
	if err != nil || st.Latest != 2 || st.MinDecrypt != 1 || !slices.Equal(st.Versions, []uint32{1, 2}) || !st.Rotatable {
		t.Fatalf("Status after Rotate = %+v, %v", st, err)
	}
	if got, err := p.Unwrap(ctx, "acme", old); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap of a version-1 key after Rotate: %v", err)
	}
	fresh, err := p.Wrap(ctx, "acme", dek)
	if err != nil || fresh.KeyVersion != 2 || !bytes.HasPrefix(fresh.Ciphertext, []byte("vault:v2:")) {
		t.Fatalf("Wrap after Rotate = %q v%d, %v", fresh.Ciphertext, fresh.KeyVersion, err)
	}
	moved, err := p.Rewrap(ctx, "acme", old)
	if err != nil || moved.KeyVersion != 2 {
		t.Fatalf("Rewrap = v%d, %v", moved.KeyVersion, err)
	}
	if s.Calls("POST", "transit/decrypt/vire") != 1 {
		t.Errorf("Rewrap went through decrypt: the data key must stay inside Vault")
	}

	// The operator retires version 1 (as root, outside Vire).
	raiseMinDecryption(t, s, 2)
	_, err = p.Unwrap(ctx, "acme", old)
	wantKind(t, err, sdk.ErrIntegrity, "Unwrap below min_decryption_version",
		"key version 1 is below the transit key's min_decryption_version", "min_decryption_version=1")
	_, err = p.Rewrap(ctx, "acme", old)
	wantKind(t, err, sdk.ErrIntegrity, "Rewrap below min_decryption_version", "min_decryption_version")
	if got, err := p.Unwrap(ctx, "acme", moved); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("the rewrapped key no longer unwraps: %v", err)
	}
	st, err = p.Status(ctx, "acme")
	if err != nil || st.Latest != 2 || st.MinDecrypt != 2 || !slices.Equal(st.Versions, []uint32{2}) {
		t.Fatalf("Status after retiring version 1 = %+v, %v", st, err)
	}
}

// raiseMinDecryption sets min_decryption_version with the root token, as
// an operator would with `vault write transit/keys/vire/config`.
func raiseMinDecryption(t *testing.T, s *faketransit.Server, v int) {
	t.Helper()
	rootCall(t, s, "POST", "transit/keys/vire/config", `{"min_decryption_version":`+strconv.Itoa(v)+`}`)
}

func TestAppRoleRelogin(t *testing.T) {
	const ttl = 10 * time.Minute
	start := time.Now()

	t.Run("AfterExpiry", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		s.AddAppRole("role", "secret", ttl, docPolicy(t)...)
		p := configured(t, s, sdk.ConfigValue{"role_id": "role", "secret_id": "secret"}, nil)
		w, err := p.Wrap(t.Context(), "acme", newDEK(t))
		if err != nil {
			t.Fatal(err)
		}
		// Only the server's clock moves: the token expires without the
		// provider expecting it, Vault refuses it, and one new login fixes it.
		s.Advance(ttl + time.Second)
		if _, err := p.Unwrap(t.Context(), "acme", w); err != nil {
			t.Fatalf("Unwrap after the token expired: %v", err)
		}
		if n := s.Calls("POST", "auth/approle/login"); n != 2 {
			t.Errorf("%d logins, want 2", n)
		}
		if s.Denied() != 1 {
			t.Errorf("%d refusals, want exactly the expired token's one", s.Denied())
		}
	})

	t.Run("BeforeExpiry", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		s.AddAppRole("role", "secret", ttl, docPolicy(t)...)
		p := New(nil)
		now := start
		p.now = func() time.Time { return now }
		if err := configure(t, p, s, sdk.ConfigValue{"role_id": "role", "secret_id": "secret"}); err != nil {
			t.Fatal(err)
		}
		// Past three quarters of the TTL the provider logs in again before
		// Vault has any reason to refuse the token.
		now = now.Add(ttl * 4 / 5)
		s.Advance(ttl * 4 / 5)
		if _, err := p.Wrap(t.Context(), "acme", newDEK(t)); err != nil {
			t.Fatal(err)
		}
		if n := s.Calls("POST", "auth/approle/login"); n != 2 || s.Denied() != 0 {
			t.Errorf("%d logins and %d refusals, want 2 and 0", n, s.Denied())
		}
	})

	t.Run("RevokedEarly", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		s.AddAppRole("role", "secret", ttl, docPolicy(t)...)
		log, buf := captureLog()
		p := configured(t, s, sdk.ConfigValue{"role_id": "role", "secret_id": "secret"}, log)
		if _, err := p.Status(t.Context(), "acme"); err != nil {
			t.Fatal(err)
		}
		tok := s.LastIssued()
		s.Revoke(tok)
		if _, err := p.Status(t.Context(), "acme"); err != nil {
			t.Fatalf("Status after the AppRole token was revoked: %v", err)
		}
		if !strings.Contains(buf.String(), "logging in again") {
			t.Error("the re-login was not logged")
		}
	})

	t.Run("WrongSecret", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		s.AddAppRole("role", "secret", ttl, docPolicy(t)...)
		err := configure(t, New(nil), s, sdk.ConfigValue{"role_id": "role", "secret_id": "not-the-secret-id"})
		wantKind(t, err, sdk.ErrUnauthorized, "Configure with a wrong secret_id", "invalid role or secret ID", "issue a new secret_id")
		if strings.Contains(err.Error(), "not-the-secret-id") {
			t.Errorf("the error quotes the secret_id: %v", err)
		}
	})

	t.Run("PolicyStillDenies", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		s.AddAppRole("role", "secret", ttl, faketransit.Rule{Path: "transit/keys/vire", Capabilities: []string{"read", "create"}})
		p := configured(t, s, sdk.ConfigValue{"role_id": "role", "secret_id": "secret"}, nil)
		_, err := p.Wrap(t.Context(), "acme", newDEK(t))
		wantKind(t, err, sdk.ErrUnauthorized, "Wrap without the encrypt capability", "fresh AppRole login was refused the same way")
		if n := s.Calls("POST", "auth/approle/login"); n != 2 {
			t.Errorf("%d logins, want 2 (one retry, not a loop)", n)
		}
	})
}

func TestRetries(t *testing.T) {
	ctx := t.Context()
	encrypt := "transit/encrypt/vire"
	for _, tc := range []struct {
		name      string
		retries   int
		fail      int
		status    int
		op        string // "wrap" or "rotate"
		wantCalls int
		wantErr   error
	}{
		{"5xx then success", 2, 2, http.StatusBadGateway, "wrap", 3, nil},
		{"5xx until the retries run out", 2, 3, http.StatusInternalServerError, "wrap", 3, sdk.ErrUnavailable},
		{"no retries", 0, 1, http.StatusBadGateway, "wrap", 1, sdk.ErrUnavailable},
		{"sealed, then unsealed", 1, 1, http.StatusServiceUnavailable, "wrap", 2, nil},
		{"rate limited", 1, 2, http.StatusTooManyRequests, "wrap", 2, sdk.ErrRateLimited},
		{"rotate is not repeated after a 500", 2, 1, http.StatusInternalServerError, "rotate", 1, sdk.ErrUnavailable},
		{"rotate is repeated after a 503", 2, 1, http.StatusServiceUnavailable, "rotate", 2, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, faketransit.Options{})
			p := configured(t, s, sdk.ConfigValue{"max_retries": tc.retries}, nil)
			s.FailNext(tc.fail, tc.status)
			var err error
			path := encrypt
			if tc.op == "wrap" {
				_, err = p.Wrap(ctx, "acme", newDEK(t))
			} else {
				path = "transit/keys/vire/rotate"
				_, err = p.Rotate(ctx, "acme")
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("%s = %v, want %v", tc.op, err, tc.wantErr)
			}
			if n := s.Calls("POST", path); n != tc.wantCalls {
				t.Errorf("Vault saw %d calls, want %d", n, tc.wantCalls)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		p := configured(t, s, nil, nil)
		s.Close()
		start := time.Now()
		_, err := p.Wrap(ctx, "acme", newDEK(t))
		wantKind(t, err, sdk.ErrUnavailable, "Wrap with Vault down", "3 attempts", "connection refused")
		if time.Since(start) > 10*time.Second {
			t.Errorf("giving up took %s", time.Since(start))
		}
		wantKind(t, p.Health(ctx), sdk.ErrUnavailable, "Health with Vault down")
	})
}

// TestSecretsNeverLeak drives every failure path with a token and a
// secret_id that the logs (at trace level) and errors must never contain.
func TestSecretsNeverLeak(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	log, buf := captureLog()
	tok := s.CreateToken(0, docPolicy(t)...)
	const secretID = "s3cr3t-1d-that-must-not-leak"
	s.AddAppRole("role", secretID, time.Minute, docPolicy(t)...)
	ctx := t.Context()
	dek := newDEK(t)
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	p := configured(t, s, sdk.ConfigValue{"token": tok, "tls_skip_verify": true}, log)
	w, err := p.Wrap(ctx, "acme", dek)
	note(err)
	_, err = p.Unwrap(ctx, "other", w)
	note(err)
	s.FailNext(10, http.StatusInternalServerError)
	_, err = p.Unwrap(ctx, "acme", w)
	note(err)
	s.Revoke(tok)
	_, err = p.Unwrap(ctx, "acme", w)
	note(err)
	note(p.Health(ctx))
	note(configure(t, New(log), s, sdk.ConfigValue{"token": tok}))
	note(configure(t, New(log), s, sdk.ConfigValue{"role_id": "role", "secret_id": secretID + "x"}))
	note(configure(t, New(log), s, sdk.ConfigValue{"token": tok, "role_id": "role"}))
	note(configure(t, New(log), s, sdk.ConfigValue{"address": "https://user:" + secretID + "@vault.example.com"}))
	ar := configured(t, s, sdk.ConfigValue{"role_id": "role", "secret_id": secretID}, log)
	s.Advance(2 * time.Minute)
	_, err = ar.Wrap(ctx, "acme", dek)
	note(err)

	if len(errs) < 8 {
		t.Fatalf("only %d of the failure paths failed: %v", len(errs), errs)
	}
	secrets := map[string]string{
		"token": tok, "secret_id": secretID,
		"data key (base64)": base64.StdEncoding.EncodeToString(dek), "data key (raw)": string(dek),
	}
	logs := buf.String()
	if !strings.Contains(logs, "tls_skip_verify") {
		t.Error("tls_skip_verify was not warned about")
	}
	for what, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", what)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("an error holds the %s: %v", what, err)
			}
		}
	}
}

func TestKeyCreation(t *testing.T) {
	ctx := t.Context()
	t.Run("CreatedDerived", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		configured(t, s, sdk.ConfigValue{"token": s.RootToken, "key_name": "tenants-kek"}, nil)
		if s.Calls("POST", "transit/keys/tenants-kek") != 1 {
			t.Fatal("the key was not created")
		}
	})
	t.Run("NoCreateCapability", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		rules := docPolicy(t)
		for i, r := range rules {
			if r.Path == "transit/keys/vire" {
				rules[i].Capabilities = []string{"read"}
			}
		}
		err := configure(t, New(nil), s, sdk.ConfigValue{"token": s.CreateToken(0, rules...)})
		wantKind(t, err, sdk.ErrUnauthorized, "Configure without create", "does not exist", "vault write transit/keys/vire type=aes256-gcm96 derived=true")
		// Once an operator creates it, the same token works.
		create(t, s, "vire", true)
		if err := configure(t, New(nil), s, sdk.ConfigValue{"token": s.CreateToken(0, rules...)}); err != nil {
			t.Fatalf("Configure with the key created by the operator: %v", err)
		}
	})
	t.Run("NotDerived", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		create(t, s, "shared", false)
		err := configure(t, New(nil), s, sdk.ConfigValue{"token": s.RootToken, "key_name": "shared"})
		var ce sdk.ConfigErrors
		if !errors.As(err, &ce) || ce[0].Attribute != "key_name" || !strings.Contains(ce[0].Message, "derived=true") {
			t.Fatalf("Configure with a non-derived key = %v", err)
		}
	})
	t.Run("NoTransitMount", func(t *testing.T) {
		s := faketransit.New(t, faketransit.Options{})
		err := configure(t, New(nil), s, sdk.ConfigValue{"token": s.RootToken})
		wantKind(t, err, sdk.ErrUnavailable, "Configure without transit", "vault secrets enable -path=transit transit")
	})
	t.Run("Sealed", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		s.Seal(true)
		p := New(nil)
		p.retryBase = time.Millisecond
		err := configure(t, p, s, sdk.ConfigValue{"max_retries": 1})
		wantKind(t, err, sdk.ErrUnavailable, "Configure against a sealed Vault", "Vault is sealed")
		s.Seal(false)
		if err := configure(t, p, s, nil); err != nil {
			t.Fatal(err)
		}
		s.Seal(true)
		wantKind(t, p.Health(ctx), sdk.ErrUnavailable, "Health of a sealed Vault", "sealed")
	})
	t.Run("DeletedLater", func(t *testing.T) {
		s := newFake(t, faketransit.Options{})
		p := configured(t, s, nil, nil)
		w, err := p.Wrap(ctx, "acme", newDEK(t))
		if err != nil {
			t.Fatal(err)
		}
		deleteKey(t, s, "vire")
		_, err = p.Unwrap(ctx, "acme", w)
		wantKind(t, err, sdk.ErrUnavailable, "Unwrap after the key was deleted", "no longer exists")
		if errors.Is(err, sdk.ErrNotFound) {
			t.Error("a deleted transit key must not look like a missing keyring")
		}
		_, err = p.Status(ctx, "acme")
		wantKind(t, err, sdk.ErrUnavailable, "Status after the key was deleted")
		// The documented policy cannot upsert through encrypt, so no new
		// key appears behind the operator's back.
		_, err = p.Wrap(ctx, "acme", newDEK(t))
		wantKind(t, err, sdk.ErrUnauthorized, "Wrap after the key was deleted")
		_, err = p.Status(ctx, "acme")
		wantKind(t, err, sdk.ErrUnavailable, "Status after a refused Wrap")
	})
}

func create(t *testing.T, s *faketransit.Server, name string, derived bool) {
	t.Helper()
	body := `{"type":"aes256-gcm96","derived":false}`
	if derived {
		body = `{"type":"aes256-gcm96","derived":true}`
	}
	rootCall(t, s, "POST", "transit/keys/"+name, body)
}

func deleteKey(t *testing.T, s *faketransit.Server, name string) {
	t.Helper()
	rootCall(t, s, "POST", "transit/keys/"+name+"/config", `{"deletion_allowed":true}`)
	rootCall(t, s, "DELETE", "transit/keys/"+name, "")
}

func rootCall(t *testing.T, s *faketransit.Server, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+"/v1/"+path, strings.NewReader(body))
	req.Header.Set("X-Vault-Token", s.RootToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
}

func TestTLS(t *testing.T) {
	s := newFake(t, faketransit.Options{TLS: true})
	pemText := string(s.CACertPEM())
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, s.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	localhost := strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	for _, tc := range []struct {
		name string
		cfg  sdk.ConfigValue
		ok   bool
	}{
		{"ca_cert as PEM", sdk.ConfigValue{"ca_cert": pemText}, true},
		{"ca_cert as a file", sdk.ConfigValue{"ca_cert": file}, true},
		{"system roots only", sdk.ConfigValue{}, false},
		{"skip verify", sdk.ConfigValue{"tls_skip_verify": true}, true},
		{"name mismatch", sdk.ConfigValue{"ca_cert": pemText, "address": localhost}, false},
		{"tls_server_name", sdk.ConfigValue{"ca_cert": pemText, "address": localhost, "tls_server_name": "example.com"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(nil)
			p.retryBase = time.Millisecond
			tc.cfg["max_retries"] = 0
			err := configure(t, p, s, tc.cfg)
			if tc.ok && err != nil {
				t.Fatalf("Configure: %v", err)
			}
			if !tc.ok {
				wantKind(t, err, sdk.ErrUnavailable, "Configure", "certificate")
			}
		})
	}
}

// TestAddressWithPathPrefix reaches Vault through a reverse proxy that
// serves it under /vault/.
func TestAddressWithPathPrefix(t *testing.T) {
	s := newFake(t, faketransit.Options{})
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(http.StripPrefix("/vault", httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(front.Close)
	p := configured(t, s, sdk.ConfigValue{"address": front.URL + "/vault/"}, nil)
	dek := newDEK(t)
	w, err := p.Wrap(t.Context(), "acme", dek)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Unwrap(t.Context(), "acme", w); err != nil || !bytes.Equal(got, dek) {
		t.Fatalf("Unwrap through the proxy: %v", err)
	}
	if err := p.Health(t.Context()); err != nil {
		t.Fatalf("Health through the proxy: %v", err)
	}
}
