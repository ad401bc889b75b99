// Package file is Vire's local-directory storage backend (the plugin
// vire-plugin-file): every blob is a file under one root directory.
//
// Layout of the root:
//
//	users/alice/strategy/main.vire    a blob: header line + data (see format.go)
//	users/alice/strategy/.tmp-…       a write in progress (never listed)
//	.vire/format.json                 layout version and case handling
//	.vire/locks/00 … 3f               lock files for writers (see lock.go)
//	.vire/versions/<blob path>/…      earlier versions of each blob
//
// Keys map to paths injectively and can never leave the root (see names.go);
// every file operation also goes through os.Root, so a symbolic link placed in
// the root that points outside it makes the operation fail instead of
// escaping. Listings do not follow symbolic links.
//
// Writes go to a temporary file in the blob's directory, are fsynced, then
// renamed over the blob and the directory is fsynced (fsync = false skips
// both syncs, for tests and throwaway data). Conditional writes and deletes
// hold the key's lock from the ETag check to the rename, and the lock is a
// flock(2), so several plugin processes may share one directory safely.
//
// The previous `versions` versions of every blob are kept as hard links in
// .vire/versions and served through sdk.Versioned; a delete keeps the deleted
// blob as a version too.
package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

const (
	metaDir      = ".vire"
	locksDir     = metaDir + "/locks"
	versionsDir  = metaDir + "/versions"
	formatFile   = metaDir + "/format.json"
	layoutFormat = 1

	defaultVersions = 5
	maxVersions     = 1000
	dirPerm         = 0o700
	filePerm        = 0o600
)

// Store is the file storage backend. Construct it with New and configure it
// before use.
type Store struct {
	log hclog.Logger

	mu  sync.RWMutex
	dir *rootDir // nil until configured, and after Close
}

var (
	_ sdk.BlobStore = (*Store)(nil)
	_ sdk.Versioned = (*Store)(nil)
)

// rootDir is one configured root.
type rootDir struct {
	r        *os.Root
	names    names
	versions int
	fsync    bool
	locks    *locks
}

// New returns an unconfigured store.
func New(log hclog.Logger) *Store {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Store{log: log}
}

// Schema declares root, versions and fsync.
func (s *Store) Schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{
		{Name: "root", Type: sdk.TypeString, Required: true,
			Description: "Absolute path of the directory holding the blobs; created if missing. Several plugin processes may share it."},
		{Name: "versions", Type: sdk.TypeNumber, Default: defaultVersions,
			Description: "How many earlier versions of each blob to keep (0 keeps none)."},
		{Name: "fsync", Type: sdk.TypeBool, Default: true,
			Description: "Flush every write to disk before reporting success. Turn off only for throwaway data."},
	}}
}

// Capabilities: conditional writes are atomic; earlier versions are kept
// unless the store is configured with versions = 0.
func (s *Store) Capabilities() sdk.BlobCapabilities {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return sdk.BlobCapabilities{ConditionalWrite: true, Versions: s.dir == nil || s.dir.versions > 0}
}

// Configure opens (creating if needed) the root directory.
func (s *Store) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	root, ok := cfg["root"].(string)
	switch {
	case !ok || root == "":
		errs = append(errs, sdk.ConfigError{Attribute: "root", Message: "must be set to the directory that holds the blobs"})
	case !filepath.IsAbs(root):
		errs = append(errs, sdk.ConfigError{Attribute: "root", Message: fmt.Sprintf("must be an absolute path, not %q", root)})
	}
	versions := defaultVersions
	if v, set := cfg["versions"]; set && v != nil {
		f, isNum := v.(float64)
		if i, isInt := v.(int); isInt {
			f, isNum = float64(i), true
		}
		if !isNum || f != math.Trunc(f) || f < 0 || f > maxVersions {
			errs = append(errs, sdk.ConfigError{Attribute: "versions", Message: fmt.Sprintf("must be a whole number from 0 to %d", maxVersions)})
		} else {
			versions = int(f)
		}
	}
	fsync := true
	if v, set := cfg["fsync"]; set && v != nil {
		b, isBool := v.(bool)
		if !isBool {
			errs = append(errs, sdk.ConfigError{Attribute: "fsync", Message: "must be true or false"})
		}
		fsync = b
	}
	if len(errs) > 0 {
		return errs
	}

	d, err := openRoot(root, versions, fsync)
	if err != nil {
		return sdk.AttrError("root", "%v", err)
	}
	s.mu.Lock()
	old := s.dir
	s.dir = d
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	s.log.Info("configured", "root", root, "versions", versions, "fsync", fsync, "fold_case", d.names.foldCase)
	return nil
}

type layout struct {
	Format   int  `json:"format"`
	FoldCase bool `json:"fold_case"`
}

func openRoot(path string, versions int, fsync bool) (*rootDir, error) {
	if err := os.MkdirAll(path, dirPerm); err != nil {
		return nil, fmt.Errorf("cannot create the directory: %w", err)
	}
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open the directory: %w", err)
	}
	for _, dir := range []string{metaDir, locksDir, versionsDir} {
		if err := r.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
			r.Close()
			return nil, fmt.Errorf("cannot create %s: %w", dir, err)
		}
	}
	l, err := readLayout(r)
	if err != nil {
		r.Close()
		return nil, err
	}
	d := &rootDir{r: r, names: names{foldCase: l.FoldCase}, versions: versions, fsync: fsync}
	d.locks = newLocks(d)
	return d, nil
}

// readLayout reads .vire/format.json, creating it on first use after probing
// whether the filesystem folds case.
func readLayout(r *os.Root) (layout, error) {
	var l layout
	b, err := r.ReadFile(formatFile)
	if err == nil {
		if err := json.Unmarshal(b, &l); err != nil {
			return l, fmt.Errorf("%s is unreadable: %w", formatFile, err)
		}
		if l.Format != layoutFormat {
			return l, fmt.Errorf("holds layout format %d; this plugin reads format %d", l.Format, layoutFormat)
		}
		return l, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return l, fmt.Errorf("reading %s: %w", formatFile, err)
	}
	tag, err := newETag()
	if err != nil {
		return l, err
	}
	probe := metaDir + "/case-probe-" + tag
	if err := r.WriteFile(probe, nil, filePerm); err != nil {
		return l, fmt.Errorf("probing the filesystem: %w", err)
	}
	_, statErr := r.Lstat(metaDir + "/CASE-PROBE-" + tag)
	_ = r.Remove(probe)
	l = layout{Format: layoutFormat, FoldCase: statErr == nil}
	b, _ = json.Marshal(l)
	tmp := metaDir + "/.format-" + tag
	if err := r.WriteFile(tmp, append(b, '\n'), filePerm); err != nil {
		return l, fmt.Errorf("writing %s: %w", formatFile, err)
	}
	if err := r.Rename(tmp, formatFile); err != nil {
		_ = r.Remove(tmp)
		return l, fmt.Errorf("writing %s: %w", formatFile, err)
	}
	return l, nil
}

func (d *rootDir) close() {
	d.locks.close()
	d.r.Close()
}

// root returns the configured root or an error saying why there is none.
func (s *Store) root() (*rootDir, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.dir == nil {
		return nil, fmt.Errorf("file store is not configured: %w", sdk.ErrUnavailable)
	}
	return s.dir, nil
}

// Health checks that the root is still there.
func (s *Store) Health(ctx context.Context) error {
	d, err := s.root()
	if err != nil {
		return err
	}
	if _, err := d.r.Stat(metaDir); err != nil {
		return fmt.Errorf("file store root: %v: %w", err, sdk.ErrUnavailable)
	}
	return nil
}

// Close releases the root; the store is unusable until configured again.
func (s *Store) Close() error {
	s.mu.Lock()
	d := s.dir
	s.dir = nil
	s.mu.Unlock()
	if d != nil {
		d.close()
	}
	return nil
}
