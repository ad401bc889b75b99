package blobio

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/vire-dev/vire/sdk"
)

// SizedReader returns rc wrapped for a GetReader caller: every Read first
// checks ctx, a stream that ends short of want bytes fails with
// sdk.ErrUnavailable instead of a quiet io.EOF, and other read errors pass
// through classify. backend starts the error messages ("s3").
func SizedReader(ctx context.Context, rc io.ReadCloser, want int64, backend string, classify func(error) error) io.ReadCloser {
	return &sizedReader{ctx: ctx, rc: rc, want: want, backend: backend, classify: classify}
}

type sizedReader struct {
	ctx      context.Context
	rc       io.ReadCloser
	want     int64
	read     int64
	backend  string
	classify func(error) error
}

func (r *sizedReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.rc.Read(p)
	r.read += int64(n)
	if err == io.EOF && r.read != r.want {
		return n, fmt.Errorf("%s: stream ended after %d of %d bytes: %w", r.backend, r.read, r.want, sdk.ErrUnavailable)
	}
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("%s: reading blob: %w", r.backend, r.classify(err))
	}
	return n, err
}

func (r *sizedReader) Close() error { return r.rc.Close() }

// Whole reads and closes the stream a GetReader returned, so that Get is
// `return blobio.Whole(s.GetReader(ctx, key))`. The buffer is sized from
// m.Size up front.
func Whole(rc io.ReadCloser, m sdk.Meta, err error) ([]byte, sdk.Meta, error) {
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, m.Size+bytes.MinRead))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, sdk.Meta{}, err
	}
	return buf.Bytes(), m, nil
}

// ShortStream is the error of a PutReader whose stream ended after got of
// the size bytes it announced: the caller's mistake, so
// sdk.ErrInvalidArgument.
func ShortStream(backend string, got, size int64) error {
	return fmt.Errorf("%s: stream ended after %d of the announced %d bytes: %w", backend, got, size, sdk.ErrInvalidArgument)
}
