package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/vire-dev/vire/configs"
)

func TestDiagnosticsJSONShape(t *testing.T) {
	src := minimal + "server {\n  listen = \"nowhere\"\n}\nplugin \"s3\" {\n}\n"
	_, diags := loadAndDecode(t, "vire.hcl", src, LoadOptions{})
	js, err := DiagnosticsJSON(diags)
	if err != nil {
		t.Fatal(err)
	}
	type position struct{ Line, Column, Byte int }
	var got struct {
		FormatVersion string `json:"format_version"`
		Valid         *bool  `json:"valid"`
		ErrorCount    int    `json:"error_count"`
		WarningCount  int    `json:"warning_count"`
		Diagnostics   []struct {
			Severity, Summary, Detail string
			Range                     struct {
				Filename   string
				Start, End position
			}
			Snippet struct {
				Context              string
				Code                 string
				StartLine            int `json:"start_line"`
				HighlightStartOffset int `json:"highlight_start_offset"`
				HighlightEndOffset   int `json:"highlight_end_offset"`
				Values               []any
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if got.FormatVersion != "1.0" || got.Valid == nil || *got.Valid || got.ErrorCount != 1 || got.WarningCount != 1 || len(got.Diagnostics) != 2 {
		t.Fatalf("header wrong:\n%s", js)
	}
	e := got.Diagnostics[0]
	if e.Severity != "error" || e.Summary != "Invalid listen address" || e.Range.Filename != "vire.hcl" ||
		e.Range.Start != (position{5, 12, 57}) || e.Range.End != (position{5, 21, 66}) {
		t.Errorf("error diagnostic = %+v", e)
	}
	sn := e.Snippet
	if sn.Context != "server" || sn.Code != `  listen = "nowhere"` || sn.StartLine != 5 || sn.Values == nil {
		t.Errorf("snippet = %+v", sn)
	}
	if h := sn.Code[sn.HighlightStartOffset:sn.HighlightEndOffset]; h != `"nowhere"` {
		t.Errorf("highlight = %q", h)
	}
	if w := got.Diagnostics[1]; w.Severity != "warning" || w.Summary != "Unused plugin block" {
		t.Errorf("warning = %+v", w)
	}

	// A valid configuration: valid true, no diagnostics, an empty list.
	js, err = DiagnosticsJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var empty map[string]any
	if err := json.Unmarshal(js, &empty); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"format_version": "1.0", "valid": true, "error_count": 0.0, "warning_count": 0.0, "diagnostics": []any{}}
	if !reflect.DeepEqual(empty, want) {
		t.Errorf("empty = %v", empty)
	}
}

func TestDiagnosticsWithoutRange(t *testing.T) {
	c, diags := loadAndDecode(t, "vire.hcl", minimal, LoadOptions{Vars: map[string]string{"x": "1"}})
	js, err := DiagnosticsJSON(diags)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), `"range"`) || strings.Contains(string(js), `"snippet"`) {
		t.Errorf("a diagnostic without a subject has a range:\n%s", js)
	}
	var b strings.Builder
	if err := WriteDiagnostics(&b, c.Files, diags, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "Error: Value for undeclared variable\n\n") {
		t.Errorf("text = %q", b.String())
	}
}

func TestWriteDiagnosticsColor(t *testing.T) {
	c, diags := loadAndDecode(t, "vire.hcl", minimal+"bogus {}\n", LoadOptions{})
	var b strings.Builder
	if err := WriteDiagnostics(&b, c.Files, diags, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\x1b[31mError\x1b[0m: Unsupported block type") || !strings.Contains(b.String(), "on vire.hcl:4:1") {
		t.Errorf("text = %q", b.String())
	}
	// Without the files the position is still named.
	b.Reset()
	if err := WriteDiagnostics(&b, nil, diags, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "on vire.hcl:4:1") || !strings.Contains(b.String(), "4: bogus {}") {
		t.Errorf("text without files = %q", b.String())
	}
}

func TestFormat(t *testing.T) {
	in := "storage \"file\" {\nroot=\"./data\"\n    versions   =  3\n}\nserver{\nlisten=\"127.0.0.1:8080\"\n}\n"
	want := "storage \"file\" {\n  root     = \"./data\"\n  versions = 3\n}\nserver {\n  listen = \"127.0.0.1:8080\"\n}\n"
	if got := string(Format([]byte(in))); got != want {
		t.Errorf("Format =\n%s\nwant\n%s", got, want)
	}
	if got := string(Format([]byte(want))); got != want {
		t.Errorf("Format is not idempotent:\n%s", got)
	}
	out, diags := FormatFile("x.hcl", []byte(in))
	if diags.HasErrors() || string(out) != want {
		t.Errorf("FormatFile = %q%s", out, describe(diags))
	}
	out, diags = FormatFile("x.hcl", []byte("server {\n"))
	if out != nil || !diags.HasErrors() || position(diags[0]) != "x.hcl:1:8" {
		t.Errorf("FormatFile of a broken file = %q%s", out, describe(diags))
	}
}

// envForExamples holds every environment variable the examples read.
var envForExamples = EnvironLookup([]string{
	"VIRE_MASTER_KEY=" + canary, "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=" + canary,
	"VIRE_S3_BUCKET=vire", "VIRE_S3_ENDPOINT=", "VIRE_REDIS_URL=redis://127.0.0.1:6379/0",
	"VAULT_TOKEN=" + canary, "EODHD_API_KEY=" + canary,
})

func TestExampleConfigs(t *testing.T) {
	paths, err := filepath.Glob("../../configs/*.hcl")
	if err != nil || len(paths) < 5 {
		t.Fatalf("examples: %v %v", paths, err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := Format(src); !bytes.Equal(got, src) {
				t.Errorf("not formatted; vire-server fmt would write:\n%s", got)
			}
			c, diags := Load(p, LoadOptions{LookupEnv: envForExamples})
			diags = append(diags, c.DecodeComponents(t.Context(), fixtureSchemas)...)
			if len(diags) > 0 {
				t.Fatalf("diagnostics:%s", describe(diags))
			}
			if c.Storage == nil || c.Storage.Value == nil {
				t.Fatal("no decoded storage")
			}
			for what, out := range everyRendering(t, c, diags) {
				assertNoCanary(t, what, out)
			}
		})
	}
}

func TestEmbeddedDefault(t *testing.T) {
	work := t.TempDir()
	c, diags := LoadBytes(configs.PersonalName, configs.Personal(),
		LoadOptions{WorkDir: work, LookupEnv: EnvironLookup([]string{"VIRE_MASTER_KEY=" + canary})})
	diags = append(diags, c.DecodeComponents(t.Context(), fixtureSchemas)...)
	if len(diags) > 0 {
		t.Fatalf("diagnostics:%s", describe(diags))
	}
	if c.Server.Listen != "127.0.0.1:8080" || c.Auth.Mode != AuthNone || c.Dir != work ||
		c.PluginDir != filepath.Join(work, "bin", "plugins") {
		t.Errorf("config = %v", c)
	}
	if got := c.Storage.Value; got.String("root") != filepath.Join(work, "data") || got.Number("versions") != 5 || !got.Bool("fsync") {
		t.Errorf("storage = %v", c.Storage)
	}
	if c.Keys == nil || c.Keys.Value.String("master_key") != canary {
		t.Error("keys block did not receive the master key")
	}
	// Without VIRE_MASTER_KEY the key is empty: the env plugin refuses it
	// when configured, and says which attribute.
	c, diags = LoadBytes(configs.PersonalName, configs.Personal(), LoadOptions{WorkDir: work})
	diags = append(diags, c.DecodeComponents(t.Context(), fixtureSchemas)...)
	if len(diags) > 0 || c.Keys.Value.String("master_key") != "" {
		t.Errorf("unset key: %q%s", c.Keys.Value.String("master_key"), describe(diags))
	}
}

func TestDirectoryConfig(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"10-vars.hcl":    "variable \"root\" {\n  default = \"store\"\n}\nlocals {\n  suffix = \"-a\"\n}\n",
		"20-storage.hcl": "storage \"file\" {\n  root = \"${var.root}${local.suffix}${local.more}\"\n}\n",
		"30-more.hcl":    "locals {\n  more = \"-b\"\n}\nsource \"eodhd\" \"one\" {\n  api_key = \"k\"\n}\n",
		"40-more.hcl":    "source \"eodhd\" \"two\" {\n  api_key = \"k\"\n}\nserver {\n  log_level = \"warn\"\n}\n",
		"notes.txt":      "not configuration",
		".hidden.hcl":    "bogus {}",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.hcl"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, diags := Load(dir, LoadOptions{})
	diags = append(diags, c.DecodeComponents(t.Context(), fixtureSchemas)...)
	if len(diags) > 0 {
		t.Fatalf("diagnostics:%s", describe(diags))
	}
	if got := c.Storage.Value.String("root"); got != "store-a-b" {
		t.Errorf("root = %q", got)
	}
	if len(c.Sources) != 2 || c.Sources[0].Name != "one" || c.Sources[1].Name != "two" || c.Server.LogLevel != "warn" {
		t.Errorf("config = %v", c)
	}
	if len(c.Files) != 4 {
		t.Errorf("files = %d, want 4", len(c.Files))
	}
	for name := range c.Files {
		if filepath.Dir(name) != dir {
			t.Errorf("file name %q", name)
		}
	}
	if c.Dir != dir {
		t.Errorf("Dir = %q", c.Dir)
	}
	if r := c.Sources[1].DeclRange; r.Filename != filepath.Join(dir, "40-more.hcl") || r.Start.Line != 1 {
		t.Errorf("range = %v", r)
	}
}

func TestDecodeComponentsTwice(t *testing.T) {
	// validate decodes, then run decodes again after a restart: the second
	// pass starts clean.
	c, diags := loadAndDecode(t, "vire.hcl", minimal, LoadOptions{})
	more := c.DecodeComponents(t.Context(), fixtureSchemas)
	if len(diags)+len(more) > 0 || c.Storage.Value.String("root") != "./data" {
		t.Errorf("second decode:%s", describe(append(diags, more...)))
	}
	if got := c.Storage.AttrRange("root"); got.Start.Line != 2 {
		t.Errorf("AttrRange = %v", got)
	}
	if got := c.Storage.AttrRange("versions"); got != c.Storage.DeclRange {
		t.Errorf("AttrRange of an unset attribute = %v", got)
	}
	var _ hcl.Diagnostics = more
}
