package gcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"cloud.google.com/go/storage"

	"github.com/vire-dev/vire/backends/internal/blobio"
	"github.com/vire-dev/vire/backends/internal/objname"
	"github.com/vire-dev/vire/sdk"
)

// etag is the ETag of a generation; generation parses one back (0 when the
// string is no generation, which never matches).
func etag(gen int64) string { return strconv.FormatInt(gen, 10) }

func generation(etag string) int64 {
	g, err := strconv.ParseInt(etag, 10, 64)
	if err != nil || g <= 0 {
		return 0
	}
	return g
}

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	return s.PutReader(ctx, key, bytes.NewReader(data), int64(len(data)), o)
}

// PutReader streams r to GCS (resumable uploads in chunk_size pieces). The
// object is finalised only after the whole stream was read; a failing,
// short or canceled stream aborts the upload and stores nothing.
func (s *Store) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	c, err := s.cur.ForPut(key, o)
	if err != nil {
		return sdk.Meta{}, err
	}
	name, overflow := c.codec.Name(key)
	obj := c.bucket.Object(name)
	conditional := true
	switch {
	case o.IfNoneMatch == "*":
		obj = obj.If(storage.Conditions{DoesNotExist: true})
	case o.IfMatch != "":
		g := generation(o.IfMatch)
		if g == 0 {
			return sdk.Meta{}, fmt.Errorf("gcs: put: ETag is no generation of this store: %w", sdk.ErrPrecondition)
		}
		obj = obj.If(storage.Conditions{GenerationMatch: g})
	default:
		conditional = false
	}
	if conditional {
		// A resent conditional write that had succeeded would report a
		// lost condition.
		obj = obj.Retryer(storage.WithPolicy(storage.RetryNever))
	}
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	w := obj.NewWriter(wctx)
	w.ChunkSize = c.chunkSize
	w.ContentType = o.ContentType
	if o.ContentType == "" {
		w.ContentType = untypedContentType
	}
	if overflow {
		w.Metadata = map[string]string{metaKey: objname.MetaValue(key)}
	}
	src := blobio.Reader(ctx, r)
	var n int64
	if size >= 0 {
		n, err = io.CopyN(w, src, size)
		if err == io.EOF {
			err = blobio.ShortStream("gcs", n, size)
		}
	} else {
		n, err = io.Copy(w, src)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		abort() // the upload is never finalised
		_ = w.Close()
		if errors.Is(err, sdk.ErrInvalidArgument) {
			return sdk.Meta{}, err
		}
		return sdk.Meta{}, fmt.Errorf("gcs: put: %w", classify(err))
	}
	if err := w.Close(); err != nil {
		return sdk.Meta{}, fmt.Errorf("gcs: put: %w", classify(err))
	}
	a := w.Attrs()
	return sdk.Meta{Size: n, ETag: etag(a.Generation), Modified: a.Updated.UTC(), ContentType: reportedType(a.ContentType)}, nil
}

// handle returns the object handle for key; for an overflow name it first
// checks that the object holds key and pins the generation it checked.
func (s *Store) handle(ctx context.Context, c *config, key string) (*storage.ObjectHandle, *storage.ObjectAttrs, error) {
	name, overflow := c.codec.Name(key)
	obj := c.bucket.Object(name)
	if !overflow {
		return obj, nil, nil
	}
	a, err := obj.Attrs(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gcs: %w", classify(err))
	}
	if stored, err := objname.ParseMetaValue(a.Metadata[metaKey]); err != nil || stored != key {
		return nil, nil, fmt.Errorf("gcs: overflow name holds another key: %w", sdk.ErrNotFound)
	}
	return obj.Generation(a.Generation), a, nil
}

func attrsMeta(a *storage.ObjectAttrs) sdk.Meta {
	return sdk.Meta{Size: a.Size, ETag: etag(a.Generation), Modified: a.Updated.UTC(), ContentType: reportedType(a.ContentType)}
}

// untypedContentType is stored for a blob written without a content type.
// An object without one would be served with a guessed or default type, so
// downloads and metadata would disagree; this marker reads back as "".
const untypedContentType = "application/octet-stream; vire=untyped"

func reportedType(stored string) string {
	if stored == untypedContentType {
		return ""
	}
	return stored
}

// Stat returns a blob's metadata.
func (s *Store) Stat(ctx context.Context, key string) (sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return sdk.Meta{}, err
	}
	obj, a, err := s.handle(ctx, c, key)
	if err != nil {
		return sdk.Meta{}, err
	}
	if a == nil {
		if a, err = obj.Attrs(ctx); err != nil {
			return sdk.Meta{}, fmt.Errorf("gcs: stat: %w", classify(err))
		}
	}
	return attrsMeta(a), nil
}

// GetReader streams a blob.
func (s *Store) GetReader(ctx context.Context, key string) (io.ReadCloser, sdk.Meta, error) {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	obj, _, err := s.handle(ctx, c, key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	r, err := obj.NewReader(ctx)
	if err != nil {
		return nil, sdk.Meta{}, fmt.Errorf("gcs: get: %w", classify(err))
	}
	a := r.Attrs
	m := sdk.Meta{Size: a.Size, ETag: etag(a.Generation), Modified: a.LastModified.UTC(), ContentType: reportedType(a.ContentType)}
	return blobio.SizedReader(ctx, r, a.Size, "gcs", classify), m, nil
}

// Get returns a blob whole.
func (s *Store) Get(ctx context.Context, key string) ([]byte, sdk.Meta, error) {
	return blobio.Whole(s.GetReader(ctx, key))
}

// Delete removes a blob; with o.IfMatch only that generation of it.
func (s *Store) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	c, err := s.cur.ForKey(key)
	if err != nil {
		return err
	}
	if o.IfMatch == "" {
		obj, _, err := s.handle(ctx, c, key)
		if err != nil {
			return err
		}
		if err := obj.Delete(ctx); err != nil {
			return fmt.Errorf("gcs: delete: %w", classify(err))
		}
		return nil
	}
	g := generation(o.IfMatch)
	if g == 0 {
		return fmt.Errorf("gcs: delete: ETag is no generation of this store: %w", sdk.ErrPrecondition)
	}
	name, _ := c.codec.Name(key)
	// Naming the generation makes the delete exact even where a server
	// ignores ifGenerationMatch on deletes; the precondition makes it exact
	// on servers that keep old generations.
	obj := c.bucket.Object(name).Generation(g).If(storage.Conditions{GenerationMatch: g}).
		Retryer(storage.WithPolicy(storage.RetryNever))
	if err := obj.Delete(ctx); err != nil {
		if st := httpStatus(err); st == 404 || st == 412 || errors.Is(err, storage.ErrObjectNotExist) {
			return fmt.Errorf("gcs: delete: %w", sdk.ErrPrecondition)
		}
		return fmt.Errorf("gcs: delete: %w", classify(err))
	}
	return nil
}
