package config

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

// FuzzLoad loads arbitrary bytes as a configuration and decodes its plugin
// blocks against the bundled plugins' schemas: whatever the input, loading
// must not panic, every diagnostic must point into the file, and both
// renderings must succeed.
func FuzzLoad(f *testing.F) {
	opts := LoadOptions{LookupEnv: EnvironLookup([]string{"MASTER=" + canary, "VIRE_VAR_secret=" + canary, "HOME=/home/v"})}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, diags := LoadBytes("fuzz.hcl", src, opts)
		diags = append(diags, c.DecodeComponents(context.Background(), fixtureSchemas)...)
		for _, comp := range c.Components() {
			diags = append(diags, c.ConfigureDiagnostics(comp, sdk.ConfigErrors{
				{Attribute: "root", Message: "rejected"}, {Message: "block rejected"},
			})...)
			_ = comp.String()
			_ = comp.Redacted()
		}
		for _, d := range diags {
			if d == nil {
				t.Fatal("nil diagnostic")
			}
			if d.Subject != nil && (d.Subject.Filename != "fuzz.hcl" || d.Subject.Start.Line < 1 || d.Subject.Start.Column < 1) {
				t.Fatalf("diagnostic %q points at %s", d.Summary, where(*d.Subject))
			}
		}
		if err := WriteDiagnostics(io.Discard, c.Files, diags, true); err != nil {
			t.Fatal(err)
		}
		js, err := DiagnosticsJSON(diags)
		if err != nil || !json.Valid(js) {
			t.Fatalf("DiagnosticsJSON: %v", err)
		}
		if _, err := json.Marshal(c); err != nil {
			t.Fatal(err)
		}
		_ = fmt.Sprintf("%v %+v %#v", c, c, *c)
		_ = Format(src)
	})
}
