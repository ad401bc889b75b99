package gcs

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// emulator is one running fake-gcs-server with one bucket.
type emulator struct{ host, bucket string }

func startEmulator(t *testing.T) emulator {
	t.Helper()
	e := emulator{host: testsvc.FakeGCS(t), bucket: testsvc.BucketName()}
	testsvc.CreateGCSBucket(t, e.host, e.bucket)
	return e
}

func (e emulator) config(extra sdk.ConfigValue) sdk.ConfigValue {
	cfg := sdk.ConfigValue{"bucket": e.bucket, "prefix": "t" + testsvc.RandomToken(6) + "/", "endpoint": "http://" + e.host}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

func open(t *testing.T, e emulator, extra sdk.ConfigValue) *Store {
	t.Helper()
	s := New(hclog.NewNullLogger())
	cfg, err := s.Schema().Complete(e.config(extra))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Configure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
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
