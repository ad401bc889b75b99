package pluginhost_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/sdk"
)

// The same file backend measured in-process and through the plugin
// boundary: the difference is what the boundary costs.
func benchStores(b *testing.B) map[string]sdk.BlobStore {
	ctx := context.Background()
	local := file.New(hclog.NewNullLogger())
	if err := sdk.Configure(ctx, local, sdk.ConfigValue{"root": b.TempDir(), "fsync": false, "versions": float64(0)}); err != nil {
		b.Fatal(err)
	}
	h := pluginhost.New(pluginhost.Options{HealthInterval: -1})
	b.Cleanup(h.Close)
	p, err := h.Start(ctx, pluginhost.Spec{Name: "file", Path: testbuildBinary(b)})
	if err != nil {
		b.Fatal(err)
	}
	remote, err := p.BlobStore(ctx, sdk.ConfigValue{"root": b.TempDir(), "fsync": false, "versions": float64(0)})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]sdk.BlobStore{"inprocess": local, "plugin": remote}
}

func BenchmarkBoundary(b *testing.B) {
	stores := benchStores(b)
	ctx := context.Background()
	for _, size := range []int{2 << 10, 50 << 10} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		for _, mode := range []string{"inprocess", "plugin"} {
			bs := stores[mode]
			name := map[int]string{2 << 10: "2KiB", 50 << 10: "50KiB"}[size]
			b.Run("Put/"+name+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := bs.Put(ctx, "bench/put", data, sdk.PutOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			if _, err := bs.Put(ctx, "bench/get", data, sdk.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			b.Run("Get/"+name+"/"+mode, func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, _, err := bs.Get(ctx, "bench/get"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkStream64MiB moves a 64 MiB blob into and out of the plugin with
// PutReader and GetReader; MB/s counts both directions' bytes.
func BenchmarkStream64MiB(b *testing.B) {
	bs := benchStores(b)["plugin"]
	ctx := context.Background()
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	b.SetBytes(2 * int64(len(data)))
	for b.Loop() {
		if _, err := bs.PutReader(ctx, "bench/big", bytes.NewReader(data), int64(len(data)), sdk.PutOptions{}); err != nil {
			b.Fatal(err)
		}
		rc, _, err := bs.GetReader(ctx, "bench/big")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || n != int64(len(data)) {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}
