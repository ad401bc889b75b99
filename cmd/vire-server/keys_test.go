package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/testbuild"
)

// storeConfig is a configuration the key and data tests write: file
// storage, an optional keys block, and the plugins it uses taken from
// freshly built binaries.
type storeConfig struct {
	root   string
	hosted bool
	// keys is the keys block, "" for encryption off.
	keys string
	// vars are sensitive variables, passed to the CLI with -var.
	vars map[string]string
	// plugins are the bundled plugins the configuration uses.
	plugins []string
}

// write writes the configuration to dir/name and returns its path.
func (c storeConfig) write(t *testing.T, dir, name string) string {
	t.Helper()
	var b strings.Builder
	for _, v := range slices.Sorted(maps.Keys(c.vars)) {
		fmt.Fprintf(&b, "variable %q {\n  type      = string\n  sensitive = true\n}\n\n", v)
	}
	if c.hosted {
		b.WriteString("auth {\n  mode = \"api_key\"\n}\n\n")
	}
	fmt.Fprintf(&b, "storage \"file\" {\n  root  = %q\n  fsync = false\n}\n\n", c.root)
	if c.keys != "" {
		b.WriteString(c.keys + "\n\n")
	}
	for _, p := range c.plugins {
		fmt.Fprintf(&b, "plugin %q {\n  path = %q\n}\n\n", p, testbuild.Binary(t, "./cmd/vire-plugin-"+p))
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// args are the CLI flags that select the configuration at path.
func (c storeConfig) args(path string) []string {
	out := []string{"-config", path}
	for _, v := range slices.Sorted(maps.Keys(c.vars)) {
		out = append(out, "-var", v+"="+c.vars[v])
	}
	return out
}

// startApp starts a configuration in-process, as vire-server run does,
// without serving.
func startApp(t *testing.T, path string, vars map[string]string) *app.App {
	t.Helper()
	cfg, diags := config.Load(path, config.LoadOptions{Vars: vars, LookupEnv: config.EnvironLookup(nil)})
	if diags.HasErrors() {
		t.Fatalf("loading %s: %v", path, diags)
	}
	a, diags := app.Start(context.Background(), cfg, app.Options{HealthInterval: -1})
	if diags.HasErrors() {
		t.Fatalf("starting %s: %v", path, diags)
	}
	t.Cleanup(a.Close)
	return a
}

// docSet is a set of documents: "kind/name" → JSON.
type docSet map[string][]byte

// putDocs writes n documents of a few kinds for a tenant and returns them.
func putDocs(t *testing.T, a *app.App, tenant string, n int) docSet {
	t.Helper()
	docs := docSet{}
	for i := range n {
		kind := []string{"portfolio", "strategy", "watchlist"}[i%3]
		name := fmt.Sprintf("doc-%03d", i)
		doc := map[string]any{"tenant": tenant, "n": i, "note": "holdings of " + tenant + " ✓"}
		data, _ := json.Marshal(doc)
		if _, err := a.Store.PutBytes(context.Background(), tenant, kind, name, data, store.PutOpts{}); err != nil {
			t.Fatalf("writing %s/%s of %s: %v", kind, name, tenant, err)
		}
		docs[kind+"/"+name] = data
	}
	return docs
}

// checkDocs reads every document back and compares it.
func checkDocs(t *testing.T, a *app.App, tenant string, want docSet) {
	t.Helper()
	for key, data := range want {
		kind, name, _ := strings.Cut(key, "/")
		got, _, err := a.Store.GetBytes(context.Background(), tenant, kind, name)
		if err != nil {
			t.Fatalf("reading %s of %s: %v", key, tenant, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s of %s = %s, want %s", key, tenant, got, data)
		}
	}
}

// cliRun runs the CLI and fails the test unless it exits with code.
func cliRun(t *testing.T, code int, args ...string) (string, string) {
	t.Helper()
	got, stdout, stderr := runCLI(t, args...)
	if got != code {
		t.Fatalf("vire-server %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args[:2], " "), got, code, stdout, stderr)
	}
	return stdout, stderr
}

func mustContain(t *testing.T, what, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, text)
		}
	}
}

// statusJSON runs `keys status -json` and decodes it.
func statusJSON(t *testing.T, code int, args ...string) []tenantStatus {
	t.Helper()
	stdout, _ := cliRun(t, code, append([]string{"keys", "status", "-json"}, args...)...)
	var out struct {
		Tenants []tenantStatus `json:"tenants"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("keys status -json: %v\n%s", err, stdout)
	}
	return out.Tenants
}

func newSecret(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// secretWatch collects everything the CLI printed, to check that no secret
// ever appears in it.
type secretWatch struct {
	secrets []string
	seen    strings.Builder
}

func (w *secretWatch) run(t *testing.T, code int, args ...string) (string, string) {
	t.Helper()
	stdout, stderr := cliRun(t, code, args...)
	w.seen.WriteString(stdout + stderr)
	return stdout, stderr
}

func (w *secretWatch) check(t *testing.T) {
	t.Helper()
	for _, s := range w.secrets {
		if strings.Contains(w.seen.String(), s) {
			t.Errorf("a secret appeared in the CLI's output")
		}
	}
}

func envKeys(retired ...string) string {
	block := "keys \"env\" {\n  master_key = var.master_key\n"
	if len(retired) > 0 {
		block += "  retired_keys = [" + strings.Join(retired, ", ") + "]\n"
	}
	return block + "}"
}

// TestKeysPersonal walks a personal store with the env provider through a
// data-key rotation, re-encryption, a master-key rotation by configuration
// and a rewrap, checking what each command reports and that every document
// still reads back.
func TestKeysPersonal(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := newSecret(t, 32), newSecret(t, 32)
	w := &secretWatch{secrets: []string{k1, k2}}
	c := storeConfig{root: filepath.Join(dir, "data"), keys: envKeys(), vars: map[string]string{"master_key": k1}, plugins: []string{"file", "env"}}
	path := c.write(t, dir, "personal.hcl")
	docs := putDocs(t, startApp(t, path, c.vars), store.DefaultPersonalTenant, 7)
	args := c.args(path)
	cmd := func(sub ...string) []string { return append(append([]string{}, sub...), args...) }

	stdout, _ := w.run(t, 0, cmd("keys", "status")...)
	mustContain(t, "status", stdout, "Tenant personal", "env: key versions 1", "rotated by configuration", "current version 1", "documents     7 (7 sealed", "7  (current)", "ok:")
	st := statusJSON(t, 0, args...)
	if len(st) != 1 || st[0].Tenant != "personal" || st[0].Keyring == nil || st[0].Documents.DEKVersions[1] != 7 || len(st[0].Advice) != 0 {
		t.Fatalf("status = %+v", st)
	}

	stdout, _ = w.run(t, 0, cmd("keys", "rotate")...)
	mustContain(t, "rotate", stdout, "provider key not rotated", "retired_keys", "new data key version 2", "keys reencrypt -config "+path+" -tenant personal`")
	if strings.Contains(stdout, "keys rewrap -config") {
		t.Errorf("rotate suggests a rewrap although the provider key did not change:\n%s", stdout)
	}
	st = statusJSON(t, 0, args...)
	if st[0].Keyring.Current != 2 || len(st[0].Advice) != 1 || !strings.Contains(st[0].Advice[0], "7 documents are sealed with an older data key") {
		t.Fatalf("status after rotate = %+v", st[0])
	}

	stdout, stderr := w.run(t, 0, cmd("keys", "reencrypt")...)
	mustContain(t, "reencrypt", stdout, "7 documents scanned: 7 re-encrypted with data key 2")
	mustContain(t, "reencrypt progress", stderr, "7 scanned")
	stdout, _ = w.run(t, 0, cmd("keys", "reencrypt")...)
	mustContain(t, "second reencrypt", stdout, "0 re-encrypted with data key 2, 7 already current")
	st = statusJSON(t, 0, args...)
	if !maps.Equal(st[0].Documents.DEKVersions, map[uint32]int{2: 7}) || len(st[0].Advice) != 0 {
		t.Fatalf("status after reencrypt = %+v", st[0])
	}

	// The operator rotates the master key: the old one moves to retired_keys.
	c.keys, c.vars = envKeys("var.old_key"), map[string]string{"master_key": k2, "old_key": k1}
	path = c.write(t, dir, "personal.hcl")
	args = c.args(path)
	st = statusJSON(t, 0, args...)
	if st[0].ProviderKey.Latest != 2 || !slices.Equal(st[0].KeyVersionsInUse, []uint32{1}) ||
		len(st[0].Advice) != 1 || !strings.Contains(st[0].Advice[0], "2 data keys are wrapped under an older provider key version") {
		t.Fatalf("status after the master-key rotation = %+v", st[0])
	}
	stdout, _ = w.run(t, 0, cmd("keys", "rewrap")...)
	mustContain(t, "rewrap", stdout, "personal: 2 data keys now wrapped under provider key version 2 (before: 1)")
	st = statusJSON(t, 0, args...)
	if !slices.Equal(st[0].KeyVersionsInUse, []uint32{2}) || len(st[0].Advice) != 0 {
		t.Fatalf("status after rewrap = %+v", st[0])
	}
	checkDocs(t, startApp(t, path, c.vars), "personal", docs)

	// Selection errors.
	_, stderr = w.run(t, 1, cmd("keys", "status", "-tenant", "alice")...)
	mustContain(t, "status of another tenant", stderr, `its only tenant is "personal"`)
	_, stderr = w.run(t, 1, cmd("keys", "status", "-tenant", "personal", "-all")...)
	mustContain(t, "-tenant with -all", stderr, "not both")
	_, stderr = w.run(t, 1, cmd("keys", "status", "-tenant", "Bad Id")...)
	mustContain(t, "bad tenant id", stderr, "invalid tenant id")

	// A configuration whose master key opens nothing says what to check.
	c.keys, c.vars = envKeys(), map[string]string{"master_key": newSecret(t, 32)}
	w.secrets = append(w.secrets, c.vars["master_key"])
	path = c.write(t, dir, "wrong.hcl")
	_, stderr = w.run(t, 1, append([]string{"keys", "rewrap"}, c.args(path)...)...)
	mustContain(t, "rewrap with the wrong key", stderr, "tenant personal", "integrity", "hint: the configured key does not open")
	w.check(t)
}

func passphraseKeys(retired ...string) string {
	block := "keys \"passphrase\" {\n  passphrase = var.passphrase\n  salt       = var.salt\n  time       = 1\n  memory_kib = 8192\n"
	if len(retired) > 0 {
		block += "  retired_passphrases = [" + strings.Join(retired, ", ") + "]\n"
	}
	return block + "}"
}

var resumeRE = regexp.MustCompile(`(?m)^alice: (\d+) scanned.*-tenant alice -cursor (\S+)$`)

// TestKeysHosted runs the commands over several tenants of a hosted store
// with the passphrase provider: -all, a resumed re-encryption, and a
// passphrase rotation by configuration.
func TestKeysHosted(t *testing.T) {
	dir := t.TempDir()
	p1, p2, salt := "first passphrase "+newSecret(t, 9), "second passphrase "+newSecret(t, 9), newSecret(t, 16)
	w := &secretWatch{secrets: []string{p1, p2}}
	c := storeConfig{
		root: filepath.Join(dir, "data"), hosted: true, keys: passphraseKeys(),
		vars: map[string]string{"passphrase": p1, "salt": salt}, plugins: []string{"file", "passphrase"},
	}
	path := c.write(t, dir, "hosted.hcl")
	a := startApp(t, path, c.vars)
	const many = 250
	docs := map[string]docSet{"alice": putDocs(t, a, "alice", many), "bob": putDocs(t, a, "bob", 4)}
	args := c.args(path)
	cmd := func(sub ...string) []string { return append(append([]string{}, sub...), args...) }

	_, stderr := w.run(t, 1, cmd("keys", "status")...)
	mustContain(t, "status without a tenant", stderr, "-tenant ID, or use -all")
	stdout, _ := w.run(t, 0, cmd("keys", "status", "-tenant", "nobody")...)
	mustContain(t, "status of a tenant without data", stdout, "Tenant nobody", "none yet", "documents     0", "ok: nothing encrypted yet")
	for sub, want := range map[string]string{
		"rotate": "nobody: skipped: no keyring yet", "rewrap": "nobody: skipped: no keyring yet", "reencrypt": "nobody: no keyring yet",
	} {
		stdout, _ := w.run(t, 0, cmd("keys", sub, "-tenant", "nobody")...)
		mustContain(t, sub+" of a tenant without data", stdout, want)
	}
	st := statusJSON(t, 0, append(args, "-all")...)
	if len(st) != 2 || st[0].Tenant != "alice" || st[1].Tenant != "bob" || st[0].Documents.Documents != many {
		t.Fatalf("status -all = %+v", st)
	}

	stdout, _ = w.run(t, 0, cmd("keys", "rotate", "-all")...)
	mustContain(t, "rotate -all", stdout, "alice: provider key not rotated", "retired_passphrases", "alice: new data key version 2",
		"bob: provider key not rotated (latest version 1; see above)", "bob: new data key version 2", "reencrypt -config "+path+" -all`")

	// A run over the first page, then another rotation, then a run resumed
	// from the first page's cursor touches only the documents after it.
	_, stderr = w.run(t, 0, cmd("keys", "reencrypt", "-tenant", "alice")...)
	m := resumeRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("reencrypt printed no resumable progress line:\n%s", stderr)
	}
	var first int
	fmt.Sscan(m[1], &first)
	if first <= 0 || first >= many {
		t.Fatalf("first page scanned %d of %d documents; the test needs more than one page", first, many)
	}
	w.run(t, 0, cmd("keys", "rotate", "-tenant", "alice")...)
	stdout, _ = w.run(t, 0, cmd("keys", "reencrypt", "-tenant", "alice", "-cursor", m[2])...)
	mustContain(t, "resumed reencrypt", stdout, fmt.Sprintf("alice: %d documents scanned: %d re-encrypted with data key 3", many-first, many-first))
	st = statusJSON(t, 0, append(args, "-tenant", "alice")...)
	if !maps.Equal(st[0].Documents.DEKVersions, map[uint32]int{2: first, 3: many - first}) {
		t.Fatalf("after the resumed run DEK versions = %v, want %d at 2 and %d at 3", st[0].Documents.DEKVersions, first, many-first)
	}
	_, stderr = w.run(t, 2, cmd("keys", "reencrypt", "-all", "-cursor", m[2])...)
	mustContain(t, "-cursor with -all", stderr, "use it with -tenant")
	stdout, _ = w.run(t, 0, cmd("keys", "reencrypt", "-all")...)
	mustContain(t, "reencrypt -all", stdout, fmt.Sprintf("alice: %d documents scanned: %d re-encrypted with data key 3", many, first), "bob: 4 documents scanned: 4 re-encrypted with data key 2")

	// Rotating the passphrase by configuration, then rewrapping every tenant.
	c.keys, c.vars = passphraseKeys("var.old_passphrase"), map[string]string{"passphrase": p2, "old_passphrase": p1, "salt": salt}
	path = c.write(t, dir, "hosted.hcl")
	args = c.args(path)
	stdout, _ = w.run(t, 0, cmd("keys", "status", "-all")...)
	mustContain(t, "status after the passphrase rotation", stdout, "passphrase: key versions 1, 2 (latest 2", "3 data keys are wrapped under an older provider key version", "2 data keys are wrapped")
	var rewrap struct {
		Tenants []rewrapResult `json:"tenants"`
	}
	stdout, _ = w.run(t, 0, cmd("keys", "rewrap", "-all", "-json")...)
	if err := json.Unmarshal([]byte(stdout), &rewrap); err != nil || len(rewrap.Tenants) != 2 ||
		!slices.Equal(rewrap.Tenants[0].After, []uint32{2}) || rewrap.Tenants[0].DEKs != 3 || !slices.Equal(rewrap.Tenants[1].After, []uint32{2}) {
		t.Fatalf("rewrap -json = %v\n%s", err, stdout)
	}
	for _, ts := range statusJSON(t, 0, append(args, "-all")...) {
		if len(ts.Advice) != 0 || len(ts.Errors) != 0 {
			t.Errorf("tenant %s still needs work: %+v", ts.Tenant, ts)
		}
	}
	// Only the new passphrase is needed now that every key is rewrapped
	// (version numbers stay: the retired one is still listed, as it must be).
	b := startApp(t, path, c.vars)
	for tenant, d := range docs {
		checkDocs(t, b, tenant, d)
	}
	w.check(t)
}

// TestKeysWithoutEncryption: the keys commands refuse a configuration
// without a keys block, saying why.
func TestKeysWithoutEncryption(t *testing.T) {
	dir := t.TempDir()
	c := storeConfig{root: filepath.Join(dir, "data"), plugins: []string{"file"}}
	path := c.write(t, dir, "plain.hcl")
	for _, sub := range []string{"status", "rotate", "rewrap", "reencrypt"} {
		_, stderr := cliRun(t, 1, "keys", sub, "-config", path)
		mustContain(t, sub, stderr, "encryption is off", "no keys block")
	}
	_, stderr := cliRun(t, 2, "keys")
	mustContain(t, "keys without a command", stderr, "status", "rotate", "rewrap", "reencrypt", "apikeys")
	_, stderr = cliRun(t, 2, "keys", "spin")
	mustContain(t, "unknown keys command", stderr, `unknown command "spin"`)
	_, stderr = cliRun(t, 2, "keys", "status", "extra")
	mustContain(t, "stray argument", stderr, `unexpected argument "extra"`)
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"users/alice/portfolio/doc-199": "users/alice/portfolio/doc-199",
		"a b":                           "'a b'",
		"it's":                          `'it'\''s'`,
		"":                              "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
