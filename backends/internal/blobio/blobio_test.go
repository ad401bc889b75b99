package blobio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
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
