package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestExportImport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{cached: true})
		s.pageSize = 5
		putDocs(t, s, "alice", 12)
		if _, err := s.Put(ctx, "alice", "note", "unicode ✓ name", map[string]any{"text": "line\nbreak", "n": 1.5}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		putDocs(t, s, "bob", 2) // must not appear in alice's export
		var archive bytes.Buffer
		n, err := s.Export(ctx, "alice", &archive)
		if err != nil || n != 13 {
			t.Fatalf("Export = %d, %v", n, err)
		}
		lines := strings.Split(strings.TrimSpace(archive.String()), "\n")
		if len(lines) != 14 {
			t.Fatalf("archive has %d lines, want a header and 13 documents", len(lines))
		}
		var hdr archiveHeader
		if err := json.Unmarshal([]byte(lines[0]), &hdr); err != nil || hdr.Format != 1 || hdr.Tenant != "alice" {
			t.Fatalf("header %q: %v", lines[0], err)
		}

		// Into another tenant of the same encrypted store: re-sealed for carol.
		m, err := s.Import(ctx, "carol", bytes.NewReader(archive.Bytes()))
		if err != nil || m != 13 {
			t.Fatalf("Import = %d, %v", m, err)
		}
		for i := range 12 {
			kind := []string{"portfolio", "strategy", "plan"}[i%3]
			name := fmt.Sprintf("d%02d", i)
			var c counter
			if _, err := s.Get(ctx, "carol", kind, name, &c); err != nil || c.N != i {
				t.Fatalf("carol %s/%s = %+v, %v", kind, name, c, err)
			}
			if bytes.Equal(rawBlob(t, b, "users/carol/"+kind+"/"+name), rawBlob(t, b, "users/alice/"+kind+"/"+name)) {
				t.Fatal("import copied sealed bytes instead of re-sealing them")
			}
		}
		var note map[string]any
		if _, err := s.Get(ctx, "carol", "note", "unicode ✓ name", &note); err != nil || note["text"] != "line\nbreak" {
			t.Fatalf("note = %v, %v", note, err)
		}

		// Into a plain personal store, as a migration out of hosting would.
		personal := newInstance(t, be.open(t), "", instanceOpts{plain: true, layout: Layout{Personal: true}})
		if m, err := personal.Import(ctx, DefaultPersonalTenant, bytes.NewReader(archive.Bytes())); err != nil || m != 13 {
			t.Fatalf("Import into personal = %d, %v", m, err)
		}
		var back bytes.Buffer
		if n, err := personal.Export(ctx, DefaultPersonalTenant, &back); err != nil || n != 13 {
			t.Fatalf("re-export = %d, %v", n, err)
		}
		if got := strings.Split(strings.TrimSpace(back.String()), "\n"); len(got) != 14 {
			t.Fatalf("re-export has %d lines", len(got))
		}
	})
}

func TestImportRejectsBadArchives(t *testing.T) {
	ctx := context.Background()
	s := newInstance(t, newMemBlobStore(), newMasterKey(), instanceOpts{})
	header := `{"vire_export":1,"tenant":"x","created":"2026-01-01T00:00:00Z"}` + "\n"
	for name, archive := range map[string]string{
		"empty":          "",
		"not json":       "hello",
		"other format":   `{"vire_export":2}` + "\n",
		"no header":      `{"kind":"plan","name":"p","doc":{}}` + "\n",
		"bad name":       header + `{"kind":"plan","name":"../p","doc":{}}` + "\n",
		"reserved kind":  header + `{"kind":"market","name":"p","doc":{}}` + "\n",
		"no document":    header + `{"kind":"plan","name":"p"}` + "\n",
		"truncated line": header + `{"kind":"plan","name":"p","doc":{"a":` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Import(ctx, "alice", strings.NewReader(archive)); !errors.Is(err, sdk.ErrInvalidArgument) {
				t.Fatalf("err = %v, want ErrInvalidArgument", err)
			}
		})
	}
}
