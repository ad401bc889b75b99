// Command vire-plugin-file is Vire's local-directory storage plugin.
// vire-server starts it; `vire-plugin-file describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("file")
	sdk.Serve(sdk.ServeConfig{Name: "file", Version: version, Logger: log, Storage: file.New(log)})
}
