// Command vire-plugin-eodhd is Vire's "eodhd" market-data plugin: prices,
// fundamentals, dividends and splits from EOD Historical Data. vire-server
// starts it; `vire-plugin-eodhd describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/plugins/sources/eodhd"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("eodhd")
	sdk.Serve(sdk.ServeConfig{Name: "eodhd", Version: version, Logger: log, Source: eodhd.New(log)})
}
