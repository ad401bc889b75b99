package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/backends/gcs"
	"github.com/vire-dev/vire/backends/redis"
	"github.com/vire-dev/vire/backends/s3"
	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/plugins/keys/passphrase"
	"github.com/vire-dev/vire/plugins/keys/vault"
	"github.com/vire-dev/vire/plugins/sources/eodhd"
	"github.com/vire-dev/vire/plugins/sources/sample"
	"github.com/vire-dev/vire/sdk"
)

// bundledSchemas answers with the schemas the bundled plugins really
// declare, so an example configuration cannot drift from its plugins.
type bundledSchemas map[string]sdk.Plugin

func (b bundledSchemas) Schema(_ context.Context, _ sdk.ComponentKind, plugin string) (sdk.ConfigSchema, error) {
	p, ok := b[plugin]
	if !ok {
		return sdk.ConfigSchema{}, fmt.Errorf("no bundled plugin %q", plugin)
	}
	return p.Schema(), nil
}

func TestExampleConfigsMatchBundledPlugins(t *testing.T) {
	plugins := bundledSchemas{
		"file": file.New(nil), "s3": s3.New(nil), "gcs": gcs.New(nil), "redis": redis.New(nil),
		"env": env.New(nil), "passphrase": passphrase.New(nil), "vault": vault.New(nil),
		"eodhd": eodhd.New(nil), "sample": sample.New(nil),
	}
	paths, err := filepath.Glob("../../configs/*.hcl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example configurations: %v", err)
	}
	lookup := config.EnvironLookup([]string{
		"VIRE_MASTER_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "VIRE_PASSPHRASE=correct horse battery staple",
		"AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=example", "VIRE_S3_BUCKET=vire",
		"VIRE_REDIS_URL=redis://127.0.0.1:6379/0", "VAULT_TOKEN=example", "EODHD_API_KEY=example",
	})
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			cfg, diags := config.Load(p, config.LoadOptions{LookupEnv: lookup})
			if !diags.HasErrors() {
				diags = append(diags, cfg.DecodeComponents(context.Background(), plugins)...)
			}
			for _, d := range diags {
				t.Errorf("%s: %s: %s", d.Subject, d.Summary, d.Detail)
			}
		})
	}
}
