// Command vire-plugin-s3 is Vire's S3 storage plugin (AWS S3 and S3-compatible servers).
// vire-server starts it; `vire-plugin-s3 describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/backends/s3"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("s3")
	sdk.Serve(sdk.ServeConfig{Name: "s3", Version: version, Logger: log, Storage: s3.New(log)})
}
