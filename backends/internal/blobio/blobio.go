// Package blobio holds the stream handling the storage backends share:
// reading a caller's stream in bounded pieces that stop as soon as the
// call's context ends, and handing a stored blob back as a stream that
// checks its size and context, or whole.
package blobio

import (
	"context"
	"io"
)

// Piece is the most ReadFull asks of a stream in one Read, so that a
// canceled context is noticed within one piece of a large buffer.
const Piece = 256 << 10

// ReadFull is io.ReadFull that reads at most Piece bytes per Read and stops
// with the context's error once ctx is done.
func ReadFull(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf[n:min(len(buf), n+Piece)])
		n += m
		if err != nil {
			if err == io.EOF {
				if n == 0 {
					return 0, io.EOF
				}
				if n < len(buf) {
					return n, io.ErrUnexpectedEOF
				}
				return n, nil
			}
			return n, err
		}
	}
	return n, ctx.Err()
}

// Reader returns r wrapped so that every Read first checks ctx.
func Reader(ctx context.Context, r io.Reader) io.Reader { return &ctxReader{ctx: ctx, r: r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > Piece {
		p = p[:Piece]
	}
	return c.r.Read(p)
}
