package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// checkStatic inspects every expression outside variable blocks before
// anything is evaluated: env() calls and references to undeclared variables
// and locals are reported here, with their ranges, once.
func checkStatic(m *merged, ev *evaluator) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, f := range m.files {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		w := &staticWalker{ev: ev}
		for _, a := range sortedAttributes(body.Attributes) {
			diags = append(diags, hclsyntax.Walk(a, w)...)
		}
		for _, b := range body.Blocks {
			if b.Type == "variable" {
				// Defaults may call env(); the other attributes must be
				// literals, which HCL itself enforces.
				continue
			}
			diags = append(diags, hclsyntax.Walk(b, w)...)
		}
	}
	return diags
}

func sortedAttributes(attrs hclsyntax.Attributes) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].SrcRange.Start.Byte < out[j-1].SrcRange.Start.Byte; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

type staticWalker struct {
	ev *evaluator
	// scopes holds the iterator names of the for expressions being walked,
	// which shadow the top-level names.
	scopes [][]string
}

func (w *staticWalker) shadowed(name string) bool {
	for _, s := range w.scopes {
		for _, n := range s {
			if n == name {
				return true
			}
		}
	}
	return false
}

func (w *staticWalker) Enter(node hclsyntax.Node) hcl.Diagnostics {
	switch n := node.(type) {
	case *hclsyntax.ForExpr:
		w.scopes = append(w.scopes, []string{n.KeyVar, n.ValVar})
	case *hclsyntax.FunctionCallExpr:
		if n.Name == "env" {
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "env() not allowed here",
				Detail: "env() is only allowed in variable defaults. Declare a variable whose default reads the environment, " +
					`for example variable "api_key" { default = env("API_KEY") }, and refer to it as var.api_key.`,
				Subject: n.NameRange.Ptr(),
				Context: n.Range().Ptr(),
			}}
		}
	case *hclsyntax.ScopeTraversalExpr:
		return w.checkTraversal(n.Traversal)
	}
	return nil
}

func (w *staticWalker) Exit(node hclsyntax.Node) hcl.Diagnostics {
	if _, ok := node.(*hclsyntax.ForExpr); ok && len(w.scopes) > 0 {
		w.scopes = w.scopes[:len(w.scopes)-1]
	}
	return nil
}

func (w *staticWalker) checkTraversal(t hcl.Traversal) hcl.Diagnostics {
	if w.shadowed(t.RootName()) {
		return nil
	}
	if name, ok := refName(t, "var"); ok {
		if _, declared := w.ev.varDecls[name]; !declared {
			w.ev.undeclaredVars[name] = true
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared variable",
				Detail:   fmt.Sprintf("No variable named %q is declared. Declare it with a variable %q block.", name, name),
				Subject:  t.SourceRange().Ptr(),
			}}
		}
	}
	if name, ok := refName(t, "local"); ok {
		if _, declared := w.ev.localDecls[name]; !declared {
			w.ev.undeclaredLocals[name] = true
			return hcl.Diagnostics{{
				Severity: hcl.DiagError,
				Summary:  "Reference to undeclared local value",
				Detail:   fmt.Sprintf("No local value named %q is defined in any locals block.", name),
				Subject:  t.SourceRange().Ptr(),
			}}
		}
	}
	return nil
}
