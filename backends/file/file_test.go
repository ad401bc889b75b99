package file

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

func TestLayoutIsReadable(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root})
	m, err := s.Put(t.Context(), "users/alice/strategy/main", []byte(`{"goal":"income"}`), sdk.PutOptions{ContentType: "application/json"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "users", "alice", "strategy", "main.vire"))
	if err != nil {
		t.Fatalf("blob is not where the layout says: %v", err)
	}
	line, data, _ := bytes.Cut(raw, []byte("\n"))
	if want := `#vire-blob/1 {"etag":"` + m.ETag + `","content_type":"application/json"}`; string(line) != want {
		t.Errorf("header line %q, want %q", line, want)
	}
	if string(data) != `{"goal":"income"}` {
		t.Errorf("data after the header: %q", data)
	}
}

func TestVersionsRetainedAndPruned(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "versions": 3, "fsync": false})
	var ids []string
	for i := 1; i <= 6; i++ {
		m, err := s.Put(ctx, "doc", []byte{'v', byte('0' + i)}, sdk.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ETag)
	}
	wantVersions(t, s, "doc", []string{"v6", "v5", "v4", "v3"})
	if n := countFiles(t, filepath.Join(root, versionsDir, "doc.vire")); n != 3 {
		t.Errorf("%d version files on disk, want 3", n)
	}
	if _, _, err := s.GetVersion(ctx, "doc", ids[1]); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("GetVersion of a pruned version = %v, want ErrNotFound", err)
	}
	data, m, err := s.GetVersion(ctx, "doc", ids[3])
	if err != nil || string(data) != "v4" || m.ETag != ids[3] {
		t.Errorf("GetVersion(v4) = %q %+v %v", data, m, err)
	}

	// A delete keeps the deleted blob as the newest version.
	if err := s.Delete(ctx, "doc", sdk.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wantVersions(t, s, "doc", []string{"v6", "v5", "v4"})
	if data, _, err := s.GetVersion(ctx, "doc", ids[5]); err != nil || string(data) != "v6" {
		t.Errorf("GetVersion of the deleted blob = %q, %v", data, err)
	}
	if _, err := s.Put(ctx, "doc", []byte("v7"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	wantVersions(t, s, "doc", []string{"v7", "v6", "v5", "v4"})

	// Lowering the setting prunes on the next write.
	s2 := openStore(t, sdk.ConfigValue{"root": root, "versions": 1, "fsync": false})
	if _, err := s2.Put(ctx, "doc", []byte("v8"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	wantVersions(t, s2, "doc", []string{"v8", "v7"})
	s0 := openStore(t, sdk.ConfigValue{"root": root, "versions": 0, "fsync": false})
	if _, err := s0.Put(ctx, "doc", []byte("v9"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	wantVersions(t, s0, "doc", []string{"v9"})
	if _, err := os.Stat(filepath.Join(root, versionsDir, "doc.vire")); !os.IsNotExist(err) {
		t.Errorf("versions = 0 left the version directory behind: %v", err)
	}
	if s0.Capabilities().Versions {
		t.Error("a store keeping no versions declares Capabilities.Versions")
	}
	if _, err := s0.Versions(ctx, "never-written"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Versions of an unknown key = %v", err)
	}
}

func wantVersions(t *testing.T, s *Store, key string, want []string) {
	t.Helper()
	vs, err := s.Versions(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		data, _, err := s.GetVersion(t.Context(), key, v.ID)
		if err != nil {
			t.Fatalf("GetVersion %s: %v", v.ID, err)
		}
		got = append(got, string(data))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("versions of %q = %q, want %q", key, got, want)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestSymlinksCannotEscape plants symbolic links in the root, as someone
// with access to the directory might, and checks that no operation reads or
// writes outside it.
func TestSymlinksCannotEscape(t *testing.T) {
	ctx := t.Context()
	cases := []struct {
		name  string
		plant func(root, outside string) error
		key   string
	}{
		{"absolute directory link", func(root, outside string) error {
			return os.Symlink(outside, filepath.Join(root, "users"))
		}, "users/secret"},
		{"relative directory link", func(root, outside string) error {
			rel, _ := filepath.Rel(root, outside)
			return os.Symlink(rel, filepath.Join(root, "users"))
		}, "users/secret"},
		{"nested relative link", func(root, outside string) error {
			if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o700); err != nil {
				return err
			}
			return os.Symlink("../../../"+filepath.Base(outside), filepath.Join(root, "a", "b", "c"))
		}, "a/b/c/secret"},
		{"blob file link", func(root, outside string) error {
			return os.Symlink(filepath.Join(outside, "secret.vire"), filepath.Join(root, "secret.vire"))
		}, "secret"},
		{"versions link", func(root, outside string) error {
			if err := os.RemoveAll(filepath.Join(root, versionsDir)); err != nil {
				return err
			}
			return os.Symlink(outside, filepath.Join(root, versionsDir))
		}, "secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
			if err := os.MkdirAll(outside, 0o700); err != nil {
				t.Fatal(err)
			}
			s := openStore(t, sdk.ConfigValue{"root": root, "versions": 2, "fsync": false})
			// A blob outside the root that a followed link would expose.
			secret := encodeHeader(header{ETag: strings.Repeat("a", 24)})
			secret = append(secret, "outside data"...)
			for _, p := range []string{"secret.vire", "secret"} {
				if err := os.WriteFile(filepath.Join(outside, p), secret, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := tc.plant(root, outside); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, outside)

			if data, _, err := s.Get(ctx, tc.key); err == nil && bytes.Contains(data, []byte("outside")) {
				t.Errorf("Get %q read %q from outside the root", tc.key, data)
			}
			if page, err := s.List(ctx, sdk.ListOptions{}); err == nil {
				for _, it := range page.Items {
					t.Errorf("List shows %q through a link", it.Key)
				}
			}
			_, _ = s.Put(ctx, tc.key, []byte("inside data"), sdk.PutOptions{})
			_, _ = s.Put(ctx, tc.key, []byte("inside data 2"), sdk.PutOptions{})
			_ = s.Delete(ctx, tc.key, sdk.DeleteOptions{})
			if after := snapshot(t, outside); after != before {
				t.Errorf("the directory outside the root changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// snapshot describes every file under dir.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p)
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.WriteString("=" + string(data))
		}
		b.WriteString(";")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestForeignFilesIgnored(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	for _, p := range []string{"README.txt", "users/x", "%61.vire", "users/.hidden.vire", "%2e%2e.vire", "%=zz.vire", "%=61%+/b.vire", "b/%=61.vire"} {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, encodeHeader(header{ETag: strings.Repeat("b", 24)}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Put(t.Context(), "users/real", []byte("x"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(t.Context(), sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Key != "users/real" {
		t.Errorf("List = %+v, want only users/real", page.Items)
	}
	if _, _, err := s.Get(t.Context(), "README.txt"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get of a foreign file's name = %v", err)
	}
}

func TestCorruptBlob(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	if err := os.WriteFile(filepath.Join(root, "broken.vire"), []byte("no header here"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, "broken"); err == nil || errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get of a damaged blob = %v, want a damage error", err)
	}
	if _, err := s.Put(ctx, "broken", []byte("x"), sdk.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Errorf("IfNoneMatch over a damaged blob = %v", err)
	}
	if _, err := s.Put(ctx, "broken", []byte("fixed"), sdk.PutOptions{}); err != nil {
		t.Fatalf("overwriting a damaged blob: %v", err)
	}
	if data, _, err := s.Get(ctx, "broken"); err != nil || string(data) != "fixed" {
		t.Errorf("Get after repair = %q, %v", data, err)
	}
}

func TestStaleTempFilesSwept(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	if _, err := s.Put(t.Context(), "d/k", []byte("x"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(root, "d", tempPrefix+"old"), filepath.Join(root, "d", tempPrefix+"new")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(t.Context(), sdk.ListOptions{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("List = %+v, %v", page.Items, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file survived a listing: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file (a write in progress) was removed: %v", err)
	}
}

func TestEmptyDirectoriesRemoved(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "versions": 0, "fsync": false})
	ctx := t.Context()
	for _, k := range []string{"users/bob/plan/a", "users/bob/plan/b", "users/carol/x"} {
		if _, err := s.Put(ctx, k, []byte("x"), sdk.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"users/bob/plan/a", "users/bob/plan/b"} {
		if err := s.Delete(ctx, k, sdk.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "users", "bob")); !os.IsNotExist(err) {
		t.Errorf("deleting bob's last blob left his directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "users", "carol", "x.vire")); err != nil {
		t.Errorf("carol's blob: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	newer := t.TempDir()
	if err := os.MkdirAll(filepath.Join(newer, metaDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newer, formatFile), []byte(`{"format":2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  sdk.ConfigValue
		attr string
		msg  string
	}{
		{"missing root", sdk.ConfigValue{}, "root", "must be set"},
		{"relative root", sdk.ConfigValue{"root": "data/vire"}, "root", "absolute"},
		{"root is a file", sdk.ConfigValue{"root": file}, "root", "cannot"},
		{"newer layout", sdk.ConfigValue{"root": newer}, "root", "format 2"},
		{"negative versions", sdk.ConfigValue{"root": t.TempDir(), "versions": -1.0}, "versions", "whole number"},
		{"fractional versions", sdk.ConfigValue{"root": t.TempDir(), "versions": 1.5}, "versions", "whole number"},
		{"too many versions", sdk.ConfigValue{"root": t.TempDir(), "versions": 1001.0}, "versions", "whole number"},
		{"versions as text", sdk.ConfigValue{"root": t.TempDir(), "versions": "5"}, "versions", "whole number"},
		{"fsync as text", sdk.ConfigValue{"root": t.TempDir(), "fsync": "yes"}, "fsync", "true or false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := New(nil)
			err := s.Configure(t.Context(), tc.cfg)
			var ce sdk.ConfigErrors
			if !errors.As(err, &ce) {
				t.Fatalf("Configure = %v, want ConfigErrors", err)
			}
			if len(ce) != 1 || ce[0].Attribute != tc.attr || !strings.Contains(ce[0].Message, tc.msg) {
				t.Errorf("Configure = %v, want %s: …%s…", ce, tc.attr, tc.msg)
			}
			if _, err := s.Put(t.Context(), "k", nil, sdk.PutOptions{}); !errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("Put on an unconfigured store = %v", err)
			}
		})
	}
}

func TestArgumentLimits(t *testing.T) {
	s := openStore(t, sdk.ConfigValue{"fsync": false})
	ctx := t.Context()
	if _, err := s.Put(ctx, strings.Repeat("k", sdk.MaxKeyLength+1), nil, sdk.PutOptions{}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("Put of an over-long key = %v", err)
	}
	for _, ct := range []string{strings.Repeat("x", maxContentType+1), "bad \xff utf-8"} {
		if _, err := s.Put(ctx, "k", nil, sdk.PutOptions{ContentType: ct}); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("Put with content type %.20q = %v", ct, err)
		}
	}
	ct := strings.Repeat("\x01", maxContentType) // JSON escapes each byte to six
	if _, err := s.Put(ctx, "k", []byte("data"), sdk.PutOptions{ContentType: ct}); err != nil {
		t.Fatal(err)
	}
	if data, m, err := s.Get(ctx, "k"); err != nil || m.ContentType != ct || string(data) != "data" {
		t.Errorf("round trip of the largest content type: %q, %v", data, err)
	}
}
