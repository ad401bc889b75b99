package s3

import (
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// gateway is one running versitygw with one bucket.
type gateway struct {
	endpoint, accessKey, secretKey, bucket string
}

func startGateway(t *testing.T) gateway {
	t.Helper()
	g := gateway{bucket: testsvc.BucketName()}
	g.endpoint, g.accessKey, g.secretKey = testsvc.VersityGW(t)
	testsvc.CreateS3Bucket(t, g.endpoint, g.accessKey, g.secretKey, g.bucket)
	return g
}

func (g gateway) config(extra sdk.ConfigValue) sdk.ConfigValue {
	cfg := sdk.ConfigValue{
		"bucket": g.bucket, "prefix": "t" + testsvc.RandomToken(6) + "/",
		"endpoint": g.endpoint, "use_path_style": true,
		"access_key_id": g.accessKey, "secret_access_key": g.secretKey,
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

func open(t *testing.T, g gateway, extra sdk.ConfigValue) *Store {
	t.Helper()
	s := New(hclog.NewNullLogger())
	cfg, err := s.Schema().Complete(g.config(extra))
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
