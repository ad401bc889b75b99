package config

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/gohcl"
)

// TestReferenceIsComplete keeps the package documentation and
// docs/configuration.md in step with the code: every function, block and
// attribute the loader accepts must be documented in both.
func TestReferenceIsComplete(t *testing.T) {
	var names []string
	names = append(names, functionNames()...)
	schema, _ := gohcl.ImpliedBodySchema(&fileContent{})
	for _, a := range schema.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range schema.Blocks {
		names = append(names, b.Type)
	}
	for _, v := range []any{&serverBlock{}, &authBlock{}, &pluginBlock{}, &variableBlock{}} {
		s, _ := gohcl.ImpliedBodySchema(v)
		for _, a := range s.Attributes {
			names = append(names, a.Name)
		}
	}
	if len(names) < 60 {
		t.Fatalf("only %d names found: %v", len(names), names)
	}
	for _, file := range []string{"doc.go", "../../docs/configuration.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, n := range names {
			if !strings.Contains(text, n) {
				t.Errorf("%s does not mention %q", file, n)
			}
		}
	}
}
