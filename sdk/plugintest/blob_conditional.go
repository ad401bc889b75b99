package plugintest

import (
	"bytes"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

// conditional checks IfMatch / IfNoneMatch on writes and deletes. A store
// whose Capabilities deny ConditionalWrite must refuse every conditional
// operation with ErrUnsupported and change nothing.
func (b *blobSuite) conditional(t *testing.T) {
	probe := b.open(t)
	if !probe.Capabilities().ConditionalWrite {
		b.conditionalUnsupported(t)
		return
	}

	t.Run("IfNoneMatchCreatesOnce", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m, err := s.Put(ctx, "k", []byte("first"), sdk.PutOptions{IfNoneMatch: "*"})
		noErr(t, err, "Put IfNoneMatch * of a new key")
		_, err = s.Put(ctx, "k", []byte("second"), sdk.PutOptions{IfNoneMatch: "*"})
		wantKind(t, err, sdk.ErrPrecondition, "Put IfNoneMatch * of an existing key")
		_, err = s.PutReader(ctx, "k", bytes.NewReader([]byte("third")), 5, sdk.PutOptions{IfNoneMatch: "*"})
		wantKind(t, err, sdk.ErrPrecondition, "PutReader IfNoneMatch * of an existing key")
		expectBlob(t, s, "k", "first", m.ETag)
	})

	t.Run("IfMatchCurrentETag", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m1, err := s.Put(ctx, "k", []byte("v1"), sdk.PutOptions{})
		noErr(t, err, "Put v1")
		m2, err := s.Put(ctx, "k", []byte("v2"), sdk.PutOptions{IfMatch: m1.ETag})
		noErr(t, err, "Put IfMatch current ETag")
		_, err = s.Put(ctx, "k", []byte("v3"), sdk.PutOptions{IfMatch: m1.ETag})
		wantKind(t, err, sdk.ErrPrecondition, "Put IfMatch stale ETag")
		_, err = s.PutReader(ctx, "k", bytes.NewReader([]byte("v3")), 2, sdk.PutOptions{IfMatch: m1.ETag})
		wantKind(t, err, sdk.ErrPrecondition, "PutReader IfMatch stale ETag")
		expectBlob(t, s, "k", "v2", m2.ETag)
		m3, err := s.PutReader(ctx, "k", bytes.NewReader([]byte("v3")), 2, sdk.PutOptions{IfMatch: m2.ETag})
		noErr(t, err, "PutReader IfMatch current ETag")
		expectBlob(t, s, "k", "v3", m3.ETag)
	})

	t.Run("IfMatchMissingKey", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		_, err := s.Put(ctx, "k", []byte("v"), sdk.PutOptions{IfMatch: "no-such-etag"})
		wantKind(t, err, sdk.ErrPrecondition, "Put IfMatch of a missing key")
		_, err = s.Stat(ctx, "k")
		wantKind(t, err, sdk.ErrNotFound, "Stat after a failed IfMatch Put")
	})

	t.Run("ETagDiesWithDelete", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m, err := s.Put(ctx, "k", []byte("v1"), sdk.PutOptions{})
		noErr(t, err, "Put")
		noErr(t, s.Delete(ctx, "k", sdk.DeleteOptions{}), "Delete")
		_, err = s.Put(ctx, "k", []byte("v2"), sdk.PutOptions{IfMatch: m.ETag})
		wantKind(t, err, sdk.ErrPrecondition, "Put IfMatch of the deleted blob's ETag")
		m2, err := s.Put(ctx, "k", []byte("v3"), sdk.PutOptions{IfNoneMatch: "*"})
		noErr(t, err, "Put IfNoneMatch * after Delete")
		expectBlob(t, s, "k", "v3", m2.ETag)
	})

	t.Run("InvalidIfNoneMatch", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		_, err := s.Put(ctx, "k", []byte("v"), sdk.PutOptions{IfNoneMatch: "some-etag"})
		wantKind(t, err, sdk.ErrInvalidArgument, "Put IfNoneMatch other than *")
		_, err = s.Stat(ctx, "k")
		wantKind(t, err, sdk.ErrNotFound, "Stat after a rejected Put")
	})

	t.Run("ConditionalDelete", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m1, err := s.Put(ctx, "k", []byte("v1"), sdk.PutOptions{})
		noErr(t, err, "Put v1")
		m2, err := s.Put(ctx, "k", []byte("v2"), sdk.PutOptions{})
		noErr(t, err, "Put v2")
		wantKind(t, s.Delete(ctx, "k", sdk.DeleteOptions{IfMatch: m1.ETag}), sdk.ErrPrecondition,
			"Delete IfMatch stale ETag")
		expectBlob(t, s, "k", "v2", m2.ETag)
		noErr(t, s.Delete(ctx, "k", sdk.DeleteOptions{IfMatch: m2.ETag}), "Delete IfMatch current ETag")
		_, err = s.Stat(ctx, "k")
		wantKind(t, err, sdk.ErrNotFound, "Stat after conditional Delete")
		wantKind(t, s.Delete(ctx, "k", sdk.DeleteOptions{IfMatch: m2.ETag}), sdk.ErrPrecondition,
			"Delete IfMatch of a missing key")
	})
}

func (b *blobSuite) conditionalUnsupported(t *testing.T) {
	t.Run("ConditionsUnsupported", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m, err := s.Put(ctx, "k", []byte("v1"), sdk.PutOptions{})
		noErr(t, err, "unconditional Put")
		_, err = s.Put(ctx, "k", []byte("v2"), sdk.PutOptions{IfMatch: m.ETag})
		wantKind(t, err, sdk.ErrUnsupported, "Put IfMatch on a store without ConditionalWrite")
		_, err = s.Put(ctx, "new", []byte("v2"), sdk.PutOptions{IfNoneMatch: "*"})
		wantKind(t, err, sdk.ErrUnsupported, "Put IfNoneMatch on a store without ConditionalWrite")
		_, err = s.PutReader(ctx, "k", bytes.NewReader([]byte("v2")), 2, sdk.PutOptions{IfMatch: m.ETag})
		wantKind(t, err, sdk.ErrUnsupported, "PutReader IfMatch on a store without ConditionalWrite")
		wantKind(t, s.Delete(ctx, "k", sdk.DeleteOptions{IfMatch: m.ETag}), sdk.ErrUnsupported,
			"Delete IfMatch on a store without ConditionalWrite")
		expectBlob(t, s, "k", "v1", m.ETag)
		_, err = s.Stat(ctx, "new")
		wantKind(t, err, sdk.ErrNotFound, "Stat of a key whose unsupported conditional Put was refused")
	})
}

// expectBlob checks that key holds want under etag.
func expectBlob(t *testing.T, s sdk.BlobStore, key, want, etag string) {
	t.Helper()
	got, m, err := s.Get(ctxFor(t), key)
	if err != nil {
		t.Errorf("Get %q: %v", key, err)
		return
	}
	if string(got) != want {
		t.Errorf("Get %q = %q, want %q", key, got, want)
	}
	if etag != "" && m.ETag != etag {
		t.Errorf("Get %q: ETag %q, want %q", key, m.ETag, etag)
	}
}
