// Command vire-plugin-passphrase is Vire's "passphrase" key provider plugin:
// per-tenant key-encryption keys derived from an Argon2id-stretched
// passphrase. vire-server starts it; `vire-plugin-passphrase describe` prints
// what it serves.
package main

import (
	"github.com/vire-dev/vire/plugins/keys/passphrase"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("passphrase")
	sdk.Serve(sdk.ServeConfig{Name: "passphrase", Version: version, Logger: log, Keys: passphrase.New(log)})
}
