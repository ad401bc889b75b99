package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/faketransit"
	"github.com/vire-dev/vire/sdk"
)

// vaultPolicy is the policy docs/keys.md gives Vire, for key_name "vire".
var vaultPolicy = []faketransit.Rule{
	{Path: "transit/keys/vire", Capabilities: []string{"read", "create"}},
	{Path: "transit/keys/vire/rotate", Capabilities: []string{"update"}},
	{Path: "transit/encrypt/vire", Capabilities: []string{"update"}},
	{Path: "transit/decrypt/vire", Capabilities: []string{"update"}},
	{Path: "transit/rewrap/vire", Capabilities: []string{"update"}},
}

// wantRefused checks that err says Vault refused the token, in words an
// operator can act on.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("%s succeeded with the token revoked", what)
	case !errors.Is(err, sdk.ErrUnauthorized):
		t.Fatalf("%s: %v (kind %v), want unauthorized", what, err, sdk.Kind(err))
	case !strings.Contains(err.Error(), "revoked"):
		t.Fatalf("%s: %q does not say the token may be expired or revoked", what, err)
	}
}

// dekVersionsOf counts a tenant's documents by data-key version.
func dekVersionsOf(t *testing.T, a *app.App, tenant string) map[uint32]int {
	t.Helper()
	u, err := a.Store.KeyUsage(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	if u.Plaintext+u.Unreadable != 0 || len(u.Providers) != 1 || u.Providers["vault"] != u.Documents {
		t.Fatalf("tenant %s: %+v, want every document sealed under vault", tenant, u)
	}
	return u.DEKVersions
}

// wrappedUnder returns the provider key versions wrapping a tenant's DEKs.
func wrappedUnder(t *testing.T, a *app.App, tenant string) []uint32 {
	t.Helper()
	kr, err := a.Envelope.Status(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	return keyVersions(kr)
}

// TestRotationEndToEnd runs the real plugin binaries (file storage, Vault
// transit keys against a local stand-in) in the hosted layout: documents of
// several tenants survive a Vault key rotation, a data-key rotation, a
// rewrap and a re-encryption, first through the host packages and then
// through the CLI; a token revoked half way gives errors that name the
// problem, and restoring it recovers without restarting anything.
func TestRotationEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binaries")
	}
	ctx := context.Background()
	vault := faketransit.New(t, faketransit.Options{})
	vault.Mount("transit", "transit")
	tok := vault.CreateToken(0, vaultPolicy...)
	w := &secretWatch{secrets: []string{tok}}
	dir := t.TempDir()
	c := storeConfig{
		root: filepath.Join(dir, "data"), hosted: true,
		keys: fmt.Sprintf("keys \"vault\" {\n  address = %q\n  token   = var.vault_token\n}", vault.URL),
		vars: map[string]string{"vault_token": tok}, plugins: []string{"file", "vault"},
	}
	path := c.write(t, dir, "hosted.hcl")
	args := c.args(path)
	cmd := func(sub ...string) []string { return append(append([]string{}, sub...), args...) }

	a := startApp(t, path, c.vars)
	if a.Store.Layout().Personal {
		t.Fatal("auth mode api_key did not give the hosted layout")
	}
	docs := map[string]docSet{"alice": putDocs(t, a, "alice", 40), "bob": putDocs(t, a, "bob", 15)}
	for tenant := range docs {
		if got := wrappedUnder(t, a, tenant); !slices.Equal(got, []uint32{1}) {
			t.Fatalf("%s's data key is wrapped under Vault key versions %v, want [1]", tenant, got)
		}
	}

	// Through the host packages: rotate the Vault key and add a data key.
	v, err := a.Keys.Rotate(ctx, "alice")
	if err != nil || v != 2 {
		t.Fatalf("rotating the Vault key = %d, %v", v, err)
	}
	for tenant := range docs {
		if v, err := a.Envelope.RotateDEK(ctx, tenant); err != nil || v != 2 {
			t.Fatalf("RotateDEK(%s) = %d, %v", tenant, v, err)
		}
	}

	// The token is revoked half way: whatever needs Vault fails, saying why.
	vault.Revoke(tok)
	_, err = a.Envelope.Rewrap(ctx, "alice")
	wantRefused(t, "rewrap", err)
	_, err = a.Store.Put(ctx, "carol", "portfolio", "first", map[string]int{"n": 1}, store.PutOpts{})
	wantRefused(t, "a new tenant's first write", err)
	// A new process cannot even start its key provider, and says why.
	for _, sub := range []string{"reencrypt", "status", "rewrap"} {
		_, stderr := w.run(t, 1, cmd("keys", sub, "-tenant", "alice")...)
		mustContain(t, sub+" with the token revoked", stderr, `keys "vault"`, "unauthorized", "expired or been revoked")
	}

	// Restored: the same running app carries on, nothing restarted.
	vault.Restore(tok)
	for tenant, d := range docs {
		info, err := a.Envelope.Rewrap(ctx, tenant)
		if err != nil {
			t.Fatalf("rewrap of %s after the token was restored: %v", tenant, err)
		}
		if got := keyVersions(info); !slices.Equal(got, []uint32{2}) {
			t.Fatalf("after rewrap %s's data keys are under Vault key versions %v, want [2]", tenant, got)
		}
		p, err := a.Store.ReEncrypt(ctx, tenant, "", nil)
		if err != nil || p.Rewritten != len(d) || p.DEKVersion != 2 {
			t.Fatalf("ReEncrypt(%s) = %+v, %v", tenant, p, err)
		}
	}
	if _, err := a.Store.Put(ctx, "carol", "portfolio", "first", map[string]int{"n": 1}, store.PutOpts{}); err != nil {
		t.Fatalf("carol's first write after the token was restored: %v", err)
	}
	docs["carol"] = docSet{"portfolio/first": []byte(`{"n":1}`)}
	fresh := startApp(t, path, c.vars) // empty key caches: every data key is unwrapped by Vault again
	for tenant, d := range docs {
		checkDocs(t, a, tenant, d)
		checkDocs(t, fresh, tenant, d)
	}
	for _, tenant := range []string{"alice", "bob"} {
		if got := dekVersionsOf(t, fresh, tenant); !maps.Equal(got, map[uint32]int{2: len(docs[tenant])}) {
			t.Fatalf("%s's documents by data-key version: %v, want all at 2", tenant, got)
		}
	}

	// The same cycle through the CLI. The transit key is shared by every
	// tenant, so rotate -all rotates it once.
	rotations := vault.Calls("POST", "transit/keys/vire/rotate")
	stdout, _ := w.run(t, 0, cmd("keys", "rotate", "-all")...)
	if n := vault.Calls("POST", "transit/keys/vire/rotate") - rotations; n != 1 {
		t.Fatalf("rotate -all over three tenants rotated the shared Vault key %d times, want once\n%s", n, stdout)
	}
	mustContain(t, "rotate -all", stdout,
		"alice: provider key rotated to version 3", "alice: new data key version 3",
		"bob: provider key not rotated (latest version 3): already rotated during this run", "bob: new data key version 3",
		"carol: provider key not rotated (latest version 3; see above)", "carol: new data key version 2",
		"keys rewrap -config "+path+" -all")
	st := statusJSON(t, 0, append(args, "-all")...)
	if len(st) != 3 || !strings.Contains(strings.Join(st[0].Advice, "\n"), "2 data keys are wrapped under an older provider key version") {
		t.Fatalf("status after rotate -all = %+v", st)
	}

	stdout, _ = w.run(t, 0, cmd("keys", "rewrap", "-all")...)
	mustContain(t, "rewrap -all", stdout,
		"alice: 3 data keys now wrapped under provider key version 3 (before: 2, 3)",
		"carol: 2 data keys now wrapped under provider key version 3 (before: 2, 3)")
	stdout, stderr := w.run(t, 0, cmd("keys", "reencrypt", "-all")...)
	mustContain(t, "reencrypt -all", stdout,
		"alice: 40 documents scanned: 40 re-encrypted with data key 3", "bob: 15 documents scanned: 15 re-encrypted with data key 3",
		"carol: 1 documents scanned: 1 re-encrypted with data key 2")
	mustContain(t, "reencrypt progress", stderr, "alice: 40 scanned")

	st = statusJSON(t, 0, append(args, "-all")...)
	for _, ts := range st {
		if len(ts.Errors)+len(ts.Advice) != 0 || !slices.Equal(ts.KeyVersionsInUse, []uint32{3}) || ts.ProviderKey.Latest != 3 || !ts.ProviderKey.Rotatable {
			t.Errorf("status of %s after the CLI cycle: %+v", ts.Tenant, ts)
		}
	}
	final := startApp(t, path, c.vars)
	for tenant, d := range docs {
		checkDocs(t, final, tenant, d)
		want := uint32(3)
		if tenant == "carol" {
			want = 2
		}
		if got := dekVersionsOf(t, final, tenant); !maps.Equal(got, map[uint32]int{want: len(d)}) {
			t.Fatalf("%s's documents by data-key version: %v, want all at %d", tenant, got, want)
		}
		if got := wrappedUnder(t, final, tenant); !slices.Equal(got, []uint32{3}) {
			t.Fatalf("%s's data keys are under Vault key versions %v, want [3]", tenant, got)
		}
	}
	// Every data key wrapped under an old Vault version has been moved, so
	// Vault could now retire versions 1 and 2 (min_decryption_version = 3).
	var kr crypt.KeyringInfo
	kr, err = final.Envelope.Status(ctx, "alice")
	if err != nil || kr.Current != 3 {
		t.Fatalf("alice's keyring: %+v, %v", kr, err)
	}

	// A token whose policy lacks rewrap and rotate: the server starts, and
	// the commands that need them fail naming the refusal and what to fix.
	var limited []faketransit.Rule
	for _, r := range vaultPolicy {
		if !strings.HasSuffix(r.Path, "/rotate") && !strings.HasPrefix(r.Path, "transit/rewrap/") {
			limited = append(limited, r)
		}
	}
	c.vars = map[string]string{"vault_token": vault.CreateToken(0, limited...)}
	w.secrets = append(w.secrets, c.vars["vault_token"])
	args = c.args(path)
	for _, sub := range []string{"rewrap", "rotate"} {
		_, stderr := w.run(t, 1, cmd("keys", sub, "-tenant", "bob")...)
		mustContain(t, sub+" without the capability", stderr, "tenant bob", "unauthorized", "permission denied",
			"hint: the key provider refused its credentials")
	}
	w.check(t)
}
