package gcs

import (
	"testing"

	"github.com/vire-dev/vire/internal/backendtest"
)

// BenchmarkPutGet measures one Put and one Get of a blob against the real
// server on loopback.
func BenchmarkPutGet(b *testing.B) {
	backendtest.BenchPutGet(b, open(b, startEmulator(b), nil))
}
