package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	broken := writeFile(t, dir, "broken.hcl", "server {\n  listen = \"127.0.0.1:8080\"\n  colour = \"blue\"\n}\nstorage \"file\" {\n  root = \"./d\"\n}\n")
	ugly := writeFile(t, dir, "ugly.hcl", "server {\nlisten=\"127.0.0.1:1\"\n}\n")
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   []string
		noStdout []string
	}{
		{name: "version", args: []string{"version"}, stdout: []string{"vire-server "}},
		{name: "help", args: []string{"help"}, stdout: []string{"validate", "plugins"}},
		{name: "unknown command", args: []string{"serve"}, code: 2, stderr: []string{`unknown command "serve"`}},
		{name: "bad -var", args: []string{"validate", "-var", "novalue"}, code: 2, stderr: []string{"NAME=VALUE"}},
		{name: "validate names file line col", args: []string{"validate", "-config", broken}, code: 1,
			stderr: []string{"broken.hcl:3:3", "colour"}},
		{name: "validate json", args: []string{"validate", "-json", "-config", broken}, code: 1,
			stdout: []string{`"valid": false`, `"filename": "` + broken, `"line": 3`}},
		{name: "missing config file", args: []string{"validate", "-config", filepath.Join(dir, "nope.hcl")}, code: 1,
			stderr: []string{"nope.hcl"}},
		{name: "fmt check lists unformatted", args: []string{"fmt", "-check", ugly}, code: 1, stdout: []string{ugly}},
		{name: "fmt needs files", args: []string{"fmt"}, code: 2, stderr: []string{"Usage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	// fmt without -check rewrites the file, after which -check is clean.
	if code, _, stderr := runCLI(t, "fmt", ugly); code != 0 {
		t.Fatalf("fmt: %d %s", code, stderr)
	}
	if code, stdout, _ := runCLI(t, "fmt", "-check", ugly); code != 0 || stdout != "" {
		t.Fatalf("after fmt, -check = %d %q", code, stdout)
	}
}

// TestValidateWithPlugins runs validate against the real plugins: a good
// config passes; a value the plugin rejects at Configure is reported at the
// attribute's line and column; a secret never appears in the output.
func TestValidateWithPlugins(t *testing.T) {
	dir := t.TempDir()
	install(t, dir)
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	good := writeFile(t, dir, "good.hcl", `variable "key" {
  type      = string
  sensitive = true
}
storage "file" {
  root = abspath("./data")
}
keys "env" {
  master_key = var.key
}
`)
	code, stdout, stderr := runCLI(t, "validate", "-config", good, "-var", "key="+key)
	if code != 0 || !strings.Contains(stdout, "valid") {
		t.Fatalf("good config: %d\n%s\n%s", code, stdout, stderr)
	}
	short := base64.StdEncoding.EncodeToString([]byte("too short"))
	code, stdout, stderr = runCLI(t, "validate", "-json", "-config", good, "-var", "key="+short)
	if code != 1 {
		t.Fatalf("short key accepted: %s %s", stdout, stderr)
	}
	var res struct {
		Valid       bool `json:"valid"`
		Diagnostics []struct {
			Summary string `json:"summary"`
			Detail  string `json:"detail"`
			Range   struct {
				Start struct{ Line, Column int } `json:"start"`
			} `json:"range"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("validate -json output: %v\n%s", err, stdout)
	}
	if res.Valid || len(res.Diagnostics) == 0 || res.Diagnostics[0].Range.Start.Line != 9 {
		t.Fatalf("diagnostics = %+v, want one at line 9 (master_key)", res.Diagnostics)
	}
	if strings.Contains(stdout+stderr, short) || strings.Contains(stdout+stderr, key) {
		t.Fatal("a master key appeared in validate output")
	}

	code, stdout, _ = runCLI(t, "plugins", "-dir", filepath.Join(dir, "bin", "plugins"))
	if code != 0 || !strings.Contains(stdout, "file") || !strings.Contains(stdout, "storage") || !strings.Contains(stdout, "keys") {
		t.Fatalf("plugins: %d\n%s", code, stdout)
	}
}
