package s3_test

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
// vire-plugin-s3, the host's plugin loader and gRPC, against versitygw.
func TestBinaryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	endpoint, ak, sk := testsvc.VersityGW(t)
	bucket := testsvc.BucketName()
	testsvc.CreateS3Bucket(t, endpoint, ak, sk, bucket)
	bin := testbuild.Binary(t, "./cmd/vire-plugin-s3")
	plugintest.RunBlobStore(t, plugintest.BlobHarness{Open: func(t *testing.T) sdk.BlobStore {
		h := pluginhost.New(pluginhost.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Warn})})
		t.Cleanup(h.Close)
		p, err := h.Start(t.Context(), pluginhost.Spec{Name: "s3", Path: bin})
		if err != nil {
			t.Fatalf("starting vire-plugin-s3: %v", err)
		}
		bs, err := p.BlobStore(t.Context(), sdk.ConfigValue{
			"bucket": bucket, "prefix": "t" + testsvc.RandomToken(6) + "/",
			"endpoint": endpoint, "use_path_style": true,
			"access_key_id": ak, "secret_access_key": sk,
		})
		if err != nil {
			t.Fatalf("configuring: %v", err)
		}
		return bs
	}})
}
