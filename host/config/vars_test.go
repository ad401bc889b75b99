package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func mustLoad(t *testing.T, src string, opts LoadOptions) *Config {
	t.Helper()
	c, diags := loadAndDecode(t, "vire.hcl", src, opts)
	if diags.HasErrors() {
		t.Fatalf("load failed:%s", describe(diags))
	}
	return c
}

func TestVariablePrecedence(t *testing.T) {
	const src = `
variable "root" {
  default = "from-default"
}
storage "file" {
  root = var.root
}
`
	for _, tt := range []struct {
		name    string
		environ []string
		vars    map[string]string
		want    string
	}{
		{"default only", nil, nil, "from-default"},
		{"environment beats default", []string{"VIRE_VAR_root=from-env"}, nil, "from-env"},
		{"upper-case environment name", []string{"VIRE_VAR_ROOT=from-upper-env"}, nil, "from-upper-env"},
		{"exact environment name beats upper case", []string{"VIRE_VAR_ROOT=upper", "VIRE_VAR_root=exact"}, nil, "exact"},
		{"-var beats environment", []string{"VIRE_VAR_root=from-env"}, map[string]string{"root": "from-var"}, "from-var"},
		{"-var beats default", nil, map[string]string{"root": "from-var"}, "from-var"},
		{"empty -var is a value", []string{"VIRE_VAR_root=from-env"}, map[string]string{"root": ""}, ""},
		{"unrelated environment ignored", []string{"VIRE_VAR_other=x", "root=y"}, nil, "from-default"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, src, LoadOptions{Vars: tt.vars, LookupEnv: EnvironLookup(tt.environ)})
			if got := c.Storage.Value.String("root"); got != tt.want {
				t.Errorf("root = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVariableTypes(t *testing.T) {
	const src = `
variable "versions" {
  type = number
}
variable "fsync" {
  type = bool
}
variable "retired" {
  type      = list(string)
  sensitive = true
}
variable "headers" {
  type = map(string)
}
variable "master" {
  type      = string
  sensitive = true
  default   = env("VIRE_MASTER_KEY")
}
storage "file" {
  root     = "d"
  versions = var.versions
  fsync    = var.fsync
}
keys "env" {
  master_key   = var.master
  retired_keys = var.retired
}
source "eodhd" "market" {
  api_key = "k"
  headers = var.headers
}
`
	c := mustLoad(t, src, LoadOptions{
		Vars: map[string]string{"versions": "7", "retired": `["old1", "old2"]`},
		LookupEnv: EnvironLookup([]string{
			"VIRE_VAR_fsync=false", `VIRE_VAR_headers={ "X-Team" = "ops" }`, "VIRE_MASTER_KEY=mk",
		}),
	})
	want := sdk.ConfigValue{"root": "d", "versions": float64(7), "fsync": false}
	if !reflect.DeepEqual(c.Storage.Value, want) {
		t.Errorf("storage = %#v, want %#v", map[string]any(c.Storage.Value), map[string]any(want))
	}
	if got := c.Keys.Value.Strings("retired_keys"); !reflect.DeepEqual(got, []string{"old1", "old2"}) {
		t.Errorf("retired_keys = %q", got)
	}
	if got := c.Keys.Value.String("master_key"); got != "mk" {
		t.Errorf("master_key from env() default = %q", got)
	}
	if got := c.Sources[0].Value.StringMap("headers"); !reflect.DeepEqual(got, map[string]string{"X-Team": "ops"}) {
		t.Errorf("headers = %v", got)
	}
	// The schema's default fills what the block leaves out.
	if got := c.Sources[0].Value.String("base_url"); got != "https://eodhd.com/api" {
		t.Errorf("base_url default = %q", got)
	}
}

func TestEnvDefaultUnsetIsEmpty(t *testing.T) {
	c := mustLoad(t, `
variable "root" {
  default = env("VIRE_DATA")
}
storage "file" {
  root = "${var.root}/x"
}
`, LoadOptions{})
	if got := c.Storage.Value.String("root"); got != "/x" {
		t.Errorf("root = %q, want %q", got, "/x")
	}
}

func TestLocalsFunctionsAndFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bucket.txt"), []byte("  vire-bucket\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
variable "env" {
  default = "prod"
}
locals {
  bucket = trimspace(file("bucket.txt"))
  prefix = format("%s/%s/", local.team, var.env)
  team   = lower("OPS")
  tags   = jsondecode(jsonencode({ a = "1" }))
}
storage "s3" {
  bucket         = local.bucket
  prefix         = local.prefix
  region         = coalesce(null, "", lookup({ prod = "ap-southeast-2" }, var.env, "us-east-1"))
  endpoint       = base64decode(base64encode(join(",", split(" ", "x y"))))
  use_path_style = length(concat(["a"], ["b"])) == tonumber("2")
}
keys "env" {
  master_key = replace(upper("abc-def"), "-", "_")
}
`
	if err := os.WriteFile(filepath.Join(dir, "vire.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, diags := Load(filepath.Join(dir, "vire.hcl"), LoadOptions{})
	diags = append(diags, c.DecodeComponents(t.Context(), fixtureSchemas)...)
	if diags.HasErrors() {
		t.Fatalf("load failed:%s", describe(diags))
	}
	want := sdk.ConfigValue{
		"bucket": "vire-bucket", "prefix": "ops/prod/", "region": "ap-southeast-2",
		"endpoint": "x,y", "use_path_style": true,
	}
	if !reflect.DeepEqual(c.Storage.Value, want) {
		t.Errorf("storage = %#v\nwant %#v", map[string]any(c.Storage.Value), map[string]any(want))
	}
	if got := c.Keys.Value.String("master_key"); got != "ABC_DEF" {
		t.Errorf("master_key = %q", got)
	}
	if c.Dir != dir {
		t.Errorf("Dir = %q, want %q", c.Dir, dir)
	}
}

func TestPathsResolveAgainstConfigDir(t *testing.T) {
	dir := t.TempDir()
	src := minimal + `
plugin_dir = "plugins"
plugin "file" {
  path   = "bin/vire-plugin-file"
  sha256 = "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"
  env    = ["HOME", "TZ"]
}
plugin "s3" {
  path = "/opt/vire/vire-plugin-s3"
}
`
	if err := os.WriteFile(filepath.Join(dir, "vire.hcl"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c, diags := Load(filepath.Join(dir, "vire.hcl"), LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load failed:%s", describe(diags))
	}
	if c.PluginDir != filepath.Join(dir, "plugins") {
		t.Errorf("PluginDir = %q", c.PluginDir)
	}
	p, ok := c.Plugin("file")
	if !ok || p.Path != filepath.Join(dir, "bin", "vire-plugin-file") ||
		p.SHA256 != "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789" ||
		!reflect.DeepEqual(p.Env, []string{"HOME", "TZ"}) {
		t.Errorf("plugin file = %+v", p)
	}
	if p, _ := c.Plugin("s3"); p.Path != "/opt/vire/vire-plugin-s3" {
		t.Errorf("absolute plugin path = %q", p.Path)
	}
	// The unused s3 plugin block draws a warning, not an error.
	if len(diags) != 1 || diags[0].Summary != "Unused plugin block" || position(diags[0]) != filepath.Join(dir, "vire.hcl")+":11:1" {
		t.Errorf("diagnostics:%s", describe(diags))
	}

	c, diags = LoadBytes("embedded.hcl", []byte(minimal+"locals {\n  here = path.config\n}\n"), LoadOptions{WorkDir: dir})
	if diags.HasErrors() || c.Dir != dir || c.PluginDir != filepath.Join(dir, "bin", "plugins") {
		t.Errorf("LoadBytes: Dir=%q PluginDir=%q%s", c.Dir, c.PluginDir, describe(diags))
	}
	if got := c.eval.locals["here"].AsString(); got != dir {
		t.Errorf("path.config = %q, want %q", got, dir)
	}
}

func TestServerAndAuthDefaults(t *testing.T) {
	c := mustLoad(t, minimal, LoadOptions{})
	if c.Server.Listen != DefaultListen || c.Server.LogLevel != "info" || c.Server.LogFormat != "text" ||
		c.Server.ShutdownTimeout != DefaultShutdownTimeout || c.Server.AllowRemoteWithoutAuth {
		t.Errorf("server defaults = %+v", c.Server)
	}
	if c.Auth.Mode != AuthNone || c.Auth.RateLimit != DefaultRateLimit || c.Auth.RateBurst != DefaultRateBurst {
		t.Errorf("auth defaults = %+v", c.Auth)
	}
	if c.Keys != nil || c.Cache != nil || len(c.Sources) != 0 {
		t.Errorf("optional blocks should be absent: %v", c)
	}

	c = mustLoad(t, minimal+`
server {
  listen                    = "[::]:9090"
  log_level                 = "debug"
  log_format                = "json"
  shutdown_timeout          = "1m30s"
  allow_remote_without_auth = true
}
`, LoadOptions{})
	if c.Server.Listen != "[::]:9090" || c.Server.LogLevel != "debug" || c.Server.LogFormat != "json" ||
		c.Server.ShutdownTimeout.Seconds() != 90 || !c.Server.AllowRemoteWithoutAuth {
		t.Errorf("server = %+v", c.Server)
	}
	if r := c.Server.Ranges["listen"]; r.Start.Line != 6 || r.Start.Column != 31 {
		t.Errorf("listen range = %v", r)
	}

	c = mustLoad(t, minimal+`
server {
  listen = "0.0.0.0:8080"
}
auth {
  mode       = "api_key"
  rate_limit = 0
  rate_burst = 5
}
`, LoadOptions{})
	if c.Auth.Mode != AuthAPIKey || c.Auth.RateLimit != 0 || c.Auth.RateBurst != 5 {
		t.Errorf("auth = %+v", c.Auth)
	}
}
