package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/vire-dev/vire/sdk"
)

// minimal is the smallest valid configuration; cases add their mistake to it.
const minimal = `storage "file" {
  root = "./data"
}
`

// position names a diagnostic's subject as file:line:col, or "" without one.
func position(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return ""
	}
	return where(*d.Subject)
}

func errorsOf(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			out = append(out, d)
		}
	}
	return out
}

func describe(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "\n  %s: %s | %s", position(d), d.Summary, d.Detail)
	}
	return b.String()
}

// loadAndDecode does what `vire-server validate` does: load, then decode
// every plugin block against its schema.
func loadAndDecode(t testing.TB, filename, src string, opts LoadOptions) (*Config, hcl.Diagnostics) {
	t.Helper()
	c, diags := LoadBytes(filename, []byte(src), opts)
	diags = append(diags, c.DecodeComponents(context.Background(), fixtureSchemas)...)
	return c, diags
}

func TestConfigMistakes(t *testing.T) {
	type tc struct {
		name    string
		src     string
		opts    LoadOptions
		after   func(*Config) hcl.Diagnostics // e.g. a plugin's Configure
		summary string
		detail  string // a substring of the detail
		pos     string // file:line:col, "" for none
	}
	env := func(kv ...string) LoadOptions { return LoadOptions{LookupEnv: EnvironLookup(kv)} }
	cases := []tc{
		{name: "unknown block", src: minimal + "bogus {}\n",
			summary: "Unsupported block type", detail: `Blocks of type "bogus" are not expected here.`, pos: "vire.hcl:4:1"},
		{name: "unknown top-level attribute", src: minimal + "listen = \"x\"\n",
			summary: "Unsupported argument", detail: `An argument named "listen" is not expected here.`, pos: "vire.hcl:4:1"},
		{name: "unknown server attribute", src: minimal + "server {\n  port = 8080\n}\n",
			summary: "Unsupported argument", detail: `An argument named "port" is not expected here.`, pos: "vire.hcl:5:3"},
		{name: "unknown plugin attribute", src: "storage \"file\" {\n  root = \"d\"\n  rooot = \"e\"\n}\n",
			summary: "Unsupported argument", detail: `An argument named "rooot" is not expected here.`, pos: "vire.hcl:3:3"},
		{name: "wrong type in plugin attribute", src: "storage \"file\" {\n  root     = \"d\"\n  versions = \"many\"\n}\n",
			summary: "Incorrect attribute value type", detail: `Inappropriate value for attribute "versions": a number is required.`, pos: "vire.hcl:3:14"},
		{name: "wrong type in server attribute", src: minimal + "server {\n  allow_remote_without_auth = \"maybe\"\n}\n",
			summary: "Incorrect attribute value type", detail: `Inappropriate value for attribute "allow_remote_without_auth": a bool is required`, pos: "vire.hcl:5:31"},
		{name: "missing required plugin attribute", src: "storage \"file\" {\n  fsync = false\n}\n",
			summary: "Missing required argument", detail: `The argument "root" is required`, pos: "vire.hcl:1:16"},
		{name: "required plugin attribute set to null", src: minimal + "keys \"env\" {\n  master_key = null\n}\n",
			summary: "Invalid keys configuration", detail: `Attribute "master_key": required attribute is not set.`, pos: "vire.hcl:5:16"},
		{name: "two storage blocks", src: minimal + "storage \"s3\" {\n  bucket = \"b\"\n}\n",
			summary: "Duplicate storage block", detail: "the first is at vire.hcl:1:1", pos: "vire.hcl:4:1"},
		{name: "no storage block", src: "server {\n  listen = \"127.0.0.1:9000\"\n}\n",
			summary: "Missing storage block", detail: "A storage block is required", pos: "vire.hcl:1:1"},
		{name: "duplicate source name", src: minimal + "source \"eodhd\" \"market\" {\n  api_key = \"k1\"\n}\nsource \"eodhd\" \"market\" {\n  api_key = \"k2\"\n}\n",
			summary: "Duplicate source name", detail: `A source named "market" is already declared at vire.hcl:4:1`, pos: "vire.hcl:7:16"},
		{name: "env outside a variable default", src: "storage \"file\" {\n  root = env(\"HOME\")\n}\n",
			summary: "env() not allowed here", detail: "env() is only allowed in variable defaults", pos: "vire.hcl:2:10"},
		{name: "env in a local", src: minimal + "locals {\n  home = upper(env(\"HOME\"))\n}\n",
			summary: "env() not allowed here", detail: "env() is only allowed in variable defaults", pos: "vire.hcl:5:16"},
		{name: "undeclared variable", src: "storage \"file\" {\n  root = var.data_dir\n}\n",
			summary: "Reference to undeclared variable", detail: `No variable named "data_dir" is declared.`, pos: "vire.hcl:2:10"},
		{name: "undeclared local", src: "storage \"file\" {\n  root = \"${local.base}/data\"\n}\n",
			summary: "Reference to undeclared local value", detail: `No local value named "base" is defined`, pos: "vire.hcl:2:13"},
		{name: "cycle in locals", src: minimal + "locals {\n  a = local.b\n  b = \"${local.a}x\"\n}\n",
			summary: "Cycle in local values", detail: "local.a depends on itself: local.a → local.b → local.a.", pos: "vire.hcl:5:3"},
		{name: "duplicate local", src: minimal + "locals {\n  a = 1\n}\nlocals {\n  a = 2\n}\n",
			summary: "Duplicate local value", detail: `A local value named "a" is already defined at vire.hcl:5:3.`, pos: "vire.hcl:8:3"},
		{name: "bad sha256", src: minimal + "plugin \"file\" {\n  sha256 = \"abc123\"\n}\n",
			summary: "Invalid sha256", detail: "must be 64 hexadecimal characters", pos: "vire.hcl:5:12"},
		{name: "sha256 with a non-hex character", src: minimal + "plugin \"file\" {\n  sha256 = \"" + strings.Repeat("g", 64) + "\"\n}\n",
			summary: "Invalid sha256", detail: "this value has 64 characters", pos: "vire.hcl:5:12"},
		{name: "bad plugin env name", src: minimal + "plugin \"file\" {\n  env = [\"OK\", \"NOT-OK\"]\n}\n",
			summary: "Invalid environment variable name", detail: `"NOT-OK" is not a valid name`, pos: "vire.hcl:5:9"},
		{name: "duplicate plugin block", src: minimal + "plugin \"file\" {\n}\nplugin \"file\" {\n}\n",
			summary: "Duplicate plugin block", detail: `The plugin "file" is already declared at vire.hcl:4:1.`, pos: "vire.hcl:6:1"},
		{name: "plugin name that could escape the plugin directory", src: "storage \"../evil\" {\n}\n",
			summary: "Invalid plugin name", detail: `"../evil" is not`, pos: "vire.hcl:1:9"},
		{name: "bad listen address", src: minimal + "server {\n  listen = \"localhost\"\n}\n",
			summary: "Invalid listen address", detail: "missing port in address", pos: "vire.hcl:5:12"},
		{name: "listen port out of range", src: minimal + "server {\n  listen = \"127.0.0.1:70000\"\n}\n",
			summary: "Invalid listen address", detail: "the port must be a number from 0 to 65535", pos: "vire.hcl:5:12"},
		{name: "remote listen without auth", src: minimal + "server {\n  listen = \"0.0.0.0:8080\"\n}\n",
			summary: "Remote access without authentication", detail: `Set auth { mode = "api_key" }`, pos: "vire.hcl:5:12"},
		{name: "bad duration", src: minimal + "server {\n  shutdown_timeout = \"15 seconds\"\n}\n",
			summary: "Invalid duration", detail: `"shutdown_timeout" must be a duration`, pos: "vire.hcl:5:22"},
		{name: "negative duration", src: minimal + "server {\n  shutdown_timeout = \"-1s\"\n}\n",
			summary: "Invalid duration", detail: "not negative", pos: "vire.hcl:5:22"},
		{name: "bad log level", src: minimal + "server {\n  log_level = \"verbose\"\n}\n",
			summary: "Invalid log level", detail: `"log_level" must be one of "trace", "debug", "info", "warn", "error".`, pos: "vire.hcl:5:15"},
		{name: "bad auth mode", src: minimal + "auth {\n  mode = \"oauth\"\n}\n",
			summary: "Invalid auth mode", detail: `"mode" must be "none" or "api_key".`, pos: "vire.hcl:5:10"},
		{name: "fractional rate limit", src: minimal + "auth {\n  mode       = \"api_key\"\n  rate_limit = 1.5\n}\n",
			summary: "Invalid number", detail: `"rate_limit" must be a whole number`, pos: "vire.hcl:6:16"},
		{name: "scope rate limit for a scope that does not exist", src: minimal + "auth {\n  scope_rate_limits = { write = 120, wirte = 5 }\n}\n",
			summary: "Invalid scope", detail: `"wirte" is not a scope: the keys of "scope_rate_limits" must be "read", "write" or "admin".`, pos: "vire.hcl:5:38"},
		{name: "scope rate limit for an unknown scope on its own line", src: minimal + "auth {\n  scope_rate_limits = {\n    read  = 600\n    admins = 30\n  }\n}\n",
			summary: "Invalid scope", detail: `"admins" is not a scope`, pos: "vire.hcl:7:5"},
		{name: "negative scope rate limit", src: minimal + "auth {\n  scope_rate_limits = { admin = -1 }\n}\n",
			summary: "Invalid number", detail: `The "admin" rate in "scope_rate_limits" must be a whole number from 0 to 2147483647.`, pos: "vire.hcl:5:33"},
		{name: "fractional scope rate limit", src: minimal + "auth {\n  scope_rate_limits = {\n    write = 2.5\n  }\n}\n",
			summary: "Invalid number", detail: `The "write" rate in "scope_rate_limits" must be a whole number`, pos: "vire.hcl:6:13"},
		{name: "scope rate limit that is not a number", src: minimal + "auth {\n  scope_rate_limits = { write = \"lots\" }\n}\n",
			summary: "Incorrect attribute value type", detail: `Inappropriate value for the "write" rate in "scope_rate_limits": a number is required.`, pos: "vire.hcl:5:33"},
		{name: "scope rate limit given twice", src: minimal + "auth {\n  scope_rate_limits = { write = 1, write = 2 }\n}\n",
			summary: "Duplicate scope", detail: `The scope "write" is already given a rate at vire.hcl:5:25.`, pos: "vire.hcl:5:36"},
		{name: "scope rate limits that are not a map", src: minimal + "auth {\n  scope_rate_limits = 120\n}\n",
			summary: "Incorrect attribute value type", detail: `Inappropriate value for attribute "scope_rate_limits": map of number required, but have number.`, pos: "vire.hcl:5:23"},
		{name: "scope rate limits from a variable with an unknown scope", src: "variable \"limits\" {\n  default = { write = 1, delete = 2 }\n}\n" + minimal + "auth {\n  scope_rate_limits = var.limits\n}\n",
			summary: "Invalid scope", detail: `"delete" is not a scope`, pos: "vire.hcl:8:23"},
		{name: "unknown function", src: "storage \"file\" {\n  root = nosuch(\"x\")\n}\n",
			summary: "Call to unknown function", detail: `There is no function named "nosuch".`, pos: "vire.hcl:2:10"},
		{name: "function argument of the wrong type", src: "storage \"file\" {\n  root = upper([\"x\"])\n}\n",
			summary: "Invalid function argument", detail: `Invalid value for "str" parameter: string required`, pos: "vire.hcl:2:16"},
		{name: "file that does not exist", src: "storage \"file\" {\n  root = trimspace(file(\"root.txt\"))\n}\n",
			summary: "Invalid function argument", detail: "no file exists at", pos: "vire.hcl:2:26"},
		{name: "syntax error", src: "storage \"file\" {\n  root = \"d\"\n",
			summary: "Unclosed configuration block", detail: "There is no closing brace for this block", pos: "vire.hcl:1:16"},
		{name: "syntax error in an expression", src: "storage \"file\" {\n  root = \"d\" +\n}\n",
			summary: "Invalid expression", detail: "Expected the start of an expression", pos: "vire.hcl:2:15"},
		{name: "missing source name", src: minimal + "source \"eodhd\" {\n}\n",
			summary: "Missing name for source", detail: "All source blocks must have 2 labels (plugin, name).", pos: "vire.hcl:4:16"},
		{name: "variable without a value", src: "variable \"data_dir\" {\n  type = string\n}\n" + minimal,
			summary: "No value for required variable",
			detail:  `The variable "data_dir" has no default and no value was given. Set it with -var data_dir=VALUE or the environment variable VIRE_VAR_data_dir.`,
			pos:     "vire.hcl:1:1"},
		{name: "-var for an undeclared variable", src: minimal, opts: LoadOptions{Vars: map[string]string{"nope": "1"}},
			summary: "Value for undeclared variable", detail: `A value was given for the variable "nope" with -var, but no variable "nope" block declares it.`, pos: ""},
		{name: "environment value that does not convert", src: "variable \"versions\" {\n  type = number\n}\n" + minimal,
			opts:    env("VIRE_VAR_versions=lots"),
			summary: "Invalid value for variable", detail: `The value given for variable "versions" by the environment variable VIRE_VAR_versions is not a valid number: a number is required.`, pos: "vire.hcl:1:1"},
		{name: "-var that does not convert to a list", src: "variable \"keys\" {\n  type = list(string)\n}\n" + minimal,
			opts:    LoadOptions{Vars: map[string]string{"keys": "a,b"}},
			summary: "Invalid value for variable", detail: `The value given for variable "keys" by -var is not a valid list(string): it is not an HCL literal such as ["a", "b"]`, pos: "vire.hcl:1:1"},
		{name: "default of the wrong type", src: "variable \"n\" {\n  type    = bool\n  default = \"perhaps\"\n}\n" + minimal,
			summary: "Invalid default value for variable", detail: `The default of variable "n" does not match its type bool: a bool is required`, pos: "vire.hcl:3:13"},
		{name: "bad type constraint", src: "variable \"n\" {\n  type = strng\n}\n" + minimal,
			summary: "Invalid type specification", detail: `The keyword "strng" is not a valid type specification.`, pos: "vire.hcl:2:10"},
		{name: "duplicate variable", src: "variable \"a\" {\n  default = 1\n}\nvariable \"a\" {\n  default = 2\n}\n" + minimal,
			summary: "Duplicate variable declaration", detail: `A variable named "a" is already declared at vire.hcl:1:1.`, pos: "vire.hcl:4:1"},
		{name: "sensitive that is not a literal", src: "variable \"a\" {\n  default   = 1\n  sensitive = var.b\n}\n" + minimal,
			summary: "Variables not allowed", detail: "Variables may not be used here.", pos: "vire.hcl:3:15"},
		{name: "unknown plugin", src: minimal + "source \"nasdaq\" \"us\" {\n}\n",
			summary: "Plugin not available", detail: `The source plugin "nasdaq" cannot be used: no plugin binary vire-plugin-nasdaq in /opt/vire/plugins.`, pos: "vire.hcl:4:8"},
		{name: "plugin rejects an attribute", src: minimal,
			after: func(c *Config) hcl.Diagnostics {
				return c.ConfigureDiagnostics(c.Storage, fmt.Errorf("configure: %w", sdk.AttrError("root", "%s is not a directory", "./data")))
			},
			summary: "Invalid storage configuration", detail: `The storage plugin "file" rejected the attribute "root": ./data is not a directory.`, pos: "vire.hcl:2:10"},
		{name: "plugin rejects an attribute left unset", src: minimal,
			after: func(c *Config) hcl.Diagnostics {
				return c.ConfigureDiagnostics(c.Storage, sdk.AttrError("versions", "must be at least 1"))
			},
			summary: "Invalid storage configuration", detail: `rejected the attribute "versions": must be at least 1.`, pos: "vire.hcl:1:1"},
		{name: "plugin rejects the whole block", src: minimal,
			after: func(c *Config) hcl.Diagnostics {
				return c.ConfigureDiagnostics(c.Storage, sdk.ConfigErrors{{Message: "root and fsync disagree"}})
			},
			summary: "Invalid storage configuration", detail: `The storage plugin "file" rejected the storage block: root and fsync disagree.`, pos: "vire.hcl:1:1"},
		{name: "plugin fails to configure", src: minimal,
			after: func(c *Config) hcl.Diagnostics {
				return c.ConfigureDiagnostics(c.Storage, errors.New("disk on fire"))
			},
			summary: "Plugin configuration failed", detail: `The storage plugin "file" could not be configured: disk on fire.`, pos: "vire.hcl:1:1"},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := loadAndDecode(t, "vire.hcl", tt.src, tt.opts)
			if tt.after != nil {
				if diags.HasErrors() {
					t.Fatalf("configuration should load:%s", describe(diags))
				}
				diags = tt.after(c)
			}
			errs := errorsOf(diags)
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %d:%s", len(errs), describe(diags))
			}
			d := errs[0]
			if d.Summary != tt.summary {
				t.Errorf("summary = %q, want %q", d.Summary, tt.summary)
			}
			if !strings.Contains(d.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", d.Detail, tt.detail)
			}
			if got := position(d); got != tt.pos {
				t.Errorf("position = %q, want %q", got, tt.pos)
			}
			// The text and JSON renderings name the same position.
			var text strings.Builder
			if err := WriteDiagnostics(&text, c.Files, diags, false); err != nil {
				t.Fatal(err)
			}
			if tt.pos != "" && !strings.Contains(text.String(), "on "+tt.pos) {
				t.Errorf("text output does not name %s:\n%s", tt.pos, text.String())
			}
			if !strings.Contains(text.String(), "Error: "+tt.summary) {
				t.Errorf("text output lacks the summary:\n%s", text.String())
			}
		})
	}
}

func TestDirectoryMistakes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.hcl", minimal+"server {\n  listen = \"127.0.0.1:1\"\n}\n")
	write("b.hcl", "server {\n  listen = \"127.0.0.1:2\"\n}\nplugin_dir = \"p\"\n")
	write("c.hcl", "plugin_dir = \"q\"\n")
	_, diags := Load(dir, LoadOptions{})
	errs := errorsOf(diags)
	want := []struct{ summary, detail, pos string }{
		{"Duplicate server block", "the first is at " + filepath.Join(dir, "a.hcl") + ":4:1", filepath.Join(dir, "b.hcl") + ":1:1"},
		{"Duplicate plugin_dir attribute", "the first is at " + filepath.Join(dir, "b.hcl") + ":4:1", filepath.Join(dir, "c.hcl") + ":1:1"},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:%s", len(errs), len(want), describe(diags))
	}
	for i, w := range want {
		d := errs[i]
		if d.Summary != w.summary || !strings.Contains(d.Detail, w.detail) || position(d) != w.pos {
			t.Errorf("error %d = %s: %s | %s, want %s: %s | ...%s...", i, position(d), d.Summary, d.Detail, w.pos, w.summary, w.detail)
		}
	}
}

func TestLoadPathMistakes(t *testing.T) {
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, summary, detail string }{
		{filepath.Join(empty, "missing.hcl"), "Cannot read configuration", "no such file or directory"},
		{empty, "No configuration files", "holds no *.hcl files"},
	} {
		c, diags := Load(tt.path, LoadOptions{})
		if c == nil || len(diags) != 1 || diags[0].Summary != tt.summary || !strings.Contains(diags[0].Detail, tt.detail) {
			t.Errorf("Load(%s) = %s", tt.path, describe(diags))
		}
	}
}
