// Command vire-plugin-gcs is Vire's Google Cloud Storage plugin.
// vire-server starts it; `vire-plugin-gcs describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/backends/gcs"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("gcs")
	sdk.Serve(sdk.ServeConfig{Name: "gcs", Version: version, Logger: log, Storage: gcs.New(log)})
}
