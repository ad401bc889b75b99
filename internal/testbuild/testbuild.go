// Package testbuild builds Vire's binaries for tests that must exercise the
// real executables: plugin handshakes, checksums, crashes and signals.
package testbuild

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

type built struct {
	once sync.Once
	path string
	err  error
}

// cache holds one build per package per test process; building is slow
// compared with the tests that use the result.
var cache sync.Map // package path → *built

// RepoRoot returns the directory holding go.mod, found by walking up from
// the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary builds the main package at pkg (relative to the repository root,
// e.g. "./cmd/vire-plugin-file") and returns the path of the executable,
// which is named after the package's last element.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := cache.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() { b.path, b.err = build(pkg) })
	if b.err != nil {
		t.Fatalf("building %s: %v", pkg, b.err)
	}
	return b.path
}

func build(pkg string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "vire-testbin-")
	if err != nil {
		return "", err
	}
	// The directory is left for the OS to clean: the binary must outlive
	// any single test, and plugin directories are scanned by tests.
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, filepath.Base(strings.TrimSuffix(pkg, "/")))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v\n%s", err, msg)
	}
	return out, nil
}
