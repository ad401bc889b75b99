package pluginhost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// BinaryPrefix starts the file name of every discoverable plugin binary.
const BinaryPrefix = "vire-plugin-"

// Found is a plugin binary discovered in a plugin directory.
type Found struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// Discover lists the plugin binaries directly inside dir (no recursion).
// Files that are not safe to run — symlinks, non-regular files, files that a
// group or other users may write — are not returned; each is reported in
// the second result so the operator learns why a plugin is missing.
func Discover(dir string) ([]Found, []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("plugin directory %s: %w", dir, err)}
	}
	var found []Found
	var problems []error
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, BinaryPrefix) || len(name) == len(BinaryPrefix) {
			continue
		}
		path := filepath.Join(dir, name)
		if err := CheckBinary(path); err != nil {
			problems = append(problems, err)
			continue
		}
		found = append(found, Found{Name: strings.TrimPrefix(name, BinaryPrefix), Path: path})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found, problems
}

// ErrUnsafeBinary marks a plugin file the host refuses to run.
var ErrUnsafeBinary = errors.New("unsafe plugin binary")

// CheckBinary refuses a plugin file that is a symlink, not a regular file,
// not executable, or writable by group or others: anyone who can replace
// such a file can run code as the server.
func CheckBinary(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", path, err)
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symlink; point the config at the real file", ErrUnsafeBinary, path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafeBinary, path)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%w: %s is writable by group or others (mode %v); run chmod go-w on it", ErrUnsafeBinary, path, fi.Mode().Perm())
	case fi.Mode().Perm()&0o100 == 0:
		return fmt.Errorf("%w: %s is not executable", ErrUnsafeBinary, path)
	}
	return nil
}

// FileSHA256 returns the lowercase hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DescribeBinary runs `<path> describe` — no handshake, no environment — and
// returns the plugin's self-description.
func DescribeBinary(ctx context.Context, path string) (sdk.Description, error) {
	if err := CheckBinary(path); err != nil {
		return sdk.Description{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "describe")
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return sdk.Description{}, fmt.Errorf("%s describe: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	var d sdk.Description
	if err := json.Unmarshal(out, &d); err != nil {
		return sdk.Description{}, fmt.Errorf("%s describe printed no valid description: %w", path, err)
	}
	return d, nil
}
