package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/api"
	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/internal/testbuild"
)

// accessConfig writes a configuration over the file backend in dir.
func accessConfig(t *testing.T, dir string, hosted bool) string {
	t.Helper()
	var b strings.Builder
	if hosted {
		b.WriteString("auth {\n  mode       = \"api_key\"\n  rate_limit = 600\n  rate_burst = 60\n}\n\n")
	}
	fmt.Fprintf(&b, "storage \"file\" {\n  root  = %q\n  fsync = false\n}\n\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&b, "plugin \"file\" {\n  path = %q\n}\n", testbuild.Binary(t, "./cmd/vire-plugin-file"))
	path := filepath.Join(dir, "vire.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveConfig runs the server's handler, as cmdRun builds it, in-process
// over the configuration; the returned function flushes the audit log.
func serveConfig(t *testing.T, path string) (string, func()) {
	t.Helper()
	cfg, diags := config.Load(path, config.LoadOptions{LookupEnv: config.EnvironLookup(nil)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	a, diags := app.Start(context.Background(), cfg, app.Options{HealthInterval: -1})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	t.Cleanup(a.Close)
	srv := &http.Server{Handler: api.NewRouter(a, api.Options{})}
	closeAccess, err := accessLayer(srv, a, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAccess)
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(hs.Close)
	return hs.URL, closeAccess
}

func whoami(t *testing.T, url, key string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Tenant-ID", "operator")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	if resp.Header.Get("X-Request-ID") == "" {
		t.Error("no X-Request-ID")
	}
	return resp.StatusCode, body
}

func TestTenantsAndAPIKeysCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := accessConfig(t, dir, true)
	var outputs []string // every stderr and every stdout but the create/rotate ones
	cli := func(code int, args ...string) (string, string) {
		t.Helper()
		args = append(args[:1:1], append([]string{args[1], "-config", cfg}, args[2:]...)...)
		got, stdout, stderr := runCLI(t, args...)
		if got != code {
			t.Fatalf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", args, got, code, stdout, stderr)
		}
		outputs = append(outputs, stderr)
		return stdout, stderr
	}

	out, _ := cli(0, "tenants", "create", "acme", "-name", "Acme Pty Ltd")
	mustHave(t, out, "acme", "active", "Acme Pty Ltd")
	_, errOut := cli(1, "tenants", "create", "acme")
	mustHave(t, errOut, "already exists")
	cli(1, "tenants", "create", "Bad/Id")
	out, _ = cli(0, "tenants", "list", "-json")
	var list struct {
		Tenants []struct{ ID, Status string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Tenants) != 1 || list.Tenants[0].ID != "acme" {
		t.Fatalf("tenants list -json: %v\n%s", err, out)
	}

	key, errOut := cli(0, "apikeys", "create", "-tenant", "acme", "-name", "ci", "-scopes", "read", "-expires", "720h")
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, "vire_") || strings.Contains(key, "\n") {
		t.Fatalf("stdout is not just the key: %q", key)
	}
	mustHave(t, errOut, "Created API key", "tenant acme", "scopes read", "shown only once")
	keyID := key[5:17]
	cli(1, "apikeys", "create", "-tenant", "acme", "-scopes", "root")
	cli(1, "apikeys", "create", "-tenant", "nobody")
	cli(2, "apikeys", "create")

	out, _ = cli(0, "apikeys", "list", "-tenant", "acme")
	outputs = append(outputs, out)
	mustHave(t, out, keyID, "active", "read", "ci")

	// The server sees the key at once; a header cannot change its tenant.
	url, flush := serveConfig(t, cfg)
	if code, body := whoami(t, url, key); code != 200 || body["tenant"] != "acme" {
		t.Fatalf("whoami: %d %v", code, body)
	}

	newKey, errOut := cli(0, "apikeys", "rotate", "-tenant", "acme", "-grace", "1h", keyID)
	newKey = strings.TrimSpace(newKey)
	mustHave(t, errOut, "replaces "+keyID)
	for _, k := range []string{key, newKey} {
		if code, _ := whoami(t, url, k); code != 200 {
			t.Fatalf("during the rotation overlap: %d", code)
		}
	}
	out, _ = cli(0, "apikeys", "revoke", "-tenant", "acme", keyID)
	outputs = append(outputs, out)
	mustHave(t, out, "revoked")
	if code, _ := whoami(t, url, key); code != 401 {
		t.Fatalf("revoked key: %d", code)
	}
	cli(1, "apikeys", "revoke", "-tenant", "acme", "nosuchkey")

	cli(0, "tenants", "suspend", "acme")
	if code, body := whoami(t, url, newKey); code != 403 {
		t.Fatalf("suspended: %d %v", code, body)
	}
	cli(0, "tenants", "resume", "acme")
	if code, _ := whoami(t, url, newKey); code != 200 {
		t.Fatalf("resumed: %d", code)
	}

	flush()
	out, _ = cli(0, "audit", "verify", "-tenant", "acme")
	// Four requests were served; the revoked key's (401) and the suspended
	// tenant's (403) were refused before they had a principal.
	mustHave(t, out, "intact", "4 record(s)")
	_, errOut = cli(2, "audit", "verify")
	mustHave(t, errOut, "-tenant is required")

	_, errOut = cli(1, "tenants", "delete", "acme")
	mustHave(t, errOut, "-yes")
	out, _ = cli(0, "tenants", "delete", "-yes", "acme")
	mustHave(t, out, "Deleted tenant acme", "2 API key(s)")
	if code, _ := whoami(t, url, newKey); code != 401 {
		t.Fatalf("key of a deleted tenant: %d", code)
	}
	cli(1, "apikeys", "list", "-tenant", "acme")

	for _, o := range outputs {
		for _, k := range []string{key, newKey, key[18:40], newKey[18:40]} {
			if strings.Contains(o, k) {
				t.Fatalf("a key appears in the output:\n%s", o)
			}
		}
	}
}

func TestAccessCommandsPersonal(t *testing.T) {
	cfg := accessConfig(t, t.TempDir(), false)
	code, _, stderr := runCLI(t, "tenants", "list", "-config", cfg)
	if code != 1 || !strings.Contains(stderr, "personal") {
		t.Fatalf("tenants on a personal config: %d %s", code, stderr)
	}
	code, _, stderr = runCLI(t, "apikeys", "create", "-tenant", "personal", "-config", cfg)
	if code != 1 || !strings.Contains(stderr, "personal") {
		t.Fatalf("apikeys on a personal config: %d %s", code, stderr)
	}
	// Personal mode audits too, with nothing to configure.
	url, flush := serveConfig(t, cfg)
	if code, body := whoami(t, url, ""); code != 200 || body["tenant"] != "personal" {
		t.Fatalf("personal whoami: %d %v", code, body)
	}
	flush()
	code, stdout, stderr := runCLI(t, "audit", "verify", "-config", cfg)
	if code != 0 || !strings.Contains(stdout, "intact, 1 record(s)") {
		t.Fatalf("audit verify: %d %s %s", code, stdout, stderr)
	}
}

func TestAccessCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tenants"}, 2, "Usage: vire-server tenants"},
		{[]string{"tenants", "-h"}, 0, "suspend"},
		{[]string{"tenants", "rename", "x"}, 2, `unknown command "rename"`},
		{[]string{"tenants", "suspend"}, 2, "want 1 tenant id"},
		{[]string{"apikeys", "help"}, 0, "vire-server keys"},
		{[]string{"apikeys", "revoke", "-tenant", "a"}, 2, "-tenant ID and 1 key id"},
		{[]string{"audit", "check"}, 2, `unknown command "check"`},
		{[]string{"help"}, 0, "apikeys"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%v: exit %d (want %d), output lacks %q:\n%s%s", tc.args, code, tc.code, tc.want, stdout, stderr)
		}
	}
}

func mustHave(t *testing.T, text string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Fatalf("output lacks %q:\n%s", p, text)
		}
	}
}

// TestHostedEndToEnd runs the real binaries in api_key mode: an operator
// key from the CLI, a tenant and its key made over the admin API, and on
// SIGTERM the queued audit records written before the plugins stop.
func TestHostedEndToEnd(t *testing.T) {
	dir := t.TempDir()
	server := install(t, dir)
	cfg := filepath.Join(dir, "hosted.hcl")
	src := "variable \"listen\" {\n  default = \"127.0.0.1:8080\"\n}\n\nserver {\n  listen = var.listen\n}\n\n" +
		"auth {\n  mode = \"api_key\"\n}\n\nstorage \"file\" {\n  root  = abspath(\"data\")\n  fsync = false\n}\n"
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := func(args ...string) (string, string, error) {
		cmd := exec.Command(server, args...)
		cmd.Dir = dir
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	opKey, stderr, err := bin("apikeys", "create", "-config", cfg, "-tenant", "operator", "-scopes", "admin", "-name", "root")
	if err != nil {
		t.Fatalf("apikeys create: %v\n%s", err, stderr)
	}
	opKey = strings.TrimSpace(opKey)

	port := freePort(t)
	cmd := exec.Command(server, "run", "-config", cfg, "-var", "listen=127.0.0.1:"+strconv.Itoa(port))
	cmd.Dir = dir
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(t, url, exited)

	call := func(method, path, key, body string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp.Header
	}
	if code, _, _ := call("POST", "/api/admin/tenants", opKey, `{"id":"acme","name":"Acme"}`); code != 201 {
		t.Fatalf("create tenant: %d", code)
	}
	code, body, _ := call("POST", "/api/admin/tenants/acme/keys", opKey, `{"scopes":["read"]}`)
	acmeKey, _ := body["key"].(string)
	if code != 201 || acmeKey == "" {
		t.Fatalf("create key: %d %v", code, body)
	}
	if code, body, _ := call("GET", "/api/whoami", acmeKey, ""); code != 200 || body["tenant"] != "acme" {
		t.Fatalf("whoami: %d %v", code, body)
	}
	if code, _, hdr := call("GET", "/api/whoami", "", ""); code != 401 || hdr.Get("WWW-Authenticate") == "" {
		t.Fatalf("no key: %d %v", code, hdr)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after SIGTERM\n%s", logs.String())
	}
	for tenant, want := range map[string]string{"operator": "intact, 2 record(s)", "acme": "intact, 1 record(s)"} {
		out, stderr, err := bin("audit", "verify", "-config", cfg, "-tenant", tenant)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("audit verify %s: %v\n%s%s", tenant, err, out, stderr)
		}
	}
	for _, k := range []string{opKey, acmeKey} {
		if strings.Contains(logs.String(), k) {
			t.Fatal("an API key appeared in the server log")
		}
	}
}
