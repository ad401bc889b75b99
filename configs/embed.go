// Package configs holds Vire's example configurations and embeds the default
// one, personal.hcl, which vire-server uses when it is given no -config.
package configs

import _ "embed"

//go:embed personal.hcl
var personal string

// PersonalName is the file name diagnostics about the default use.
const PersonalName = "personal.hcl"

// Personal returns the default configuration's source.
func Personal() []byte { return []byte(personal) }
