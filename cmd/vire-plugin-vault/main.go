// Command vire-plugin-vault is Vire's "vault" key provider plugin: tenants'
// data keys are wrapped by HashiCorp Vault's transit secrets engine under
// per-tenant derived keys. vire-server starts it; `vire-plugin-vault
// describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/plugins/keys/vault"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("vault")
	sdk.Serve(sdk.ServeConfig{Name: "vault", Version: version, Logger: log, Keys: vault.New(log)})
}
