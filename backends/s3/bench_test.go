package s3

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

func benchStore(b *testing.B) *Store {
	b.Helper()
	endpoint, ak, sk := testsvc.VersityGW(b)
	bucket := testsvc.BucketName()
	testsvc.CreateS3Bucket(b, endpoint, ak, sk, bucket)
	s := New(hclog.NewNullLogger())
	cfg, _ := s.Schema().Complete(sdk.ConfigValue{"bucket": bucket, "endpoint": endpoint, "use_path_style": true,
		"access_key_id": ak, "secret_access_key": sk})
	if err := s.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPutGet measures one Put and one Get of a blob against the real
// server on loopback.
func BenchmarkPutGet(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	for _, size := range []int{2 << 10, 1 << 20} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		name := fmt.Sprintf("%dKiB", size>>10)
		b.Run("Put/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				if _, err := s.Put(ctx, fmt.Sprintf("bench/%s/%d", name, i%64), data, sdk.PutOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Get/"+name, func(b *testing.B) {
			if _, err := s.Put(ctx, "bench/get/"+name, data, sdk.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, _, err := s.Get(ctx, "bench/get/"+name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
