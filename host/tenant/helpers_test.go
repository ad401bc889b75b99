package tenant

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/sdk"
)

// openFile opens the real file backend on dir; call it twice on one dir for
// two server instances sharing storage.
func openFile(t testing.TB, dir string) sdk.BlobStore {
	t.Helper()
	s := file.New(nil)
	cfg, err := s.Schema().Complete(sdk.ConfigValue{"root": dir, "versions": float64(0), "fsync": false})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// testMasterKey is a fixed 32-byte test key (base64), not a secret.
const testMasterKey = "dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLWxvbmc="

// newStore returns a hosted document store over b, encrypted when sealed.
func newStore(t testing.TB, b sdk.BlobStore, sealed bool) *store.Store {
	t.Helper()
	o := store.Options{Backend: b}
	if sealed {
		p := env.New(nil)
		cfg, err := p.Schema().Complete(sdk.ConfigValue{"master_key": testMasterKey})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		e, err := crypt.New(crypt.Options{Provider: p, ProviderID: "env", Keyrings: store.NewKeyrings(b, store.Layout{})})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		o.Sealer = e
	}
	c, err := store.NewLRU(100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	o.Cache = c
	s, err := store.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newService returns a Service on a fresh file store and its clock.
func newService(t testing.TB) (*Service, *clock, sdk.BlobStore) {
	t.Helper()
	b := openFile(t, t.TempDir())
	clk := newClock()
	s, err := New(Options{Store: newStore(t, b, true), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk, b
}

// allBlobs returns every blob in a backend, key → bytes.
func allBlobs(t testing.TB, b sdk.BlobStore) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	cursor := ""
	for {
		p, err := b.List(ctx, sdk.ListOptions{Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			data, _, err := b.Get(ctx, it.Key)
			if err != nil {
				t.Fatal(err)
			}
			out[it.Key] = data
		}
		if p.NextCursor == "" {
			return out
		}
		cursor = p.NextCursor
	}
}
