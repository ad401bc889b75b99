package documents

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// openStore returns a document store over a fresh file backend, hosted
// layout, no encryption (the REST tests cover the encrypted store).
func openStore(t testing.TB) *store.Store {
	t.Helper()
	b := file.New(nil)
	if err := sdk.Configure(context.Background(), b, sdk.ConfigValue{"root": t.TempDir(), "fsync": false}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s, err := store.New(store.Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a test clock that moves one second per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newService(t testing.TB, o Options) (*Service, *store.Store) {
	t.Helper()
	s := openStore(t)
	if o.Now == nil {
		o.Now = newClock().now
	}
	return New(s, o), s
}

var alice = Caller{Tenant: "alice", KeyID: "key-alice-1"}

func ptr[T any](v T) *T { return &v }

var storeListAll = store.ListOpts{Limit: 1000}
