package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/sdk"
)

// backendKinds are the real BlobStores the store tests run against. open
// returns an empty store; reopen returns another handle on the same storage,
// as a second server process would have.
var backendKinds = []struct {
	name   string
	open   func(t testing.TB) sdk.BlobStore
	reopen func(t testing.TB, b sdk.BlobStore) sdk.BlobStore
}{
	{
		name:   "mem",
		open:   func(t testing.TB) sdk.BlobStore { return newMemBlobStore() },
		reopen: func(t testing.TB, b sdk.BlobStore) sdk.BlobStore { return b },
	},
	{
		name: "file",
		open: func(t testing.TB) sdk.BlobStore { return openFileStore(t, t.TempDir()) },
		reopen: func(t testing.TB, b sdk.BlobStore) sdk.BlobStore {
			root, ok := fileRoots.Load(b)
			if !ok {
				t.Fatal("reopen: not a file store opened by these tests")
			}
			return openFileStore(t, root.(string))
		},
	},
	{
		// The file backend as a plugin process over gRPC, as vire-server
		// runs it; reopen starts a second process on the same directory.
		name: "plugin",
		open: func(t testing.TB) sdk.BlobStore { return startFilePlugin(t, t.TempDir()) },
		reopen: func(t testing.TB, b sdk.BlobStore) sdk.BlobStore {
			root, ok := fileRoots.Load(b)
			if !ok {
				t.Fatal("reopen: not a file store opened by these tests")
			}
			return startFilePlugin(t, root.(string))
		},
	},
}

// newPluginHost returns a plugin host closed at the end of the test.
func newPluginHost(t testing.TB) *pluginhost.Host {
	h := pluginhost.New(pluginhost.Options{Logger: hclog.New(&hclog.LoggerOptions{Output: testLog{t}, Level: hclog.Warn})})
	t.Cleanup(h.Close)
	return h
}

// testLog sends plugin logs to the test log.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startPlugin(t testing.TB, name string) *pluginhost.Plugin {
	t.Helper()
	p, err := newPluginHost(t).Start(context.Background(), pluginhost.Spec{
		Name: name, Path: testbuild.Binary(t, "./cmd/vire-plugin-"+name),
	})
	if err != nil {
		t.Fatalf("starting the %s plugin: %v", name, err)
	}
	return p
}

func startFilePlugin(t testing.TB, root string) sdk.BlobStore {
	t.Helper()
	bs, err := startPlugin(t, "file").BlobStore(context.Background(), sdk.ConfigValue{"root": root, "versions": float64(5), "fsync": false})
	if err != nil {
		t.Fatal(err)
	}
	fileRoots.Store(bs, root)
	return bs
}

// fileRoots maps each file store the tests opened to its directory.
var fileRoots sync.Map

func openFileStore(t testing.TB, root string) sdk.BlobStore {
	t.Helper()
	s := file.New(nil)
	cfg, err := s.Schema().Complete(sdk.ConfigValue{"root": root, "versions": float64(5), "fsync": false})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fileRoots.Store(sdk.BlobStore(s), root)
	return s
}

// backendOpener opens empty stores and second handles on them.
type backendOpener struct {
	open   func(t testing.TB) sdk.BlobStore
	reopen func(t testing.TB, b sdk.BlobStore) sdk.BlobStore
}

// forEachBackend runs fn once per backend kind.
func forEachBackend(t *testing.T, fn func(t *testing.T, be backendOpener)) {
	for _, b := range backendKinds {
		t.Run(b.name, func(t *testing.T) { fn(t, backendOpener{open: b.open, reopen: b.reopen}) })
	}
}

func newMasterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// newProvider returns a configured env key provider: master is the latest
// key version, retired the earlier ones.
func newProvider(t testing.TB, master string, retired ...string) sdk.KeyProvider {
	t.Helper()
	p := env.New(nil)
	cfg := sdk.ConfigValue{"master_key": master}
	if len(retired) > 0 {
		l := make([]any, len(retired))
		for i, r := range retired {
			l[i] = r
		}
		cfg["retired_keys"] = l
	}
	cfg, err := p.Schema().Complete(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// instance is one simulated vire-server: its own Envelope (key cache) and
// Store over a shared backend.
type instance struct {
	*Store
	env   *crypt.Envelope
	cache *LRU
}

type instanceOpts struct {
	layout   Layout
	plain    bool // encryption off
	cached   bool // with an LRU cache
	provider sdk.KeyProvider
}

func newInstance(t testing.TB, b sdk.BlobStore, master string, o instanceOpts) *instance {
	t.Helper()
	in := &instance{}
	opts := Options{Backend: b, Layout: o.layout}
	if !o.plain {
		p := o.provider
		if p == nil {
			p = newProvider(t, master)
		}
		e, err := crypt.New(crypt.Options{Provider: p, ProviderID: "env", Keyrings: NewKeyrings(b, o.layout)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		in.env = e
		opts.Sealer = e
	}
	if o.cached {
		c, err := NewLRU(1000, 8<<20)
		if err != nil {
			t.Fatal(err)
		}
		in.cache = c
		opts.Cache = c
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	in.Store = s
	return in
}

// rawBlob reads a blob's stored bytes straight from the backend.
func rawBlob(t testing.TB, b sdk.BlobStore, key string) []byte {
	t.Helper()
	data, _, err := b.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("raw get %q: %v", key, err)
	}
	return data
}

func putRaw(t testing.TB, b sdk.BlobStore, key string, data []byte) {
	t.Helper()
	if _, err := b.Put(context.Background(), key, data, sdk.PutOptions{}); err != nil {
		t.Fatalf("raw put %q: %v", key, err)
	}
}

// allKeys lists every key in the backend.
func allKeys(t testing.TB, b sdk.BlobStore, prefix string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		p, err := b.List(context.Background(), sdk.ListOptions{Prefix: prefix, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			out = append(out, it.Key)
		}
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}

type holding struct {
	Ticker string  `json:"ticker"`
	Units  float64 `json:"units"`
	Note   string  `json:"note,omitempty"`
}

type counter struct {
	N int `json:"n"`
}
