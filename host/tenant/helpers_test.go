package tenant

import (
	"testing"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/sdk"
)

// testMasterKey is a fixed 32-byte test key (base64), not a secret: stores
// opened on one directory must share it to read each other's documents.
const testMasterKey = "dGVzdC1tYXN0ZXIta2V5LW9mLTMyLWJ5dGVzLWxvbmc="

// newStore returns a hosted document store over b, encrypted when sealed.
func newStore(t testing.TB, b sdk.BlobStore, sealed bool) *store.Store {
	t.Helper()
	o := store.Options{Backend: b}
	if sealed {
		o.Sealer = servertest.EnvSealer(t, b, store.Layout{}, testMasterKey)
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

func newClock() *servertest.Clock {
	return servertest.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// newService returns a Service on a fresh file store and its clock.
func newService(t testing.TB) (*Service, *servertest.Clock, sdk.BlobStore) {
	t.Helper()
	b := servertest.FileBackend(t, t.TempDir())
	clk := newClock()
	s, err := New(Options{Store: newStore(t, b, true), Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk, b
}
