// Command vire-plugin-env is Vire's "env" key provider plugin: per-tenant
// key-encryption keys derived from a configured master key. vire-server
// starts it; `vire-plugin-env describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("env")
	sdk.Serve(sdk.ServeConfig{Name: "env", Version: version, Logger: log, Keys: env.New(log)})
}
