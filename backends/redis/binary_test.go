package redis_test

import (
	"testing"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

// TestBinaryConformance runs the blob suite through the built
// vire-plugin-redis, the host's plugin loader and gRPC, against redis-server.
func TestBinaryConformance(t *testing.T) {
	backendtest.RunBinaryConformance(t, "redis", func(t *testing.T) func(*testing.T) sdk.ConfigValue {
		addr := testsvc.Redis(t)
		return func(*testing.T) sdk.ConfigValue {
			return sdk.ConfigValue{"url": "redis://" + addr + "/0", "prefix": "t" + testsvc.RandomToken(6) + ":"}
		}
	})
}
