package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/vire-dev/vire/sdk"
)

const (
	copyBuffer = 256 << 10
	// createAttempts bounds retries when a concurrent delete removes an empty
	// directory just as a write is about to use it.
	createAttempts = 10
	// maxCleanupDepth bounds how far up a delete removes emptied directories.
	maxCleanupDepth = 32
	tempPrefix      = ".tmp-"
)

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("empty key: %w", sdk.ErrInvalidArgument)
	}
	if len(key) > sdk.MaxKeyLength {
		return fmt.Errorf("key of %d bytes is longer than %d: %w", len(key), sdk.MaxKeyLength, sdk.ErrInvalidArgument)
	}
	return nil
}

// isMissing reports whether err means a path does not exist, including a
// path component that is a file where a directory was expected.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func notFound(key string) error {
	return fmt.Errorf("key %q: %w", clip(key), sdk.ErrNotFound)
}

// clip keeps error messages short for long keys.
func clip(key string) string {
	if len(key) > 64 {
		return key[:64] + "…"
	}
	return key
}

// openBlob opens key's blob file and reads its header.
func (d *rootDir) openBlob(key string) (*os.File, sdk.Meta, int64, error) {
	f, err := d.r.Open(d.names.path(key))
	if err != nil {
		if isMissing(err) {
			return nil, sdk.Meta{}, 0, notFound(key)
		}
		return nil, sdk.Meta{}, 0, fmt.Errorf("key %q: %w", clip(key), err)
	}
	m, off, err := readHeader(f)
	if err != nil {
		f.Close()
		return nil, sdk.Meta{}, 0, fmt.Errorf("key %q: %w", clip(key), err)
	}
	return f, m, off, nil
}

// Get reads a whole blob.
func (s *Store) Get(ctx context.Context, key string) ([]byte, sdk.Meta, error) {
	d, err := s.ready(ctx, key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	f, m, off, err := d.openBlob(key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	defer f.Close()
	data, m, err := readAt(f, m, off)
	if err != nil {
		return nil, sdk.Meta{}, fmt.Errorf("reading key %q: %w", clip(key), err)
	}
	return data, m, nil
}

// blobReader streams one blob and fails once its context ends.
type blobReader struct {
	ctx context.Context
	r   io.Reader
	f   *os.File
}

func (b *blobReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (b *blobReader) Close() error { return b.f.Close() }

// GetReader streams a blob from disk.
func (s *Store) GetReader(ctx context.Context, key string) (io.ReadCloser, sdk.Meta, error) {
	d, err := s.ready(ctx, key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	f, m, off, err := d.openBlob(key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	return &blobReader{ctx: ctx, r: io.NewSectionReader(f, off, m.Size), f: f}, m, nil
}

// Stat returns a blob's Meta.
func (s *Store) Stat(ctx context.Context, key string) (sdk.Meta, error) {
	d, err := s.ready(ctx, key)
	if err != nil {
		return sdk.Meta{}, err
	}
	f, m, _, err := d.openBlob(key)
	if err != nil {
		return sdk.Meta{}, err
	}
	f.Close()
	return m, nil
}

// ready returns the root after checking the key and the context.
func (s *Store) ready(ctx context.Context, key string) (*rootDir, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.root()
}

// Put stores data under key.
func (s *Store) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	return s.write(ctx, key, o, func(w io.Writer) (int64, error) {
		n, err := w.Write(data)
		return int64(n), err
	})
}

// PutReader streams r to disk; nothing is visible until the whole stream has
// been read and the context is still live.
func (s *Store) PutReader(ctx context.Context, key string, r io.Reader, size int64, o sdk.PutOptions) (sdk.Meta, error) {
	return s.write(ctx, key, o, func(w io.Writer) (int64, error) { return copyBody(ctx, w, r, size) })
}

func copyBody(ctx context.Context, w io.Writer, r io.Reader, size int64) (int64, error) {
	if size >= 0 {
		r = io.LimitReader(r, size)
	}
	buf := make([]byte, copyBuffer)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if _, err := w.Write(buf[:m]); err != nil {
				return n, err
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, fmt.Errorf("reading the blob: %w", rerr)
		}
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("the stream ended after %d of %d bytes: %w: %w", n, size, io.ErrUnexpectedEOF, sdk.ErrInvalidArgument)
	}
	return n, ctx.Err()
}

func checkPutOptions(o sdk.PutOptions) error {
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return fmt.Errorf("IfNoneMatch accepts only \"*\": %w", sdk.ErrInvalidArgument)
	}
	return checkContentType(o.ContentType)
}

// write is the one write path: stream to a temporary file beside the blob,
// sync it, then under the key's lock check the condition, keep the old
// version and rename the new file into place.
func (s *Store) write(ctx context.Context, key string, o sdk.PutOptions, body func(io.Writer) (int64, error)) (sdk.Meta, error) {
	d, err := s.ready(ctx, key)
	if err != nil {
		return sdk.Meta{}, err
	}
	if err := checkPutOptions(o); err != nil {
		return sdk.Meta{}, err
	}
	etag, err := newETag()
	if err != nil {
		return sdk.Meta{}, err
	}
	rel := d.names.path(key)
	dir, leaf := path.Dir(rel), path.Base(rel)
	tmpName := tempPrefix + etag

	dr, f, err := d.createTemp(dir, tmpName)
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
	}
	defer dr.Close()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			_ = dr.Remove(tmpName)
		}
	}()

	if _, err := f.Write(encodeHeader(header{ETag: etag, ContentType: o.ContentType})); err != nil {
		return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
	}
	n, err := body(f)
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
	}
	if d.fsync {
		if err := f.Sync(); err != nil {
			return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return sdk.Meta{}, err
	}
	if err := f.Close(); err != nil {
		return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
	}
	if err := ctx.Err(); err != nil {
		return sdk.Meta{}, err
	}

	unlock, err := d.locks.lock(ctx, key)
	if err != nil {
		return sdk.Meta{}, err
	}
	defer unlock()
	cur, exists, err := currentETag(dr, leaf)
	if err != nil {
		return sdk.Meta{}, fmt.Errorf("key %q: %w", clip(key), err)
	}
	if o.IfNoneMatch == "*" && exists {
		return sdk.Meta{}, fmt.Errorf("key %q already exists: %w", clip(key), sdk.ErrPrecondition)
	}
	if o.IfMatch != "" && (!exists || cur != o.IfMatch) {
		return sdk.Meta{}, fmt.Errorf("key %q does not have ETag %q: %w", clip(key), o.IfMatch, sdk.ErrPrecondition)
	}
	if exists && d.versions > 0 {
		if err := d.keepVersion(rel, cur); err != nil {
			return sdk.Meta{}, fmt.Errorf("keeping the previous version of %q: %w", clip(key), err)
		}
	}
	if err := dr.Rename(tmpName, leaf); err != nil {
		return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
	}
	committed = true
	if d.fsync {
		if err := syncDir(dr); err != nil {
			return sdk.Meta{}, fmt.Errorf("writing key %q: %w", clip(key), err)
		}
	}
	if exists {
		d.pruneVersions(rel)
	}
	return sdk.Meta{Size: n, ETag: etag, Modified: fi.ModTime(), ContentType: o.ContentType}, nil
}

// createTemp opens dir (creating it) and creates the temporary file in it.
// It retries when a concurrent delete removes an emptied directory on the
// way.
func (d *rootDir) createTemp(dir, name string) (*os.Root, *os.File, error) {
	var err error
	for range createAttempts {
		var dr *os.Root
		dr, err = d.openDir(dir, true)
		if err == nil {
			var f *os.File
			f, err = dr.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
			if err == nil {
				return dr, f, nil
			}
			dr.Close()
		}
		if !isMissing(err) {
			break
		}
	}
	return nil, nil, err
}

// openDir opens a slash-separated directory below the root as a Root of its
// own, one component at a time (each step costs the same however deep the
// path), creating missing directories when create is set. Creation retries
// when a concurrent delete removes an emptied directory on the way.
func (d *rootDir) openDir(dir string, create bool) (*os.Root, error) {
	if !create {
		return d.walkDir(dir, false)
	}
	var err error
	for range createAttempts {
		var r *os.Root
		if r, err = d.walkDir(dir, true); err == nil || !isMissing(err) {
			return r, err
		}
	}
	return nil, err
}

func (d *rootDir) walkDir(dir string, create bool) (*os.Root, error) {
	cur, err := d.r.OpenRoot(".")
	if err != nil || dir == "." || dir == "" {
		return cur, err
	}
	for c := range strings.SplitSeq(dir, "/") {
		next, err := cur.OpenRoot(c)
		if err != nil && create && errors.Is(err, fs.ErrNotExist) {
			merr := cur.Mkdir(c, dirPerm)
			if merr == nil && d.fsync {
				merr = syncDir(cur)
			}
			if merr != nil && !errors.Is(merr, fs.ErrExist) {
				cur.Close()
				return nil, merr
			}
			next, err = cur.OpenRoot(c)
		}
		cur.Close()
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

func syncDir(r *os.Root) error {
	f, err := r.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// currentETag reads the ETag of the blob file leaf in dr. A file without a
// valid header exists but matches no ETag.
func currentETag(dr *os.Root, leaf string) (string, bool, error) {
	f, err := dr.Open(leaf)
	if isMissing(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	m, _, err := readHeader(f)
	if errors.Is(err, errCorrupt) {
		return "", true, nil
	}
	if err != nil {
		return "", false, err
	}
	return m.ETag, true, nil
}

// Delete removes a blob, keeping it as a version when versions are kept.
func (s *Store) Delete(ctx context.Context, key string, o sdk.DeleteOptions) error {
	d, err := s.ready(ctx, key)
	if err != nil {
		return err
	}
	rel := d.names.path(key)
	dir, leaf := path.Dir(rel), path.Base(rel)
	missing := func() error {
		if o.IfMatch != "" {
			return fmt.Errorf("key %q does not exist, so it cannot have ETag %q: %w", clip(key), o.IfMatch, sdk.ErrPrecondition)
		}
		return notFound(key)
	}
	dr, err := d.openDir(dir, false)
	if isMissing(err) {
		return missing()
	}
	if err != nil {
		return fmt.Errorf("deleting key %q: %w", clip(key), err)
	}
	defer dr.Close()

	unlock, err := d.locks.lock(ctx, key)
	if err != nil {
		return err
	}
	cur, exists, err := currentETag(dr, leaf)
	switch {
	case err != nil:
		unlock()
		return fmt.Errorf("key %q: %w", clip(key), err)
	case !exists:
		unlock()
		return missing()
	case o.IfMatch != "" && cur != o.IfMatch:
		unlock()
		return fmt.Errorf("key %q does not have ETag %q: %w", clip(key), o.IfMatch, sdk.ErrPrecondition)
	}
	if d.versions > 0 {
		if err := d.keepVersion(rel, cur); err != nil {
			unlock()
			return fmt.Errorf("keeping the deleted version of %q: %w", clip(key), err)
		}
	}
	err = dr.Remove(leaf)
	if err == nil && d.fsync {
		err = syncDir(dr)
	}
	if err == nil {
		d.pruneVersions(rel)
	}
	unlock()
	if err != nil {
		return fmt.Errorf("deleting key %q: %w", clip(key), err)
	}
	d.removeEmptyDirs(dir)
	return nil
}

// removeEmptyDirs removes dir and its ancestors while they are empty, so
// deleted tenants do not leave directory trees behind. It stops at the first
// directory that is not empty, is not a plain directory, or cannot be
// removed; a concurrent write that loses its directory simply retries.
func (d *rootDir) removeEmptyDirs(dir string) {
	for range maxCleanupDepth {
		if dir == "." || dir == "" || dir == metaDir || dir == versionsDir {
			return
		}
		fi, err := d.r.Lstat(dir)
		if err != nil || !fi.IsDir() {
			return
		}
		if err := d.r.Remove(dir); err != nil {
			return
		}
		dir = path.Dir(dir)
	}
}
