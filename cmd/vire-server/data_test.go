package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// storedHeaders reads the envelope header of every blob under prefix
// straight from the storage plugin, skipping keyrings.
func storedHeaders(t *testing.T, a *app.App, prefix string) map[string]crypt.Header {
	t.Helper()
	out := map[string]crypt.Header{}
	cursor := ""
	for {
		p, err := a.Storage.List(context.Background(), sdk.ListOptions{Prefix: prefix, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if strings.HasSuffix(it.Key, "_keyring") {
				continue
			}
			raw, _, err := a.Storage.Get(context.Background(), it.Key)
			if err != nil {
				t.Fatal(err)
			}
			h, err := crypt.ParseHeader(raw)
			if err != nil {
				t.Fatalf("%s: %v", it.Key, err)
			}
			out[it.Key] = h
		}
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}

// TestDataMovePersonalToHosted exports a personal store encrypted with one
// master key (env) and imports it into a tenant of a hosted store that uses
// another key provider (passphrase), then reads every document back.
func TestDataMovePersonalToHosted(t *testing.T) {
	dir := t.TempDir()
	master, pass, salt := newSecret(t, 32), "moving day passphrase "+newSecret(t, 6), newSecret(t, 16)
	w := &secretWatch{secrets: []string{master, pass}}
	personal := storeConfig{root: filepath.Join(dir, "personal"), keys: envKeys(), vars: map[string]string{"master_key": master}, plugins: []string{"file", "env"}}
	hosted := storeConfig{
		root: filepath.Join(dir, "hosted"), hosted: true, keys: passphraseKeys(),
		vars: map[string]string{"passphrase": pass, "salt": salt}, plugins: []string{"file", "passphrase"},
	}
	ppath := personal.write(t, dir, "personal.hcl")
	hpath := hosted.write(t, dir, "hosted.hcl")

	src := startApp(t, ppath, personal.vars)
	docs := putDocs(t, src, "personal", 12)
	odd := map[string]any{"name": "Zoë's SMSF", "units": 1.5e-7, "nested": map[string]any{"list": []any{1, "two", nil, true}}}
	data, _ := json.Marshal(odd)
	if _, err := src.Store.PutBytes(context.Background(), "personal", "portfolio", "Zoë — main", data, store.PutOpts{}); err != nil {
		t.Fatal(err)
	}
	docs["portfolio/Zoë — main"] = data
	// A document of bob's already in the hosted store must stay his.
	dst := startApp(t, hpath, hosted.vars)
	bobs := putDocs(t, dst, "bob", 2)
	dst.Close()

	export := filepath.Join(dir, "personal-export.jsonl")
	_, stderr := w.run(t, 0, append([]string{"data", "export", "-o", export}, personal.args(ppath)...)...)
	mustContain(t, "export", stderr, "plaintext", "exported 13 documents of tenant personal to "+export)
	fi, err := os.Stat(export)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("the export has mode %v, want 0600", fi.Mode().Perm())
	}
	raw, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"vire_export":1`)) || !bytes.Contains(raw, []byte("Zoë's SMSF")) || bytes.Contains(raw, []byte(crypt.Magic)) {
		t.Fatalf("the export is not a plaintext archive:\n%s", raw)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".personal-export.jsonl.tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left behind: %v", leftovers)
	}

	stdout, _ := w.run(t, 0, append([]string{"data", "import", "-tenant", "alice", "-i", export}, hosted.args(hpath)...)...)
	mustContain(t, "import", stdout, "imported 13 documents into tenant alice (sealed with its data key)")

	b := startApp(t, hpath, hosted.vars)
	checkDocs(t, b, "alice", docs)
	checkDocs(t, b, "bob", bobs)
	headers := storedHeaders(t, b, "users/alice/")
	if len(headers) != len(docs) {
		t.Fatalf("alice has %d blobs, want %d", len(headers), len(docs))
	}
	for key, h := range headers {
		if h.ProviderID != "passphrase" {
			t.Fatalf("%s is sealed under provider %q, want passphrase", key, h.ProviderID)
		}
	}
	// Nothing of the import landed outside alice's prefix.
	for key := range storedHeaders(t, b, "") {
		if !strings.HasPrefix(key, "users/alice/") && !strings.HasPrefix(key, "users/bob/") {
			t.Errorf("import wrote %s", key)
		}
	}

	// Round trip: alice's export from the hosted store holds the same
	// documents as the personal one.
	stdout, stderr = w.run(t, 0, append([]string{"data", "export", "-tenant", "alice"}, hosted.args(hpath)...)...)
	mustContain(t, "export to stdout", stderr, `tenant "alice" in plaintext`)
	if got := archiveDocs(t, stdout); !equalDocs(got, docs) {
		t.Fatalf("alice's export differs from the personal export:\n%s", stdout)
	}
	w.check(t)
}

// archiveDocs parses an archive into a docSet.
func archiveDocs(t *testing.T, archive string) docSet {
	t.Helper()
	out := docSet{}
	sc := bufio.NewScanner(strings.NewReader(archive))
	sc.Buffer(nil, 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		var d struct {
			Kind string          `json:"kind"`
			Name string          `json:"name"`
			Doc  json.RawMessage `json:"doc"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("archive line %q: %v", sc.Text(), err)
		}
		out[d.Kind+"/"+d.Name] = d.Doc
	}
	return out
}

func equalDocs(a, b docSet) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestDataErrors(t *testing.T) {
	dir := t.TempDir()
	master := newSecret(t, 32)
	c := storeConfig{root: filepath.Join(dir, "data"), hosted: true, keys: envKeys(), vars: map[string]string{"master_key": master}, plugins: []string{"file", "env"}}
	path := c.write(t, dir, "hosted.hcl")
	args := c.args(path)
	with := func(sub ...string) []string { return append(append([]string{}, sub...), args...) }

	_, stderr := cliRun(t, 1, with("data", "export")...)
	mustContain(t, "export without a tenant", stderr, "name the tenant with -tenant ID")
	if strings.Contains(stderr, "-all") {
		t.Errorf("data export suggests -all, which it does not take:\n%s", stderr)
	}

	// An existing file is kept unless -force; with -force it is replaced by
	// a private one even if the old one was world-readable.
	existing := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr = cliRun(t, 1, with("data", "export", "-tenant", "alice", "-o", existing)...)
	mustContain(t, "export over a file", stderr, "exists", "-force")
	if b, _ := os.ReadFile(existing); string(b) != "keep me" {
		t.Fatal("export overwrote an existing file without -force")
	}
	cliRun(t, 0, with("data", "export", "-tenant", "alice", "-o", existing, "-force")...)
	if fi, err := os.Stat(existing); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export -force left %v, %v; want mode 0600", fi.Mode(), err)
	}
	_, stderr = cliRun(t, 1, with("data", "export", "-tenant", "alice", "-o", filepath.Join(dir, "no", "such", "dir", "x.jsonl"))...)
	mustContain(t, "export into a missing directory", stderr, "no such file or directory")

	notArchive := filepath.Join(dir, "not-an-export.json")
	if err := os.WriteFile(notArchive, []byte(`{"hello":"world"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr = cliRun(t, 1, with("data", "import", "-tenant", "alice", "-i", notArchive)...)
	mustContain(t, "import of a foreign file", stderr, "not a Vire export")
	_, stderr = cliRun(t, 1, with("data", "import", "-tenant", "alice", "-i", filepath.Join(dir, "missing.jsonl"))...)
	mustContain(t, "import of a missing file", stderr, "missing.jsonl", "no such file")
	_, stderr = cliRun(t, 1, with("data", "import", "-tenant", "Alice!", "-i", notArchive)...)
	mustContain(t, "import into a bad tenant id", stderr, "invalid tenant id")
	_, stderr = cliRun(t, 2, "data")
	mustContain(t, "data without a command", stderr, "export", "import", "0600")
	_, stderr = cliRun(t, 2, "data", "copy")
	mustContain(t, "unknown data command", stderr, `unknown command "copy"`)
	_, stderr = cliRun(t, 2, with("data", "export", "-all")...)
	mustContain(t, "data export -all", stderr, "flag provided but not defined: -all")
}
