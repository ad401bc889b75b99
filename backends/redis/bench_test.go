package redis

import (
	"testing"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

// BenchmarkPutGet measures one Put and one Get of a blob against the real
// server on loopback.
func BenchmarkPutGet(b *testing.B) {
	backendtest.BenchPutGet(b, open(b, testsvc.Redis(b), sdk.ConfigValue{"prefix": "bench:"}))
}
