package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/vire-dev/vire/sdk"
)

// canary is a secret that must never be printed. Its upper-case and base64
// forms are searched for too, since expressions may transform it.
const canary = "Canary-Secret-7f3a9c"

func canaryForms() []string {
	return []string{canary, strings.ToUpper(canary), strings.ToLower(canary),
		base64.StdEncoding.EncodeToString([]byte(canary)), "7f3a9c"}
}

func assertNoCanary(t *testing.T, what, out string) {
	t.Helper()
	for _, f := range canaryForms() {
		if strings.Contains(out, f) {
			t.Errorf("%s reveals the secret (%q):\n%s", what, f, out)
		}
	}
}

// everyRendering renders the configuration and diagnostics every way the
// server might: text with and without colour, JSON, the error strings, and
// all fmt verbs and JSON encodings of the configuration and its components.
func everyRendering(t *testing.T, c *Config, diags hcl.Diagnostics) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, color := range []bool{false, true} {
		var b strings.Builder
		if err := WriteDiagnostics(&b, c.Files, diags, color); err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("text color=%v", color)] = b.String()
	}
	js, err := DiagnosticsJSON(diags)
	if err != nil {
		t.Fatal(err)
	}
	out["json"] = string(js)
	out["diags.Error()"] = diags.Error()
	for i, d := range diags {
		out[fmt.Sprintf("diag %d Error()", i)] = d.Error()
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		out["config "+verb] = fmt.Sprintf(verb, c)
		out["config value "+verb] = fmt.Sprintf(verb, *c)
		for _, comp := range c.Components() {
			out[comp.Address()+" "+verb] = fmt.Sprintf(verb, comp)
			out[comp.Address()+" value "+verb] = fmt.Sprintf(verb, *comp)
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out["config json"] = string(b)
	for _, comp := range c.Components() {
		b, err := json.Marshal(comp)
		if err != nil {
			t.Fatal(err)
		}
		out[comp.Address()+" json"] = string(b)
		out[comp.Address()+" redacted"] = fmt.Sprintf("%v", map[string]any(comp.Redacted()))
	}
	return out
}

func TestSensitiveValuesNeverShown(t *testing.T) {
	// Each way a secret reaches the configuration, with mistakes made
	// around it so that diagnostics are produced.
	sources := []struct {
		name string
		opts LoadOptions
		decl string
	}{
		{"-var", LoadOptions{Vars: map[string]string{"secret": canary}},
			"variable \"secret\" {\n  sensitive = true\n}\n"},
		{"VIRE_VAR_ environment", LoadOptions{LookupEnv: EnvironLookup([]string{"VIRE_VAR_SECRET=" + canary})},
			"variable \"secret\" {\n  sensitive = true\n}\n"},
		{"env() in the default", LoadOptions{LookupEnv: EnvironLookup([]string{"MASTER=" + canary})},
			"variable \"secret\" {\n  sensitive = true\n  default   = env(\"MASTER\")\n}\n"},
		{"literal default", LoadOptions{},
			"variable \"secret\" {\n  sensitive = true\n  default   = \"" + canary + "\"\n}\n"},
		{"sensitive() of a file-free literal", LoadOptions{},
			"locals {\n  wrapped = sensitive(\"" + canary + "\")\n}\nvariable \"secret\" {\n  default = \"unused-value\"\n}\n"},
	}
	// Mistakes whose diagnostics involve the secret. %s is the reference
	// to the secret.
	mistakes := []struct {
		name string
		src  string
	}{
		{"function error on the secret", "locals {\n  bad = jsondecode(%s)\n}\n"},
		{"conversion error on the secret", "locals {\n  n = tonumber(%s)\n}\n"},
		{"base64 error on the secret", "locals {\n  b = base64decode(%s)\n}\n"},
		{"wrong type for a sensitive attribute", "keys \"env\" {\n  master_key   = \"mk\"\n  retired_keys = %s\n}\n"},
		{"secret used as a map key", "locals {\n  m = { a = 1 }\n  v = local.m[%s]\n}\n"},
		{"secret in a for expression key", "locals {\n  d = { for k in [%[1]s, %[1]s] : k => 1 }\n}\n"},
		{"secret in a template then a number", "locals {\n  n = tonumber(\"x${%s}\")\n}\n"},
		{"secret as a condition", "locals {\n  c = %s ? 1 : 2\n}\n"},
		{"secret in a non-sensitive attribute", "source \"eodhd\" \"m\" {\n  api_key  = \"k\"\n  base_url = upper(%s)\n}\n"},
		{"secret as a listen address", "server {\n  listen = %s\n}\n"},
		{"secret as a duration", "server {\n  shutdown_timeout = %s\n}\n"},
		{"secret as a sha256 pin", "plugin \"file\" {\n  sha256 = %s\n}\n"},
		{"secret in an env allow-list", "plugin \"file\" {\n  env = [%s]\n}\n"},
	}
	for _, s := range sources {
		ref := "var.secret"
		if strings.Contains(s.decl, "wrapped") {
			ref = "local.wrapped"
		}
		for _, m := range mistakes {
			t.Run(s.name+"/"+m.name, func(t *testing.T) {
				src := s.decl + minimal + fmt.Sprintf(m.src, ref)
				c, diags := loadAndDecode(t, "vire.hcl", src, s.opts)
				if len(diags) == 0 && m.name != "secret in a non-sensitive attribute" {
					t.Fatalf("expected diagnostics")
				}
				for what, out := range everyRendering(t, c, diags) {
					assertNoCanary(t, what, out)
				}
			})
		}
	}
}

func TestSensitivePluginAttributes(t *testing.T) {
	src := minimal + `keys "env" {
  master_key   = "` + canary + `"
  retired_keys = ["old-` + canary + `"]
}
source "eodhd" "market" {
  api_key = "` + canary + `"
}
`
	c, diags := loadAndDecode(t, "vire.hcl", src, LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load failed:%s", describe(diags))
	}
	// The plugin does receive the secret.
	if c.Keys.Value.String("master_key") != canary || c.Sources[0].Value.String("api_key") != canary {
		t.Fatal("the decoded values lost the secret")
	}
	// A plugin that quotes the secret in its complaint, a plain error that
	// does, and a complaint about an attribute whose source is a literal
	// secret: none may show it.
	diags = append(diags, c.ConfigureDiagnostics(c.Keys, sdk.ConfigErrors{
		{Attribute: "master_key", Message: "key " + canary + " is not 32 bytes"},
		{Attribute: "retired_keys", Message: "old-" + canary + " is not base64"},
	})...)
	diags = append(diags, c.ConfigureDiagnostics(c.Sources[0], errors.New("upstream refused key "+canary))...)
	if len(errorsOf(diags)) != 3 {
		t.Fatalf("want 3 errors:%s", describe(diags))
	}
	for what, out := range everyRendering(t, c, diags) {
		assertNoCanary(t, what, out)
	}
	// The positions are still given.
	var text strings.Builder
	if err := WriteDiagnostics(&text, c.Files, diags, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"on vire.hcl:5:18, in keys \"env\":\n  (source not shown: it holds a sensitive value)",
		"on vire.hcl:6:18, in keys \"env\":",
		`rejected the attribute "master_key": key (sensitive) is not 32 bytes.`,
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}
	js, _ := DiagnosticsJSON(diags)
	var parsed struct {
		Diagnostics []struct {
			Range   *struct{ Filename string } `json:"range"`
			Snippet *struct{}                  `json:"snippet"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal(js, &parsed); err != nil {
		t.Fatal(err)
	}
	for i, d := range parsed.Diagnostics {
		if d.Range == nil {
			t.Errorf("diagnostic %d lost its range", i)
		}
		if i < 2 && d.Snippet != nil {
			t.Errorf("diagnostic %d about a literal secret has a snippet", i)
		}
	}
}

func TestReferenceToSecretKeepsSnippet(t *testing.T) {
	// A bare reference is safe to show: only values are secret.
	src := "variable \"k\" {\n  sensitive = true\n}\n" + minimal + "keys \"env\" {\n  master_key   = \"mk\"\n  retired_keys = var.k\n}\n"
	c, diags := loadAndDecode(t, "vire.hcl", src, LoadOptions{Vars: map[string]string{"k": canary}})
	var text strings.Builder
	if err := WriteDiagnostics(&text, c.Files, diags, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "retired_keys = var.k") {
		t.Errorf("snippet missing:\n%s", text.String())
	}
	assertNoCanary(t, "text", text.String())
}

func TestDerivedSecretsAreRedacted(t *testing.T) {
	src := "variable \"k\" {\n  sensitive = true\n}\n" + minimal +
		"source \"eodhd\" \"m\" {\n  api_key  = \"plain-key\"\n  base_url = \"https://${lower(var.k)}.example\"\n}\n"
	c := mustLoad(t, src, LoadOptions{Vars: map[string]string{"k": canary}})
	comp := c.Sources[0]
	if !comp.IsSensitive("base_url") || !comp.IsSensitive("api_key") || comp.IsSensitive("headers") {
		t.Errorf("sensitivity: base_url=%v api_key=%v headers=%v",
			comp.IsSensitive("base_url"), comp.IsSensitive("api_key"), comp.IsSensitive("headers"))
	}
	if got := comp.Value.String("base_url"); got != "https://"+strings.ToLower(canary)+".example" {
		t.Errorf("base_url = %q", got)
	}
	if got := comp.Redacted()["base_url"]; got != redactedText {
		t.Errorf("redacted base_url = %v", got)
	}
	assertNoCanary(t, "component", comp.String())
}
