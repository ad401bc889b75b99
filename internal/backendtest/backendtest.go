// Package backendtest is the test harness the storage backends' tests
// share: opening a store for one test, running the blob conformance suite
// through a backend's built plugin binary, and the checks and benchmarks
// that read the same for every backend.
//
// Only _test.go files import it: it starts plugins through host/pluginhost,
// which no other code under backends/ may import.
package backendtest

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// Open completes cfg against s's schema, configures s with it and closes s
// when the test ends. Any failure stops the test.
func Open[S sdk.BlobStore](tb testing.TB, s S, cfg sdk.ConfigValue) S {
	tb.Helper()
	cfg, err := s.Schema().Complete(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Configure(tb.Context(), cfg); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// With returns a copy of cfg with extra's attributes set over it.
func With(cfg, extra sdk.ConfigValue) sdk.ConfigValue {
	out := maps.Clone(cfg)
	maps.Copy(out, extra)
	return out
}

// RunBinaryConformance runs the blob conformance suite through the built
// cmd/vire-plugin-<name>, the host's plugin loader and gRPC. setup starts
// what the plugin talks to (skipped with -short, like the build) and
// returns the configuration of each store the suite opens.
func RunBinaryConformance(t *testing.T, name string, setup func(t *testing.T) func(t *testing.T) sdk.ConfigValue) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and starts the plugin binary")
	}
	config := setup(t)
	bin := testbuild.Binary(t, "./cmd/vire-plugin-"+name)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{Open: func(t *testing.T) sdk.BlobStore {
		h := pluginhost.New(pluginhost.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Warn})})
		t.Cleanup(h.Close)
		p, err := h.Start(t.Context(), pluginhost.Spec{Name: name, Path: bin})
		if err != nil {
			t.Fatalf("starting vire-plugin-%s: %v", name, err)
		}
		bs, err := p.BlobStore(t.Context(), config(t))
		if err != nil {
			t.Fatalf("configuring: %v", err)
		}
		return bs
	}})
}

// testLog sends the plugin host's log to the test's.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// EmptyContentTypeRoundTrips checks that a blob written without a content
// type reads back without one from Stat and Get, even when its bytes look
// like HTML to a server that guesses types.
func EmptyContentTypeRoundTrips(t *testing.T, s sdk.BlobStore) {
	t.Helper()
	if _, err := s.Put(t.Context(), "k", []byte("<html>sniff me</html>"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if m, err := s.Stat(t.Context(), "k"); err != nil || m.ContentType != "" {
		t.Fatalf("Stat: type %q, %v", m.ContentType, err)
	}
	if _, m, err := s.Get(t.Context(), "k"); err != nil || m.ContentType != "" {
		t.Fatalf("Get: type %q, %v", m.ContentType, err)
	}
}

// BenchPutGet measures one Put and one Get of a blob of 2 KiB and of
// 1 MiB in s.
func BenchPutGet(b *testing.B, s sdk.BlobStore) {
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
