package file

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestNamesReadable(t *testing.T) {
	cases := []struct {
		key, path, folded string
	}{
		{"users/alice/strategy/main", "users/alice/strategy/main.vire", ""},
		{"market/eod/BHP.AU", "market/eod/BHP.AU.vire", "market/eod/%42%48%50.%41%55.vire"},
		{"a", "a.vire", ""},
		{"a/", "a/%_.vire", ""},
		{"/a", "%_/a.vire", ""},
		{"a//b", "a/%_/b.vire", ""},
		{"..", "%2E..vire", ""},
		{"../x", "%2E./x.vire", ""},
		{".vire", "%2Evire.vire", ""},
		{"x.vire", "x%2Evire.vire", ""},
		{"x.vire/y", "x%2Evire/y.vire", ""},
		{"a%2Fb", "a%252Fb.vire", "a%252%46b.vire"},
		{"a b\x00", "a%20b%00.vire", ""},
		{"user@example.com", "user@example.com.vire", ""},
		{"\xff", "%FF.vire", ""},
	}
	for _, tc := range cases {
		if got := (names{}).path(tc.key); got != tc.path {
			t.Errorf("path(%q) = %q, want %q", tc.key, got, tc.path)
		}
		folded := tc.folded
		if folded == "" {
			folded = tc.path
		}
		if got := (names{foldCase: true}).path(tc.key); got != folded {
			t.Errorf("folded path(%q) = %q, want %q", tc.key, got, folded)
		}
	}
}

func TestNamesLongParts(t *testing.T) {
	for _, key := range []string{
		strings.Repeat("\xff", sdk.MaxKeyLength),
		strings.Repeat("a", sdk.MaxKeyLength),
		strings.Repeat("a", maxPartName) + "/x",
		strings.Repeat("a", maxPartName+1) + "/x",
		strings.Repeat("%", 43) + "/" + strings.Repeat(".", 500),
	} {
		p := (names{}).path(key)
		checkPath(t, names{}, key, p)
	}
	// The escaped form of a 43-byte part of '%' is 129 bytes: long form.
	if p := (names{}).path(strings.Repeat("%", 43)); !strings.HasPrefix(p, longPrefix) {
		t.Errorf("a part escaping to 129 bytes is not in long form: %q", p)
	}
	if p := (names{}).path(strings.Repeat("a", maxPartName)); p != strings.Repeat("a", maxPartName)+leafSuffix {
		t.Errorf("a %d-byte plain part was not kept readable: %q", maxPartName, p)
	}
}

// checkPath asserts the properties every encoded path must have.
func checkPath(t *testing.T, n names, key, p string) {
	t.Helper()
	if !filepath.IsLocal(p) || strings.HasPrefix(p, "/") {
		t.Fatalf("path(%q) = %q is not local", key, p)
	}
	comps := strings.Split(p, "/")
	for i, c := range comps {
		switch {
		case c == "" || c == "." || c == "..":
			t.Fatalf("path(%q) has component %q", key, c)
		case c[0] == '.':
			t.Fatalf("path(%q) has hidden component %q", key, c)
		case len(c) > 143:
			t.Fatalf("path(%q) has a %d-byte component", key, len(c))
		case strings.ContainsAny(c, "\x00\\"):
			t.Fatalf("path(%q) has component %q with NUL or backslash", key, c)
		case strings.HasSuffix(c, leafSuffix) != (i == len(comps)-1):
			t.Fatalf("path(%q): only the last component may end in %s: %q", key, leafSuffix, p)
		}
		for j := 0; j < len(c); j++ {
			if c[j] < 0x21 || c[j] > 0x7e {
				t.Fatalf("path(%q) has byte %#x in a name", key, c[j])
			}
			if n.foldCase && c[j] >= 'A' && c[j] <= 'Z' && (j < 1 || c[j-1] != '%') && (j < 2 || c[j-2] != '%') {
				t.Fatalf("folded path(%q) = %q keeps an upper-case letter", key, p)
			}
		}
	}
	got, ok := n.keyOf(p)
	if !ok || got != key {
		t.Fatalf("keyOf(path(%q)) = %q, %v", key, got, ok)
	}
}

func FuzzNames(f *testing.F) {
	for _, seed := range [][2]string{
		{"users/alice/strategy/main", "users/alice/strategy/main/"},
		{"a", "a/b"}, {"..", "../"}, {"a.vire", "a"}, {"A", "a"}, {"%", "%25"},
		{"//", "/"}, {strings.Repeat("\xff", 200), strings.Repeat("\xfe", 200)},
		{strings.Repeat("x", 200), strings.Repeat("x", 199)}, {"\x00", "%00"},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	f.Fuzz(func(t *testing.T, a, b string, fold bool) {
		n := names{foldCase: fold}
		norm := func(s string) string {
			if fold {
				return strings.ToLower(s)
			}
			return s
		}
		valid := func(k string) bool { return k != "" && len(k) <= sdk.MaxKeyLength }
		if valid(a) {
			checkPath(t, n, a, n.path(a))
		}
		if !valid(a) || !valid(b) || a == b {
			return
		}
		pa, pb := norm(n.path(a)), norm(n.path(b))
		if pa == pb {
			t.Fatalf("keys %q and %q share the file name %q", a, b, pa)
		}
		// One key's file is never a directory on the other's path.
		if strings.HasPrefix(pb, pa+"/") || strings.HasPrefix(pa, pb+"/") {
			t.Fatalf("keys %q and %q: %q and %q clash as file and directory", a, b, pa, pb)
		}
	})
}
