package gcs

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// emulator is one running fake-gcs-server with one bucket.
type emulator struct{ host, bucket string }

func startEmulator(t testing.TB) emulator {
	t.Helper()
	e := emulator{host: testsvc.FakeGCS(t), bucket: testsvc.BucketName()}
	testsvc.CreateGCSBucket(t, e.host, e.bucket)
	return e
}

// config is a store in a fresh namespace (prefix) of the bucket, with
// extra's attributes on top.
func (e emulator) config(extra sdk.ConfigValue) sdk.ConfigValue {
	return backendtest.With(sdk.ConfigValue{"bucket": e.bucket, "prefix": "t" + testsvc.RandomToken(6) + "/", "endpoint": "http://" + e.host}, extra)
}

func open(t testing.TB, e emulator, extra sdk.ConfigValue) *Store {
	t.Helper()
	return backendtest.Open(t, New(hclog.NewNullLogger()), e.config(extra))
}

func TestConformance(t *testing.T) {
	e := startEmulator(t)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore { return open(t, e, nil) },
	})
}

// TestConformanceResumable runs the suite with the smallest chunk size, so
// large blobs and streams go through resumable uploads.
func TestConformanceResumable(t *testing.T) {
	e := startEmulator(t)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore { return open(t, e, sdk.ConfigValue{"chunk_size": chunkUnit}) },
	})
}
