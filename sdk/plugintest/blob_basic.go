package plugintest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// clockSkew bounds how far a store's Modified may sit from the test's clock;
// remote stores stamp times with their own clocks.
const clockSkew = 5 * time.Minute

// RunBlobStore runs the BlobStore conformance suite against the stores that
// h.Open returns.
func RunBlobStore(t *testing.T, h BlobHarness) {
	t.Helper()
	if h.Open == nil {
		t.Fatal("plugintest: BlobHarness.Open is nil")
	}
	b := &blobSuite{h: h}
	t.Run("Basics", b.basics)
	t.Run("Conditional", b.conditional)
	t.Run("Keys", b.keys)
	t.Run("Streams", b.streams)
	t.Run("Concurrency", b.concurrency)
	t.Run("List", b.list)
	t.Run("Versions", b.versions)
}

type blobSuite struct {
	h BlobHarness
}

func (b *blobSuite) open(t *testing.T) sdk.BlobStore {
	t.Helper()
	s := b.h.Open(t)
	if s == nil {
		t.Fatal("BlobHarness.Open returned nil")
	}
	return s
}

// largeSize is the size of the suite's large blobs: over 5 MiB (past gRPC's
// default 4 MiB message limit) unless the store declares a smaller maximum.
func (b *blobSuite) largeSize(t *testing.T) int {
	n := int64(5<<20 + 12345)
	if b.h.MaxBlob > 0 && b.h.MaxBlob < n {
		t.Logf("store accepts at most %d bytes: large blobs use that size", b.h.MaxBlob)
		n = b.h.MaxBlob
	}
	return int(n)
}

func (b *blobSuite) basics(t *testing.T) {
	t.Run("MissingKey", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		_, _, err := s.Get(ctx, "missing")
		wantKind(t, err, sdk.ErrNotFound, "Get of a missing key")
		rc, _, err := s.GetReader(ctx, "missing")
		if rc != nil {
			rc.Close()
		}
		wantKind(t, err, sdk.ErrNotFound, "GetReader of a missing key")
		_, err = s.Stat(ctx, "missing")
		wantKind(t, err, sdk.ErrNotFound, "Stat of a missing key")
		wantKind(t, s.Delete(ctx, "missing", sdk.DeleteOptions{}), sdk.ErrNotFound, "Delete of a missing key")
		page, err := s.List(ctx, sdk.ListOptions{})
		noErr(t, err, "List of an empty store")
		if len(page.Items) != 0 || page.NextCursor != "" {
			t.Errorf("List of an empty store: got %d items, cursor %q; want none", len(page.Items), page.NextCursor)
		}
	})

	t.Run("EmptyKeyRejected", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		_, _, err := s.Get(ctx, "")
		wantKind(t, err, sdk.ErrInvalidArgument, "Get(\"\")")
		rc, _, err := s.GetReader(ctx, "")
		if rc != nil {
			rc.Close()
		}
		wantKind(t, err, sdk.ErrInvalidArgument, "GetReader(\"\")")
		_, err = s.Put(ctx, "", []byte("x"), sdk.PutOptions{})
		wantKind(t, err, sdk.ErrInvalidArgument, "Put(\"\")")
		_, err = s.PutReader(ctx, "", bytes.NewReader([]byte("x")), 1, sdk.PutOptions{})
		wantKind(t, err, sdk.ErrInvalidArgument, "PutReader(\"\")")
		_, err = s.Stat(ctx, "")
		wantKind(t, err, sdk.ErrInvalidArgument, "Stat(\"\")")
		wantKind(t, s.Delete(ctx, "", sdk.DeleteOptions{}), sdk.ErrInvalidArgument, "Delete(\"\")")
		page, err := s.List(ctx, sdk.ListOptions{})
		noErr(t, err, "List")
		if len(page.Items) != 0 {
			t.Errorf("rejected writes left %d keys behind", len(page.Items))
		}
	})

	t.Run("RoundTripAndMeta", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		before := time.Now()
		data := []byte("hello, vire")
		m, err := s.Put(ctx, "users/alice/strategy/main", data, sdk.PutOptions{ContentType: "application/json"})
		noErr(t, err, "Put")
		after := time.Now()
		checkMeta(t, "Put", m, int64(len(data)), "application/json", before, after)

		got, gm, err := s.Get(ctx, "users/alice/strategy/main")
		noErr(t, err, "Get")
		if !bytes.Equal(got, data) {
			t.Errorf("Get returned %q, want %q", got, data)
		}
		checkMeta(t, "Get", gm, int64(len(data)), "application/json", before, after)
		sameETag(t, "Get", gm, m)

		sm, err := s.Stat(ctx, "users/alice/strategy/main")
		noErr(t, err, "Stat")
		checkMeta(t, "Stat", sm, int64(len(data)), "application/json", before, after)
		sameETag(t, "Stat", sm, m)

		rc, rm, err := s.GetReader(ctx, "users/alice/strategy/main")
		noErr(t, err, "GetReader")
		streamed, err := io.ReadAll(rc)
		noErr(t, err, "reading GetReader")
		noErr(t, rc.Close(), "closing GetReader")
		if !bytes.Equal(streamed, data) {
			t.Errorf("GetReader returned %q, want %q", streamed, data)
		}
		checkMeta(t, "GetReader", rm, int64(len(data)), "application/json", before, after)
		sameETag(t, "GetReader", rm, m)
	})

	t.Run("OverwriteChangesETagAndMeta", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m1, err := s.Put(ctx, "k", []byte("first version"), sdk.PutOptions{ContentType: "text/plain"})
		noErr(t, err, "first Put")
		m2, err := s.Put(ctx, "k", []byte("second"), sdk.PutOptions{ContentType: "application/octet-stream"})
		noErr(t, err, "second Put")
		if m1.ETag == m2.ETag {
			t.Errorf("overwriting with different bytes kept ETag %q", m1.ETag)
		}
		got, gm, err := s.Get(ctx, "k")
		noErr(t, err, "Get")
		if string(got) != "second" || gm.Size != 6 || gm.ContentType != "application/octet-stream" {
			t.Errorf("after overwrite Get = %q size %d type %q; want %q size 6 type application/octet-stream",
				got, gm.Size, gm.ContentType, "second")
		}
		sameETag(t, "Get after overwrite", gm, m2)
		if gm.Modified.Before(m1.Modified.Add(-time.Second)) {
			t.Errorf("Modified went back from %v to %v", m1.Modified, gm.Modified)
		}
	})

	t.Run("ETagChangesOnEveryWrite", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		seen := map[string]int{}
		for i := range 12 {
			m, err := s.Put(ctx, "counter", fmt.Appendf(nil, "value %d", i), sdk.PutOptions{})
			noErr(t, err, "Put")
			if m.ETag == "" {
				t.Fatalf("write %d returned an empty ETag", i)
			}
			if j, dup := seen[m.ETag]; dup {
				t.Errorf("write %d returned ETag %q already returned by write %d", i, m.ETag, j)
			}
			seen[m.ETag] = i
		}
	})

	t.Run("DataIsCopied", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		data := []byte("original")
		_, err := s.Put(ctx, "k", data, sdk.PutOptions{})
		noErr(t, err, "Put")
		copy(data, "CLOBBER!")
		got, _, err := s.Get(ctx, "k")
		noErr(t, err, "Get")
		if string(got) != "original" {
			t.Fatalf("changing the caller's slice after Put changed the blob to %q", got)
		}
		copy(got, "CLOBBER!")
		again, _, err := s.Get(ctx, "k")
		noErr(t, err, "second Get")
		if string(again) != "original" {
			t.Errorf("changing a slice returned by Get changed the blob to %q", again)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		// Keys that share prefixes with the deleted one, and keys that would
		// be one another's parent directory in a file layout.
		keys := []string{"a", "a/b", "ab", "a/", "a//b", "b"}
		for _, k := range keys {
			_, err := s.Put(ctx, k, []byte("v:"+k), sdk.PutOptions{})
			noErr(t, err, "Put "+k)
		}
		noErr(t, s.Delete(ctx, "a", sdk.DeleteOptions{}), "Delete a")
		_, _, err := s.Get(ctx, "a")
		wantKind(t, err, sdk.ErrNotFound, "Get after Delete")
		_, err = s.Stat(ctx, "a")
		wantKind(t, err, sdk.ErrNotFound, "Stat after Delete")
		wantKind(t, s.Delete(ctx, "a", sdk.DeleteOptions{}), sdk.ErrNotFound, "second Delete")
		for _, k := range keys[1:] {
			got, _, err := s.Get(ctx, k)
			if err != nil || string(got) != "v:"+k {
				t.Errorf("deleting %q disturbed %q: got %q, %v", "a", k, got, err)
			}
		}
		page, err := s.List(ctx, sdk.ListOptions{})
		noErr(t, err, "List")
		if got := itemKeys(page.Items); !slices.Equal(got, []string{"a/", "a//b", "a/b", "ab", "b"}) {
			t.Errorf("List after Delete = %q", got)
		}
		// A deleted key can be written again.
		_, err = s.Put(ctx, "a", []byte("again"), sdk.PutOptions{})
		noErr(t, err, "Put after Delete")
		got, _, err := s.Get(ctx, "a")
		noErr(t, err, "Get after re-Put")
		if string(got) != "again" {
			t.Errorf("re-created key holds %q", got)
		}
	})

	t.Run("Health", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		noErr(t, s.Health(ctx), "Health of a configured store")
		if err := s.Schema().Validate(); err != nil {
			t.Errorf("Schema: %v", err)
		}
	})

	t.Run("CanceledContext", func(t *testing.T) {
		s := b.open(t)
		ctx, cancel := context.WithCancel(ctxFor(t))
		cancel()
		if _, err := s.Put(ctx, "k", []byte("x"), sdk.PutOptions{}); err == nil {
			t.Error("Put with a canceled context succeeded")
		}
		if _, _, err := s.Get(ctxFor(t), "k"); err == nil {
			t.Error("Put with a canceled context stored the blob")
		}
	})
}

func checkMeta(t *testing.T, what string, m sdk.Meta, size int64, contentType string, before, after time.Time) {
	t.Helper()
	if m.Size != size {
		t.Errorf("%s: Meta.Size = %d, want %d", what, m.Size, size)
	}
	if m.ETag == "" {
		t.Errorf("%s: Meta.ETag is empty", what)
	}
	if m.ContentType != contentType {
		t.Errorf("%s: Meta.ContentType = %q, want %q", what, m.ContentType, contentType)
	}
	if m.Modified.Before(before.Add(-clockSkew)) || m.Modified.After(after.Add(clockSkew)) {
		t.Errorf("%s: Meta.Modified = %v, want about %v", what, m.Modified, before)
	}
}

func sameETag(t *testing.T, what string, got, want sdk.Meta) {
	t.Helper()
	if got.ETag != want.ETag {
		t.Errorf("%s: ETag %q differs from the ETag %q that Put returned", what, got.ETag, want.ETag)
	}
}

func itemKeys(items []sdk.ListItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key
	}
	return out
}
