// Package servertest builds, for tests in several packages, the real parts
// a Vire server stands on: the file backend, an envelope-encrypted store
// keyed through the env key provider, a settable clock and a log buffer
// that concurrent writers can share. Routers and tenant services stay with
// the tests that use them, so that the packages under test can import this
// one from their own (internal) tests without an import cycle.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/sdk"
)

// FileBackend opens the file backend on dir, without fsync and keeping no
// earlier versions; opening one dir twice gives two server instances that
// share storage. It is closed when the test ends.
func FileBackend(t testing.TB, dir string) sdk.BlobStore {
	t.Helper()
	b := file.New(nil)
	if err := sdk.Configure(context.Background(), b, sdk.ConfigValue{"root": dir, "versions": 0, "fsync": false}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// NewMasterKey returns a fresh random 32-byte master key in base64, the
// form the env key provider takes.
func NewMasterKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// EnvSealer returns an envelope encrypter over b whose data keys are
// wrapped by the env key provider with masterKey (base64). Stores that
// share b and masterKey read each other's documents.
func EnvSealer(t testing.TB, b sdk.BlobStore, layout store.Layout, masterKey string) *crypt.Envelope {
	t.Helper()
	kp := env.New(nil)
	if err := sdk.Configure(context.Background(), kp, sdk.ConfigValue{"master_key": masterKey}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kp.Close() })
	e, err := crypt.New(crypt.Options{Provider: kp, ProviderID: "env", Keyrings: store.NewKeyrings(b, layout)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// EncryptedStore opens a store with the options o, sealed by EnvSealer
// under a fresh master key, and fails the test unless it reports itself
// encrypted.
func EncryptedStore(t testing.TB, o store.Options) *store.Store {
	t.Helper()
	o.Sealer = EnvSealer(t, o.Backend, o.Layout, NewMasterKey())
	s, err := store.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Encrypted() {
		t.Fatal("the store is not encrypted")
	}
	return s
}

// AllBlobs returns every blob of a backend, key → bytes.
func AllBlobs(t testing.TB, b sdk.BlobStore) map[string][]byte {
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

// Send sends req with key as its bearer token (none when empty) and hdr as
// name, value pairs set last, and returns the response with its body read.
// A body cut short is returned as far as it came: callers assert on that.
func Send(t testing.TB, req *http.Request, key string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// Clock is a settable time source, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// SyncBuffer collects output, such as a logger's, from several goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
