package blobio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/vire-dev/vire/sdk"
)

func TestReadFull(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 3*Piece+5)
	for _, tc := range []struct {
		name    string
		r       io.Reader
		buf     int
		wantN   int
		wantErr error
	}{
		{"exact", bytes.NewReader(data), len(data), len(data), nil},
		{"short", bytes.NewReader(data[:10]), 20, 10, io.ErrUnexpectedEOF},
		{"empty", bytes.NewReader(nil), 20, 0, io.EOF},
		{"zero buffer", bytes.NewReader(data), 0, 0, nil},
		{"half reads", iotest.HalfReader(bytes.NewReader(data)), len(data), len(data), nil},
		{"data then EOF", iotest.DataErrReader(bytes.NewReader(data[:7])), 7, 7, nil},
		{"failing", iotest.ErrReader(errors.New("boom")), 5, 0, nil},
	} {
		buf := make([]byte, tc.buf)
		n, err := ReadFull(context.Background(), tc.r, buf)
		if n != tc.wantN || (tc.name != "failing" && !errors.Is(err, tc.wantErr)) || (tc.name == "failing" && err == nil) {
			t.Errorf("%s: n=%d err=%v, want n=%d err=%v", tc.name, n, err, tc.wantN, tc.wantErr)
		}
	}
}

// cancelAfter cancels once a given number of bytes has been read.
type cancelAfter struct {
	r      io.Reader
	read   int
	at     int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	if c.read >= c.at {
		c.cancel()
	}
	return n, err
}

func TestReadFullStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancelAfter{r: bytes.NewReader(make([]byte, 4*Piece)), at: Piece / 2, cancel: cancel}
	n, err := ReadFull(ctx, r, make([]byte, 4*Piece))
	if !errors.Is(err, context.Canceled) || n > Piece {
		t.Fatalf("n=%d err=%v: want a stop within one piece with context.Canceled", n, err)
	}
}

func TestReaderStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := Reader(ctx, bytes.NewReader(make([]byte, 10)))
	if _, err := r.Read(make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(make([]byte, 3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err=%v", err)
	}
}

// closeCounter is an io.ReadCloser that counts Close calls.
type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestSizedReader(t *testing.T) {
	boom := errors.New("boom")
	classify := func(err error) error { return fmt.Errorf("classified: %w", err) }
	data := []byte("0123456789")
	for _, tc := range []struct {
		name    string
		r       io.Reader
		want    int64
		got     string
		errText string
		kind    error
	}{
		{"whole", bytes.NewReader(data), 10, "0123456789", "", nil},
		{"half reads", iotest.HalfReader(bytes.NewReader(data)), 10, "0123456789", "", nil},
		{"short", bytes.NewReader(data[:4]), 10, "0123", "test: stream ended after 4 of 10 bytes", sdk.ErrUnavailable},
		{"long", bytes.NewReader(data), 4, "0123456789", "test: stream ended after 10 of 4 bytes", sdk.ErrUnavailable},
		{"failing", io.MultiReader(bytes.NewReader(data[:3]), iotest.ErrReader(boom)), 10, "012", "test: reading blob: classified: boom", boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &closeCounter{Reader: tc.r}
			r := SizedReader(context.Background(), rc, tc.want, "test", classify)
			got, err := io.ReadAll(r)
			if string(got) != tc.got {
				t.Errorf("read %q, want %q", got, tc.got)
			}
			switch {
			case tc.kind == nil && err != nil:
				t.Errorf("err = %v", err)
			case tc.kind != nil && (!errors.Is(err, tc.kind) || !strings.HasPrefix(err.Error(), tc.errText)):
				t.Errorf("err = %v, want %q wrapping %v", err, tc.errText, tc.kind)
			}
			if err := r.Close(); err != nil || rc.closed != 1 {
				t.Errorf("Close = %v, closed %d times", err, rc.closed)
			}
		})
	}
}

func TestSizedReaderStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := SizedReader(ctx, io.NopCloser(bytes.NewReader(make([]byte, 10))), 10, "test", func(err error) error { return err })
	if _, err := r.Read(make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := r.Read(make([]byte, 3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err=%v", err)
	}
}

func TestWhole(t *testing.T) {
	rc := &closeCounter{Reader: iotest.HalfReader(bytes.NewReader([]byte("blob")))}
	m := sdk.Meta{Size: 4, ETag: "e"}
	got, gm, err := Whole(rc, m, nil)
	if err != nil || string(got) != "blob" || gm != m || rc.closed != 1 {
		t.Errorf("Whole = %q, %+v, %v; closed %d times", got, gm, err, rc.closed)
	}
	notFound := fmt.Errorf("x: %w", sdk.ErrNotFound)
	if got, gm, err := Whole(nil, sdk.Meta{Size: 3}, notFound); err != notFound || got != nil || gm != (sdk.Meta{}) {
		t.Errorf("Whole of a failed GetReader = %q, %+v, %v", got, gm, err)
	}
	boom := errors.New("boom")
	rc = &closeCounter{Reader: io.MultiReader(bytes.NewReader([]byte("bl")), iotest.ErrReader(boom))}
	if got, gm, err := Whole(rc, m, nil); !errors.Is(err, boom) || got != nil || gm != (sdk.Meta{}) || rc.closed != 1 {
		t.Errorf("Whole of a failing stream = %q, %+v, %v; closed %d times", got, gm, err, rc.closed)
	}
}

func TestShortStream(t *testing.T) {
	err := ShortStream("test", 3, 10)
	if !errors.Is(err, sdk.ErrInvalidArgument) || err.Error() != "test: stream ended after 3 of the announced 10 bytes: "+sdk.ErrInvalidArgument.Error() {
		t.Errorf("ShortStream = %v", err)
	}
}
