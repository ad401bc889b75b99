package gcs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"

	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/internal/backendtest"
	"github.com/vire-dev/vire/sdk"
)

func (e emulator) raw(t *testing.T) *storage.Client {
	t.Helper()
	c, err := storage.NewClient(t.Context(), option.WithEndpoint("http://"+e.host+"/storage/v1/"),
		option.WithoutAuthentication(), storage.WithJSONReads())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConfigureErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sdk.ConfigValue
		attr string
	}{
		{"no bucket", sdk.ConfigValue{"bucket": ""}, "bucket"},
		{"bad endpoint", sdk.ConfigValue{"bucket": "b", "endpoint": "127.0.0.1:4443"}, "endpoint"},
		{"endpoint with user", sdk.ConfigValue{"bucket": "b", "endpoint": "http://u:p@h"}, "endpoint"},
		{"odd chunk", sdk.ConfigValue{"bucket": "b", "chunk_size": 1000}, "chunk_size"},
		{"long prefix", sdk.ConfigValue{"bucket": "b", "prefix": strings.Repeat("p", 900)}, "prefix"},
	} {
		err := New(nil).Configure(t.Context(), tc.cfg)
		var ce sdk.ConfigErrors
		if !errors.As(err, &ce) || ce[0].Attribute != tc.attr {
			t.Errorf("%s: got %v, want a ConfigError on %q", tc.name, err, tc.attr)
		}
	}
}

func TestEndpointForms(t *testing.T) {
	e := startEmulator(t)
	for _, ep := range []string{"http://" + e.host, "http://" + e.host + "/", "http://" + e.host + "/storage/v1/"} {
		s := New(nil)
		if err := s.Configure(t.Context(), e.config(sdk.ConfigValue{"endpoint": ep})); err != nil {
			t.Errorf("endpoint %q: %v", ep, err)
			continue
		}
		if _, err := s.Put(t.Context(), "k", []byte("v"), sdk.PutOptions{}); err != nil {
			t.Errorf("endpoint %q: Put: %v", ep, err)
		}
		s.Close()
	}
}

func TestMissingBucketIsUnavailable(t *testing.T) {
	e := startEmulator(t)
	err := New(nil).Configure(t.Context(), e.config(sdk.ConfigValue{"bucket": "no-such-bucket"}))
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

// TestEmulatorHostVariable: with no endpoint, STORAGE_EMULATOR_HOST points
// the client at the emulator, as the GCS libraries do everywhere.
func TestEmulatorHostVariable(t *testing.T) {
	e := startEmulator(t)
	t.Setenv("STORAGE_EMULATOR_HOST", e.host)
	cfg := e.config(nil)
	delete(cfg, "endpoint")
	s := New(nil)
	if err := s.Configure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Put(t.Context(), "k", []byte("v"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestETagIsGeneration(t *testing.T) {
	e := startEmulator(t)
	s := open(t, e, sdk.ConfigValue{"prefix": "gen/"})
	m, err := s.Put(t.Context(), "k", []byte("v"), sdk.PutOptions{ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.raw(t).Bucket(e.bucket).Object("gen/k!").Attrs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m.ETag != etag(a.Generation) || a.ContentType != "text/plain" {
		t.Fatalf("ETag %q, object generation %d, type %q", m.ETag, a.Generation, a.ContentType)
	}
	for _, bad := range []string{"x", "-1", "0"} {
		if _, err := s.Put(t.Context(), "k", []byte("w"), sdk.PutOptions{IfMatch: bad}); !errors.Is(err, sdk.ErrPrecondition) {
			t.Errorf("IfMatch %q: %v", bad, err)
		}
		if err := s.Delete(t.Context(), "k", sdk.DeleteOptions{IfMatch: bad}); !errors.Is(err, sdk.ErrPrecondition) {
			t.Errorf("delete IfMatch %q: %v", bad, err)
		}
	}
}

func TestOverflowNameOfAnotherKey(t *testing.T) {
	e := startEmulator(t)
	s := open(t, e, nil)
	c, _ := s.cur.Get()
	key := strings.Repeat("K", 400)
	name, overflow := c.codec.Name(key)
	if !overflow {
		t.Fatal("key should overflow")
	}
	w := e.raw(t).Bucket(e.bucket).Object(name).NewWriter(t.Context())
	w.Metadata = map[string]string{metaKey: objname.MetaValue("other key")}
	w.Write([]byte("other"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(t.Context(), key); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), key, sdk.DeleteOptions{}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Delete: %v, want ErrNotFound", err)
	}
	if page, err := s.List(t.Context(), sdk.ListOptions{}); err != nil || len(page.Items) != 0 {
		t.Errorf("List: %d items, %v", len(page.Items), err)
	}
}

// TestFailedResumableUploadStoresNothing: a stream failing after several
// chunks were sent leaves neither an object nor a changed one.
func TestFailedResumableUploadStoresNothing(t *testing.T) {
	e := startEmulator(t)
	s := open(t, e, sdk.ConfigValue{"chunk_size": chunkUnit})
	ctx := t.Context()
	m, err := s.Put(ctx, "k", []byte("old"), sdk.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k", "new"} {
		bad := io.MultiReader(bytes.NewReader(make([]byte, 5*chunkUnit+3)), iotest.ErrReader(errors.New("boom")))
		if _, err := s.PutReader(ctx, key, bad, -1, sdk.PutOptions{}); err == nil {
			t.Errorf("%s: failing stream accepted", key)
		}
	}
	got, gm, err := s.Get(ctx, "k")
	if err != nil || string(got) != "old" || gm.ETag != m.ETag {
		t.Errorf("k = %q (%v)", got, err)
	}
	if _, err := s.Stat(ctx, "new"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("new: %v", err)
	}
}

func TestEmptyContentTypeRoundTrips(t *testing.T) {
	backendtest.EmptyContentTypeRoundTrips(t, open(t, startEmulator(t), nil))
}
