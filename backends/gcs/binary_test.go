package gcs_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestBinaryConformance runs the blob suite through the built
// vire-plugin-gcs, the host's plugin loader and gRPC, against fake-gcs-server.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	host := testsvc.FakeGCS(t)
	bucket := testsvc.BucketName()
	testsvc.CreateGCSBucket(t, host, bucket)
	bin := testbuild.Binary(t, "./cmd/vire-plugin-gcs")
	plugintest.RunBlobStore(t, plugintest.BlobHarness{Open: func(t *testing.T) sdk.BlobStore {
		h := pluginhost.New(pluginhost.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Warn})})
		t.Cleanup(h.Close)
		p, err := h.Start(t.Context(), pluginhost.Spec{Name: "gcs", Path: bin})
		if err != nil {
			t.Fatalf("starting vire-plugin-gcs: %v", err)
		}
		bs, err := p.BlobStore(t.Context(), sdk.ConfigValue{
			"bucket": bucket, "prefix": "t" + testsvc.RandomToken(6) + "/", "endpoint": "http://" + host,
		})
		if err != nil {
			t.Fatalf("configuring: %v", err)
		}
		return bs
	}})
}
