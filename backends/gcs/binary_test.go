package gcs_test

import (
	"testing"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

// TestBinaryConformance runs the blob suite through the built
// vire-plugin-gcs, the host's plugin loader and gRPC, against fake-gcs-server.
func TestBinaryConformance(t *testing.T) {
	backendtest.RunBinaryConformance(t, "gcs", func(t *testing.T) func(*testing.T) sdk.ConfigValue {
		host := testsvc.FakeGCS(t)
		bucket := testsvc.BucketName()
		testsvc.CreateGCSBucket(t, host, bucket)
		return func(*testing.T) sdk.ConfigValue {
			return sdk.ConfigValue{"bucket": bucket, "prefix": "t" + testsvc.RandomToken(6) + "/", "endpoint": "http://" + host}
		}
	})
}
