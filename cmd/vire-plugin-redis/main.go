// Command vire-plugin-redis is Vire's Redis storage plugin.
// vire-server starts it; `vire-plugin-redis describe` prints what it serves.
package main

import (
	"github.com/vire-dev/vire/backends/redis"
	"github.com/vire-dev/vire/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := sdk.NewLogger("redis")
	sdk.Serve(sdk.ServeConfig{Name: "redis", Version: version, Logger: log, Storage: redis.New(log)})
}
