package passphrase

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentation keeps the "## passphrase" section of docs/keys.md in
// step with the schema: every attribute is in its table with the schema's
// default, and the example's salt is one the provider accepts.
func TestDocumentation(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "keys.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(b), "\n## passphrase\n")
	if !found {
		t.Fatal(`docs/keys.md has no "## passphrase" section`)
	}
	if next := strings.Index(section, "\n## "); next >= 0 {
		section = section[:next]
	}
	for _, a := range schema().Attributes {
		row := regexp.MustCompile("(?m)^\\| `" + a.Name + "` \\| ([^|]*) \\|").FindStringSubmatch(section)
		if row == nil {
			t.Errorf("the table has no row for %s", a.Name)
			continue
		}
		want := "(required)"
		switch {
		case a.Default != nil:
			want = fmt.Sprintf("`%v`", a.Default)
		case !a.Required:
			want = "`[]`"
		}
		if got := strings.TrimSpace(row[1]); got != want {
			t.Errorf("%s: documented default %s, schema says %s", a.Name, got, want)
		}
	}
	m := regexp.MustCompile(`salt\s+=\s+"([^"]+)"`).FindStringSubmatch(section)
	if m == nil {
		t.Fatal("the example sets no salt")
	}
	if _, err := parseSalt(m[1]); err != nil {
		t.Errorf("the example's salt: %v", err)
	}
	for _, want := range []string{"Argon2id", "never change", "retired_passphrases", "keys rewrap -all"} {
		if !strings.Contains(section, want) {
			t.Errorf("the section does not mention %q", want)
		}
	}
}
