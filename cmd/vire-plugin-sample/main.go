// Command vire-plugin-sample is Vire's "sample" source plugin: a synthetic,
// offline market and a sample SMSF portfolio, for first runs, demos and
// tests. vire-server starts it; `vire-plugin-sample describe` prints what it
// serves.
package main

import (
	"github.com/vire-dev/vire/plugins/sources/sample"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("sample")
	sdk.Serve(sdk.ServeConfig{Name: "sample", Version: version, Logger: log, Source: sample.New(log)})
}
