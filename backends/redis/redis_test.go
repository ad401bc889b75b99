package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// open returns a store in a fresh namespace (prefix) of the server at addr.
func open(t testing.TB, addr string, extra sdk.ConfigValue) *Store {
	t.Helper()
	cfg := sdk.ConfigValue{"url": "redis://" + addr + "/0", "prefix": "t" + testsvc.RandomToken(6) + ":"}
	return backendtest.Open(t, New(hclog.NewNullLogger()), backendtest.With(cfg, extra))
}

func TestConformance(t *testing.T) {
	addr := testsvc.Redis(t)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore { return open(t, addr, nil) },
	})
}

// TestConformanceSmallChunks runs the suite with chunks small enough that
// every large blob, stream and contended write spans many chunks.
func TestConformanceSmallChunks(t *testing.T) {
	addr := testsvc.Redis(t)
	plugintest.RunBlobStore(t, plugintest.BlobHarness{
		Open: func(t *testing.T) sdk.BlobStore { return open(t, addr, sdk.ConfigValue{"chunk_size": 64 << 10}) },
	})
}

func TestConfigureErrors(t *testing.T) {
	const secret = "hunter2-very-secret"
	for _, tc := range []struct {
		cfg  sdk.ConfigValue
		attr string
	}{
		{sdk.ConfigValue{"url": "http://user:" + secret + "@localhost"}, "url"},
		{sdk.ConfigValue{"url": "redis://user:" + secret + "@localhost/notanumber"}, "url"},
		{sdk.ConfigValue{"url": "::" + secret}, "url"},
		{sdk.ConfigValue{"url": "redis://localhost", "ttl": "soon"}, "ttl"},
		{sdk.ConfigValue{"url": "redis://localhost", "ttl": "10ms"}, "ttl"},
		{sdk.ConfigValue{"url": "redis://localhost", "chunk_size": 100}, "chunk_size"},
		{sdk.ConfigValue{"url": "redis://localhost", "chunk_size": 1.5e6 + 0.5}, "chunk_size"},
	} {
		s := New(nil)
		err := s.Configure(t.Context(), tc.cfg)
		var ce sdk.ConfigErrors
		if !errors.As(err, &ce) || len(ce) == 0 || ce[0].Attribute != tc.attr {
			t.Errorf("%v: got %v, want a ConfigError on %q", tc.cfg["ttl"], err, tc.attr)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the password: %v", err)
		}
	}
}

func TestWrongPasswordIsUnauthorizedAndRedacted(t *testing.T) {
	addr := testsvc.Redis(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	if err := c.ConfigSet(t.Context(), "requirepass", "right-password").Err(); err != nil {
		t.Fatal(err)
	}
	s := New(nil)
	err := s.Configure(t.Context(), sdk.ConfigValue{"url": "redis://:wrong-password-xyz@" + addr})
	if !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("wrong password: got %v, want ErrUnauthorized", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-password-xyz") {
		t.Errorf("error quotes the password: %v", err)
	}
	if err := s.Configure(t.Context(), sdk.ConfigValue{"url": "redis://:right-password@" + addr}); err != nil {
		t.Errorf("right password: %v", err)
	}
	s.Close()
}

func TestTLS(t *testing.T) {
	addr, ca := testsvc.RedisTLS(t)
	s := New(nil)
	if err := s.Configure(t.Context(), sdk.ConfigValue{"url": "rediss://" + addr + "/0", "tls_ca_file": ca}); err != nil {
		t.Fatalf("rediss with the server's CA: %v", err)
	}
	defer s.Close()
	if _, err := s.Put(t.Context(), "k", []byte("v"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// Without the CA the certificate is not trusted.
	err := New(nil).Configure(t.Context(), sdk.ConfigValue{"url": "rediss://" + addr + "/0"})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("rediss without the CA: %v, want a certificate error", err)
	}
	// A CA file with a plain redis:// url is a mistake worth reporting.
	err = New(nil).Configure(t.Context(), sdk.ConfigValue{"url": "redis://" + addr, "tls_ca_file": ca})
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || ce[0].Attribute != "tls_ca_file" {
		t.Errorf("CA with redis://: %v", err)
	}
	err = New(nil).Configure(t.Context(), sdk.ConfigValue{"url": "rediss://" + addr, "tls_ca_file": t.TempDir() + "/none.pem"})
	if !errors.As(err, &ce) || ce[0].Attribute != "tls_ca_file" {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	s := New(nil)
	err := s.Configure(t.Context(), sdk.ConfigValue{"url": "redis://127.0.0.1:1"})
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("got %v, want ErrUnavailable", err)
	}
}

func TestUnixSocket(t *testing.T) {
	sock := testsvc.RedisUnix(t)
	s := New(nil)
	if err := s.Configure(t.Context(), sdk.ConfigValue{"url": "unix://" + sock}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(t.Context(), "k", []byte("v"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Get(t.Context(), "k")
	if err != nil || string(got) != "v" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}

// Test64MiB stores and streams back a 64 MiB blob.
func Test64MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB round trip in -short mode")
	}
	s := open(t, testsvc.Redis(t), nil)
	data := make([]byte, 64<<20)
	rand.Read(data)
	m, err := s.PutReader(t.Context(), "big", bytes.NewReader(data), -1, sdk.PutOptions{IfNoneMatch: "*"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != int64(len(data)) {
		t.Fatalf("size %d", m.Size)
	}
	got, _, err := s.Get(t.Context(), "big")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get: %d bytes, equal=%v, %v", len(got), bytes.Equal(got, data), err)
	}
	rc, _, err := s.GetReader(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(streamed, data) {
		t.Fatalf("GetReader: %d bytes, %v", len(streamed), err)
	}
}

// countKeys counts Redis keys under a store's prefix.
func countKeys(t *testing.T, s *Store, pattern string) int {
	t.Helper()
	c, _ := s.cur.Get()
	keys, err := c.client.Keys(t.Context(), c.prefix+pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// TestOldChunksRetireAndFailedWritesLeaveNothing: overwrites and deletes
// leave old chunks only on a grace expiry, and an aborted stream leaves no
// chunks at all.
func TestOldChunksRetireAndFailedWritesLeaveNothing(t *testing.T) {
	s := open(t, testsvc.Redis(t), sdk.ConfigValue{"chunk_size": 4096})
	ctx := t.Context()
	c, _ := s.cur.Get()
	m1, err := s.Put(ctx, "k", make([]byte, 3*4096+1), sdk.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, "c:*"); n != 4 {
		t.Fatalf("%d chunk keys after a 4-chunk write", n)
	}
	for i := range 4 {
		if ttl := c.client.PTTL(ctx, c.chunkKey(mustVersion(m1.ETag), i)).Val(); ttl != -1 {
			t.Errorf("committed chunk %d has expiry %v", i, ttl)
		}
	}
	if _, err := s.Put(ctx, "k", []byte("small"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		ttl := c.client.PTTL(ctx, c.chunkKey(mustVersion(m1.ETag), i)).Val()
		if ttl <= 0 || ttl > graceTTL {
			t.Errorf("superseded chunk %d: expiry %v, want within the %v grace", i, ttl, graceTTL)
		}
	}
	before := countKeys(t, s, "c:*")
	bad := io.MultiReader(bytes.NewReader(make([]byte, 5*4096)), iotestErrReader{})
	if _, err := s.PutReader(ctx, "k2", bad, -1, sdk.PutOptions{}); err == nil {
		t.Fatal("failing reader accepted")
	}
	if after := countKeys(t, s, "c:*"); after != before {
		t.Errorf("failed write left %d chunk keys", after-before)
	}
	if n := countKeys(t, s, "m:k2"); n != 0 {
		t.Errorf("failed write left metadata")
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

// TestStreamSurvivesOverwrite: a stream opened before an overwrite reads the
// old version whole.
func TestStreamSurvivesOverwrite(t *testing.T) {
	s := open(t, testsvc.Redis(t), sdk.ConfigValue{"chunk_size": 4096})
	ctx := t.Context()
	old := bytes.Repeat([]byte("o"), 10*4096)
	if _, err := s.Put(ctx, "k", old, sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.GetReader(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "k", bytes.Repeat([]byte("n"), 10*4096), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k", sdk.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(head, rest...); !bytes.Equal(got, old) {
		t.Fatal("stream mixed versions")
	}
}

// TestExpiredChunkFailsStream: once the grace period is over, a stream of a
// replaced blob fails rather than returning a mix.
func TestExpiredChunkFailsStream(t *testing.T) {
	s := open(t, testsvc.Redis(t), sdk.ConfigValue{"chunk_size": 4096})
	ctx := t.Context()
	m, err := s.Put(ctx, "k", bytes.Repeat([]byte("o"), 3*4096), sdk.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.GetReader(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := s.Put(ctx, "k", []byte("new"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.cur.Get()
	c.client.Del(ctx, c.chunkKey(mustVersion(m.ETag), 1)) // what the grace expiry would do
	_, err = io.ReadAll(rc)
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	got, _, err := s.Get(ctx, "k")
	if err != nil || string(got) != "new" {
		t.Fatalf("Get after: %q, %v", got, err)
	}
}

func TestTTL(t *testing.T) {
	s := open(t, testsvc.Redis(t), sdk.ConfigValue{"ttl": "1s", "chunk_size": 4096})
	ctx := t.Context()
	for i := range 3 {
		if _, err := s.Put(ctx, fmt.Sprintf("k%d", i), make([]byte, 2*4096), sdk.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.List(ctx, sdk.ListOptions{})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("before expiry: %d items, %v", len(page.Items), err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.Stat(ctx, "k0")
		if errors.Is(err, sdk.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("blob did not expire: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	page, err = s.List(ctx, sdk.ListOptions{})
	if err != nil || len(page.Items) != 0 {
		t.Fatalf("after expiry List = %d items, %v", len(page.Items), err)
	}
	c, _ := s.cur.Get()
	if n := c.client.ZCard(ctx, c.indexKey()).Val(); n != 0 {
		t.Errorf("index keeps %d expired entries after a List", n)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		in, out string
		ok      bool
	}{{"", "", false}, {"a", "b", true}, {"a\xff", "b", true}, {"\xff\xff", "", false}, {"ab", "ac", true}} {
		out, ok := prefixEnd(tc.in)
		if out != tc.out || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v", tc.in, out, ok)
		}
	}
}

// TestSeparateNamespaces: two prefixes on one server never see each other.
func TestSeparateNamespaces(t *testing.T) {
	addr := testsvc.Redis(t)
	a, b := open(t, addr, nil), open(t, addr, nil)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() {
			for j := range 20 {
				if _, err := s.Put(context.Background(), fmt.Sprintf("k%d", j), []byte{byte(i)}, sdk.PutOptions{}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i, s := range []*Store{a, b} {
		page, err := s.List(t.Context(), sdk.ListOptions{})
		if err != nil || len(page.Items) != 20 {
			t.Fatalf("store %d lists %d keys, %v", i, len(page.Items), err)
		}
		got, _, _ := s.Get(t.Context(), "k3")
		if !bytes.Equal(got, []byte{byte(i)}) {
			t.Errorf("store %d reads %v", i, got)
		}
	}
}

func TestEmptyContentTypeRoundTrips(t *testing.T) {
	backendtest.EmptyContentTypeRoundTrips(t, open(t, testsvc.Redis(t), nil))
}
