package s3_test

import (
	"testing"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

// TestBinaryConformance runs the blob suite through the built
// vire-plugin-s3, the host's plugin loader and gRPC, against versitygw.
func TestBinaryConformance(t *testing.T) {
	backendtest.RunBinaryConformance(t, "s3", func(t *testing.T) func(*testing.T) sdk.ConfigValue {
		endpoint, ak, sk := testsvc.VersityGW(t)
		bucket := testsvc.BucketName()
		testsvc.CreateS3Bucket(t, endpoint, ak, sk, bucket)
		return func(*testing.T) sdk.ConfigValue {
			return sdk.ConfigValue{
				"bucket": bucket, "prefix": "t" + testsvc.RandomToken(6) + "/",
				"endpoint": endpoint, "use_path_style": true,
				"access_key_id": ak, "secret_access_key": sk,
			}
		}
	})
}
