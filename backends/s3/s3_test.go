package s3

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// gateway is one running versitygw with one bucket.
type gateway struct {
	endpoint, accessKey, secretKey, bucket string
}

func startGateway(t testing.TB) gateway {
	t.Helper()
	g := gateway{bucket: testsvc.BucketName()}
	g.endpoint, g.accessKey, g.secretKey = testsvc.VersityGW(t)
	testsvc.CreateS3Bucket(t, g.endpoint, g.accessKey, g.secretKey, g.bucket)
	return g
}

// config is a store in a fresh namespace (prefix) of the bucket, with
// extra's attributes on top.
func (g gateway) config(extra sdk.ConfigValue) sdk.ConfigValue {
	return backendtest.With(sdk.ConfigValue{
		"bucket": g.bucket, "prefix": "t" + testsvc.RandomToken(6) + "/",
		"endpoint": g.endpoint, "use_path_style": true,
		"access_key_id": g.accessKey, "secret_access_key": g.secretKey,
	}, extra)
}

func open(t testing.TB, g gateway, extra sdk.ConfigValue) *Store {
	t.Helper()
	return backendtest.Open(t, New(hclog.NewNullLogger()), g.config(extra))
}

func TestConformance(t *testing.T) {
	g := startGateway(t)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore { return open(t, g, nil) },
	})
}

// TestConformanceMultipart runs the suite with the smallest threshold and
// part size S3 allows, so the suite's large blobs go through multipart
// uploads, conditional completion included.
func TestConformanceMultipart(t *testing.T) {
	g := startGateway(t)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore {
			return open(t, g, sdk.ConfigValue{"multipart_threshold": minPartSize, "part_size": minPartSize})
		},
	})
}
