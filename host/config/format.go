package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Format returns src in canonical HCL layout: indentation, aligned equals
// signs and spacing. It does not check the configuration; see FormatFile.
func Format(src []byte) []byte {
	return hclwrite.Format(src)
}

// FormatFile formats src after checking that it parses, so that a file with
// a syntax error is reported rather than rewritten.
func FormatFile(filename string, src []byte) ([]byte, hcl.Diagnostics) {
	if _, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos); diags.HasErrors() {
		return nil, diags
	}
	return hclwrite.Format(src), nil
}
