package plugintest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/vire-dev/vire/sdk"
)

// pattern returns n reproducible pseudo-random bytes: different seeds give
// different blobs, and no two offsets of one blob look alike, so a torn or
// shifted read is caught.
func pattern(n int, seed uint64) []byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

// errReaderFailed is what failingReader returns part way.
var errReaderFailed = errors.New("plugintest: reader failed on purpose")

// failingReader yields good bytes, then fails.
type failingReader struct {
	r io.Reader
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errReaderFailed
	}
	return n, err
}

// cancelingReader cancels a context once at bytes have been read, and keeps
// yielding data afterwards: a store that ignores the cancellation would
// complete the write.
type cancelingReader struct {
	r      io.Reader
	read   int
	at     int
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	if c.read >= c.at && c.cancel != nil {
		c.cancel()
		c.cancel = nil
	}
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (b *blobSuite) streams(t *testing.T) {
	t.Run("ZeroLength", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m, err := s.Put(ctx, "empty/put", nil, sdk.PutOptions{})
		noErr(t, err, "Put of zero bytes")
		if m.Size != 0 {
			t.Errorf("Put of zero bytes: Size %d", m.Size)
		}
		_, err = s.PutReader(ctx, "empty/sized", bytes.NewReader(nil), 0, sdk.PutOptions{})
		noErr(t, err, "PutReader of size 0")
		_, err = s.PutReader(ctx, "empty/unsized", bytes.NewReader(nil), -1, sdk.PutOptions{})
		noErr(t, err, "PutReader of an empty stream with unknown size")
		for _, k := range []string{"empty/put", "empty/sized", "empty/unsized"} {
			got, m, err := s.Get(ctx, k)
			if err != nil || len(got) != 0 || m.Size != 0 {
				t.Errorf("Get %q = %d bytes, size %d, %v; want an empty blob", k, len(got), m.Size, err)
			}
			rc, m, err := s.GetReader(ctx, k)
			if err != nil {
				t.Errorf("GetReader %q: %v", k, err)
				continue
			}
			got, err = io.ReadAll(rc)
			rc.Close()
			if err != nil || len(got) != 0 || m.Size != 0 {
				t.Errorf("GetReader %q = %d bytes, size %d, %v; want an empty blob", k, len(got), m.Size, err)
			}
		}
	})

	t.Run("LargePutGet", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		data := pattern(b.largeSize(t), 1)
		m, err := s.Put(ctx, "large", data, sdk.PutOptions{ContentType: "application/octet-stream"})
		noErr(t, err, "Put of a large blob")
		if m.Size != int64(len(data)) {
			t.Errorf("Put: Size %d, want %d", m.Size, len(data))
		}
		got, gm, err := s.Get(ctx, "large")
		noErr(t, err, "Get of a large blob")
		if !bytes.Equal(got, data) {
			t.Errorf("Get returned %d bytes that differ from the %d written", len(got), len(data))
		}
		if gm.Size != int64(len(data)) {
			t.Errorf("Get: Size %d, want %d", gm.Size, len(data))
		}
		b.expectStream(t, s, "large", data)
	})

	for _, tc := range []struct {
		name  string
		known bool
	}{{"LargePutReaderKnownSize", true}, {"LargePutReaderUnknownSize", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s, ctx := b.open(t), ctxFor(t)
			data := pattern(b.largeSize(t), 2)
			size := int64(-1)
			if tc.known {
				size = int64(len(data))
			}
			// HalfReader returns short reads, as networks do.
			m, err := s.PutReader(ctx, "large", iotest.HalfReader(bytes.NewReader(data)), size, sdk.PutOptions{})
			noErr(t, err, "PutReader of a large blob")
			if m.Size != int64(len(data)) {
				t.Errorf("PutReader: Size %d, want %d", m.Size, len(data))
			}
			got, _, err := s.Get(ctx, "large")
			noErr(t, err, "Get")
			if !bytes.Equal(got, data) {
				t.Errorf("Get returned %d bytes that differ from the %d streamed", len(got), len(data))
			}
			b.expectStream(t, s, "large", data)
		})
	}

	t.Run("PutReaderStopsAtSize", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m, err := s.PutReader(ctx, "k", bytes.NewReader([]byte("0123456789")), 4, sdk.PutOptions{})
		noErr(t, err, "PutReader of 4 bytes from a longer stream")
		if m.Size != 4 {
			t.Errorf("Size %d, want 4", m.Size)
		}
		expectBlob(t, s, "k", "0123", "")
	})

	t.Run("PutReaderShortStream", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		_, err := s.PutReader(ctx, "k", bytes.NewReader([]byte("0123")), 10, sdk.PutOptions{})
		if err == nil {
			t.Error("PutReader with 4 of 10 announced bytes succeeded")
		}
		_, err = s.Stat(ctx, "k")
		wantKind(t, err, sdk.ErrNotFound, "Stat after a short stream")
	})

	t.Run("PutReaderFailingReader", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		m, err := s.Put(ctx, "existing", []byte("old"), sdk.PutOptions{})
		noErr(t, err, "Put")
		for _, size := range []int64{3 << 20, -1} {
			bad := &failingReader{r: bytes.NewReader(pattern(1<<20+7, 3))}
			if _, err := s.PutReader(ctx, "existing", bad, size, sdk.PutOptions{}); err == nil {
				t.Errorf("PutReader (size %d) from a failing reader succeeded", size)
			}
			bad = &failingReader{r: bytes.NewReader(pattern(1<<20+7, 3))}
			if _, err := s.PutReader(ctx, "new", bad, size, sdk.PutOptions{}); err == nil {
				t.Errorf("PutReader (size %d) from a failing reader succeeded", size)
			}
		}
		expectBlob(t, s, "existing", "old", m.ETag)
		_, err = s.Stat(ctx, "new")
		wantKind(t, err, sdk.ErrNotFound, "Stat of a key whose only write failed")
		if keys := listAll(t, s, sdk.ListOptions{}); len(keys) != 1 {
			t.Errorf("failed writes left keys behind: %q", clipAll(keys))
		}
	})

	t.Run("CancelDuringPutReader", func(t *testing.T) {
		s := b.open(t)
		m, err := s.Put(ctxFor(t), "existing", []byte("old"), sdk.PutOptions{})
		noErr(t, err, "Put")
		for _, key := range []string{"existing", "new"} {
			for _, size := range []int64{2 << 20, -1} {
				ctx, cancel := context.WithCancel(ctxFor(t))
				r := &cancelingReader{r: bytes.NewReader(pattern(2<<20, 4)), at: 512 << 10, cancel: cancel}
				_, err := s.PutReader(ctx, key, r, size, sdk.PutOptions{})
				cancel()
				if err == nil {
					t.Errorf("PutReader %q (size %d) succeeded although its context was canceled mid-stream", key, size)
				}
			}
		}
		expectBlob(t, s, "existing", "old", m.ETag)
		_, err = s.Stat(ctxFor(t), "new")
		wantKind(t, err, sdk.ErrNotFound, "Stat of a key whose write was canceled")
	})

	t.Run("CancelDuringGetReader", func(t *testing.T) {
		s := b.open(t)
		data := pattern(b.largeSize(t), 5)
		_, err := s.Put(ctxFor(t), "large", data, sdk.PutOptions{})
		noErr(t, err, "Put")
		ctx, cancel := context.WithCancel(ctxFor(t))
		defer cancel()
		rc, _, err := s.GetReader(ctx, "large")
		noErr(t, err, "GetReader")
		head := make([]byte, 64<<10)
		_, err = io.ReadFull(rc, head)
		noErr(t, err, "reading the first 64 KiB")
		cancel()
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err == nil {
			t.Errorf("reading on after canceling the context delivered the remaining %d bytes without an error", n)
		}
		// The store keeps serving after a canceled stream.
		b.expectStream(t, s, "large", data)
	})
}

// expectStream reads key through GetReader in small pieces and compares.
func (b *blobSuite) expectStream(t *testing.T, s sdk.BlobStore, key string, want []byte) {
	t.Helper()
	rc, m, err := s.GetReader(ctxFor(t), key)
	if err != nil {
		t.Errorf("GetReader %q: %v", clip(key), err)
		return
	}
	defer rc.Close()
	if m.Size != int64(len(want)) {
		t.Errorf("GetReader %q: Size %d, want %d", clip(key), m.Size, len(want))
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, iotest.OneByteReader(io.LimitReader(rc, 3)), make([]byte, 1))
	if err == nil {
		var n2 int64
		n2, err = io.CopyBuffer(h, rc, make([]byte, 1000))
		n += n2
	}
	if err != nil {
		t.Errorf("reading %q: %v", clip(key), err)
		return
	}
	if n != int64(len(want)) || !bytes.Equal(h.Sum(nil), sha256Sum(want)) {
		t.Errorf("GetReader %q streamed %d bytes that differ from the %d expected", clip(key), n, len(want))
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
