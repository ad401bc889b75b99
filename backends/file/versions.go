package file

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vire-dev/vire/sdk"
)

// Earlier versions of the blob at <path> live in .vire/versions/<path>/ as
// files named <sequence, 16 hex digits>-<ETag>, hard links to the blob files
// they once were (or copies where the filesystem has no hard links). The
// sequence orders them; the ETag is the version id. Only the newest
// `versions` are kept.

type versionEntry struct {
	seq  uint64
	etag string
	name string
}

func versionDir(rel string) string { return versionsDir + "/" + rel }

func parseVersionName(name string) (versionEntry, bool) {
	seqHex, etag, ok := strings.Cut(name, "-")
	if !ok || len(seqHex) != 16 || !validETag(etag) {
		return versionEntry{}, false
	}
	seq, err := strconv.ParseUint(seqHex, 16, 64)
	if err != nil {
		return versionEntry{}, false
	}
	return versionEntry{seq: seq, etag: etag, name: name}, true
}

// listVersions returns the versions in vr, newest first.
func listVersions(vr *os.Root) ([]versionEntry, error) {
	f, err := vr.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var out []versionEntry
	for _, n := range names {
		if v, ok := parseVersionName(n); ok {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b versionEntry) int { return -compareUint(a.seq, b.seq) })
	return out, nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// keepVersion records the blob at rel (whose ETag is etag) as its newest
// earlier version. The caller holds the key's lock.
func (d *rootDir) keepVersion(rel, etag string) error {
	vdir := versionDir(rel)
	vr, err := d.openDir(vdir, true)
	if err != nil {
		return err
	}
	defer vr.Close()
	vs, err := listVersions(vr)
	if err != nil {
		return err
	}
	seq := uint64(1)
	if len(vs) > 0 {
		seq = vs[0].seq + 1
	}
	if !validETag(etag) {
		// A damaged blob still deserves a version id.
		if etag, err = newETag(); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("%016x-%s", seq, etag)
	if err := d.r.Link(rel, vdir+"/"+name); err != nil {
		if isMissing(err) {
			return err
		}
		if err := d.copyVersion(rel, vr, name); err != nil {
			return err
		}
	}
	if d.fsync {
		return syncDir(vr)
	}
	return nil
}

// copyVersion copies the blob file at rel into vr as name, for filesystems
// that refuse hard links.
func (d *rootDir) copyVersion(rel string, vr *os.Root, name string) error {
	src, err := d.r.Open(rel)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := tempPrefix + name
	dst, err := vr.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if err == nil && d.fsync {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if fi, serr := src.Stat(); serr == nil {
			_ = vr.Chtimes(tmp, fi.ModTime(), fi.ModTime())
		}
		err = vr.Rename(tmp, name)
	}
	if err != nil {
		_ = vr.Remove(tmp)
	}
	return err
}

// pruneVersions drops all but the newest d.versions earlier versions of the
// blob at rel. Failures only leave extra versions behind.
func (d *rootDir) pruneVersions(rel string) {
	vdir := versionDir(rel)
	vr, err := d.openDir(vdir, false)
	if err != nil {
		return
	}
	vs, err := listVersions(vr)
	if err == nil && len(vs) > d.versions {
		for _, v := range vs[d.versions:] {
			_ = vr.Remove(v.name)
		}
	}
	vr.Close()
	if err == nil && d.versions == 0 {
		d.removeEmptyDirs(vdir)
	}
}

// Versions lists the current blob (if any) and its retained earlier
// versions, newest first. A deleted key's earlier versions stay listed.
func (s *Store) Versions(ctx context.Context, key string) ([]sdk.Version, error) {
	d, err := s.ready(ctx, key)
	if err != nil {
		return nil, err
	}
	var out []sdk.Version
	if f, m, _, err := d.openBlob(key); err == nil {
		f.Close()
		out = append(out, sdk.Version{ID: m.ETag, Meta: m})
	}
	rel := d.names.path(key)
	if vr, err := d.openDir(versionDir(rel), false); err == nil {
		vs, _ := listVersions(vr)
		for _, v := range vs {
			f, err := vr.Open(v.name)
			if err != nil {
				continue
			}
			m, _, err := readHeader(f)
			f.Close()
			if err != nil {
				continue
			}
			m.ETag = v.etag
			out = append(out, sdk.Version{ID: v.etag, Meta: m})
		}
		vr.Close()
	}
	if len(out) == 0 {
		return nil, notFound(key)
	}
	return out, nil
}

// GetVersion reads one version of a blob by id (its ETag).
func (s *Store) GetVersion(ctx context.Context, key, id string) ([]byte, sdk.Meta, error) {
	d, err := s.ready(ctx, key)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	missing := fmt.Errorf("key %q has no version %q: %w", clip(key), id, sdk.ErrNotFound)
	if !validETag(id) {
		return nil, sdk.Meta{}, missing
	}
	if f, m, off, err := d.openBlob(key); err == nil {
		defer f.Close()
		if m.ETag == id {
			return readAt(f, m, off)
		}
	}
	vr, err := d.openDir(versionDir(d.names.path(key)), false)
	if err != nil {
		return nil, sdk.Meta{}, missing
	}
	defer vr.Close()
	vs, err := listVersions(vr)
	if err != nil {
		return nil, sdk.Meta{}, err
	}
	for _, v := range vs {
		if v.etag != id {
			continue
		}
		f, err := vr.Open(v.name)
		if err != nil {
			return nil, sdk.Meta{}, missing
		}
		defer f.Close()
		m, off, err := readHeader(f)
		if err != nil {
			return nil, sdk.Meta{}, err
		}
		m.ETag = v.etag
		return readAt(f, m, off)
	}
	return nil, sdk.Meta{}, missing
}

func readAt(f *os.File, m sdk.Meta, off int64) ([]byte, sdk.Meta, error) {
	data := make([]byte, m.Size)
	if _, err := f.ReadAt(data, off); err != nil {
		return nil, sdk.Meta{}, err
	}
	return data, m, nil
}
