package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

func TestAuthAndScopes(t *testing.T) {
	s := newTestServer(t)
	s.must(t, 201, http.MethodPut, base+"/strategy", `{"notes":"mine"}`)
	for _, c := range []struct {
		who, method, path, body string
		status                  int
		code                    string
	}{
		{"", "GET", base + "/strategy", "", 401, "unauthenticated"},
		{"", "PUT", base + "/strategy", `{}`, 401, "unauthenticated"},
		{"", "GET", base + "/plan/history", "", 401, "unauthenticated"},
		{"alice-ro", "GET", base + "/strategy", "", 200, ""},
		{"alice-ro", "GET", base + "/strategy/history", "", 200, ""},
		{"alice-ro", "PUT", base + "/strategy", `{"notes":"x"}`, 403, "insufficient_scope"},
		{"alice-ro", "DELETE", base + "/strategy", "", 403, "insufficient_scope"},
		{"alice-ro", "POST", base + "/strategy/restore", `{"version":1}`, 403, "insufficient_scope"},
		{"alice-ro", "POST", base + "/plan/items", `{}`, 403, "insufficient_scope"},
		{"alice-ro", "PUT", base + "/watchlist/items/BHP.AU", `{}`, 403, "insufficient_scope"},
		// Another tenant sees nothing of alice's, and writes its own.
		{"bob", "GET", base + "/strategy", "", 404, "not_found"},
		{"bob", "GET", base + "/strategy/history", "", 404, "not_found"},
		{"bob", "PUT", base + "/strategy", `{"notes":"bob's"}`, 201, ""},
	} {
		r := s.do(t, c.who, c.method, c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s %s as %q: %d, want %d: %s", c.method, c.path, c.who, r.status, c.status, r.body)
			continue
		}
		if c.code != "" && r.errorBody(t).Code != c.code {
			t.Errorf("%s %s as %q: %s, want code %s", c.method, c.path, c.who, r.body, c.code)
		}
	}
	var st documents.StrategyDoc
	s.must(t, 200, "GET", base+"/strategy", "").decode(t, &st)
	if st.Strategy.Notes != "mine" || st.Version != 1 {
		t.Fatalf("alice's strategy after the others: %+v", st)
	}
}

// TestNoPlaintextOnDisk writes every kind of document (and history) with a
// canary string and scans every file under the data directory for it.
func TestNoPlaintextOnDisk(t *testing.T) {
	s := newTestServer(t)
	const canary = "CANARY-7f3e9a1c"
	writes := []struct{ method, path, body string }{
		{"PUT", base + "/strategy", `{"notes":"` + canary + `","allowed_sectors":["` + canary + `"],"target_allocation":{"` + canary + `":10}}`},
		{"PUT", base + "/strategy", `{"notes":"second ` + canary + `"}`},
		{"POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","trigger":"` + canary + `","notes":"` + canary + `"}`},
		{"POST", base + "/plan/items", `{"action":"sell","ticker":"RIO.AU","target_price":1,"notes":"` + canary + `"}`},
		{"PUT", base + "/watchlist/items/CBA.AU", `{"notes":"` + canary + `"}`},
		{"PUT", base + "/watchlist/items/CBA.AU", `{"notes":"again ` + canary + `"}`},
		{"DELETE", base + "/watchlist", ""},
		{"POST", base + "/watchlist/restore", `{"version":2}`},
	}
	for _, w := range writes {
		if r := s.do(t, "alice", w.method, w.path, w.body); r.status >= 300 {
			t.Fatalf("%s %s: %d %s", w.method, w.path, r.status, r.body)
		}
	}
	// The documents read back, so the canary went in.
	if r := s.must(t, 200, "GET", base+"/watchlist", ""); !strings.Contains(string(r.body), canary) {
		t.Fatalf("the watchlist lost its notes: %s", r.body)
	}
	files := 0
	err := filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(data), canary) || strings.Contains(path, canary) {
			t.Errorf("%s holds the canary in plaintext", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Three records, snapshots, a keyring and the backend's own files.
	if files < 8 {
		t.Fatalf("only %d files under the data directory: the scan looked in the wrong place", files)
	}
}

func TestWithoutStoreUnavailable(t *testing.T) {
	s := &testServer{}
	s.start(t, Options{}, AccessOptions{Personal: true})
	r := s.do(t, "", "GET", base+"/strategy", "")
	if r.status != http.StatusServiceUnavailable || r.errorBody(t).Code != "unavailable" {
		t.Fatalf("no store: %d %s", r.status, r.body)
	}
}

// TestFailsClosedWithoutProtect: served without the access layer, the
// handlers find no principal and refuse.
func TestFailsClosedWithoutProtect(t *testing.T) {
	s := &testServer{}
	s.start(t, Options{Documents: documents.New(encryptedStore(t, t.TempDir()), documents.Options{})}, AccessOptions{})
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		r := s.do(t, "", m, base+"/strategy", "")
		if r.status != http.StatusUnauthorized || r.errorBody(t).Code != "unauthenticated" {
			t.Fatalf("%s without a principal: %d %s", m, r.status, r.body)
		}
	}
}

// TestPortfoliosInPersonalMode: the access layer's personal mode gives the one implicit
// tenant, and the personal store layout keeps readable paths.
func TestPortfoliosInPersonalMode(t *testing.T) {
	dir := t.TempDir()
	b := file.New(nil)
	if err := sdk.Configure(context.Background(), b, sdk.ConfigValue{"root": dir, "fsync": false}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	st, err := store.New(store.Options{Backend: b, Layout: store.Layout{Personal: true}})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{}
	s.start(t, Options{Documents: documents.New(st, documents.Options{})}, AccessOptions{Personal: true})
	if r := s.do(t, "", "PUT", base+"/strategy", `{"notes":"mine"}`); r.status != 201 {
		t.Fatalf("personal PUT: %d %s", r.status, r.body)
	}
	if r := s.do(t, "", "PUT", base+"/strategy", `{"notes":"still mine"}`); r.status != 200 {
		t.Fatalf("personal PUT: %d %s", r.status, r.body)
	}
	for _, p := range []string{"strategy/smsf.vire", "strategy-versions/smsf@1.vire"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("personal layout: %v", err)
		}
	}
}
