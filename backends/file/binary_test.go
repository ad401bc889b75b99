package file_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBinaryConformance runs the blob suite through the built
// vire-plugin-file, the host's loader and gRPC: large blobs cross the
// process boundary in chunks, errors keep their kinds, keys keep every byte.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	bin := testbuild.Binary(t, "./cmd/vire-plugin-file")
	plugintest.RunBlobStore(t, plugintest.BlobHarness{Open: func(t *testing.T) sdk.BlobStore {
		h := pluginhost.New(pluginhost.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Warn})})
		t.Cleanup(h.Close)
		p, err := h.Start(t.Context(), pluginhost.Spec{Name: "file", Path: bin})
		if err != nil {
			t.Fatalf("starting vire-plugin-file: %v", err)
		}
		bs, err := p.BlobStore(t.Context(), sdk.ConfigValue{"root": t.TempDir(), "fsync": false})
		if err != nil {
			t.Fatalf("configuring: %v", err)
		}
		return bs
	}})
}
