package pluginhost_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
)

const filePlugin = "./cmd/vire-plugin-file"

func newHost(t *testing.T, o pluginhost.Options) *pluginhost.Host {
	t.Helper()
	if o.Logger == nil {
		o.Logger = hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Warn})
	}
	h := pluginhost.New(o)
	t.Cleanup(h.Close)
	return h
}

// testWriter sends host logs to the test log, so a failing test shows them.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startFile(t *testing.T, h *pluginhost.Host, spec pluginhost.Spec) (*pluginhost.Plugin, sdk.BlobStore) {
	t.Helper()
	if spec.Path == "" {
		spec.Path = testbuild.Binary(t, filePlugin)
	}
	if spec.Name == "" {
		spec.Name = "file"
	}
	ctx := context.Background()
	p, err := h.Start(ctx, spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	bs, err := p.BlobStore(ctx, sdk.ConfigValue{"root": t.TempDir(), "fsync": false})
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	return p, bs
}

func TestStartDescribeAndServe(t *testing.T) {
	h := newHost(t, pluginhost.Options{})
	p, bs := startFile(t, h, pluginhost.Spec{})
	ctx := context.Background()

	st := p.Status()
	if st.State != pluginhost.StateRunning || st.Protocol != sdk.ProtocolVersion || st.PID == 0 {
		t.Fatalf("status = %+v", st)
	}
	if len(st.Kinds) != 1 || st.Kinds[0] != "storage" {
		t.Fatalf("kinds = %v", st.Kinds)
	}
	m, err := bs.Put(ctx, "a/b", []byte("hello"), sdk.PutOptions{ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	data, got, err := bs.Get(ctx, "a/b")
	if err != nil || string(data) != "hello" || got.ETag != m.ETag || got.ContentType != "text/plain" {
		t.Fatalf("get = %q %+v %v", data, got, err)
	}
	if _, _, err := bs.Get(ctx, "missing"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound across the boundary", err)
	}
	if _, err := bs.Put(ctx, "a/b", []byte("x"), sdk.PutOptions{IfMatch: "stale"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Fatalf("stale if-match: %v, want ErrPrecondition", err)
	}
	if err := p.Health(ctx); err != nil {
		t.Fatalf("health: %v", err)
	}
}

func TestConfigErrorsCrossTheBoundary(t *testing.T) {
	h := newHost(t, pluginhost.Options{})
	p, err := h.Start(context.Background(), pluginhost.Spec{Name: "file", Path: testbuild.Binary(t, filePlugin)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.BlobStore(context.Background(), sdk.ConfigValue{"versions": float64(3)})
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || !errors.Is(err, sdk.ErrInvalidConfig) {
		t.Fatalf("err = %v (%T), want sdk.ConfigErrors", err, err)
	}
	if ce[0].Attribute != "root" {
		t.Fatalf("config errors = %+v, want one naming root", ce)
	}
}

func TestChecksumPin(t *testing.T) {
	src := testbuild.Binary(t, filePlugin)
	bin := filepath.Join(t.TempDir(), "vire-plugin-file")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t, pluginhost.Options{})
	if _, err := h.Start(context.Background(), pluginhost.Spec{Name: "file", Path: bin, SHA256: strings.ToUpper(sum)}); err != nil {
		t.Fatalf("correct pin refused: %v", err)
	}

	// Change one byte in the middle of the binary. The running plugin
	// keeps the old file busy, so the new one is renamed into place.
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(bin+".new", data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	_, err = h.Start(context.Background(), pluginhost.Spec{Name: "file", Path: bin, SHA256: sum})
	if !errors.Is(err, pluginhost.ErrChecksumMismatch) {
		t.Fatalf("tampered binary: err = %v, want ErrChecksumMismatch", err)
	}
	for _, want := range []string{"refusing to start plugin file", sum, "pins"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := h.Start(context.Background(), pluginhost.Spec{Name: "file", Path: bin, SHA256: "abc"}); err == nil || !strings.Contains(err.Error(), "64 hex") {
		t.Fatalf("malformed pin: %v", err)
	}
}

func TestRefusesUnsafeBinaries(t *testing.T) {
	src := testbuild.Binary(t, filePlugin)
	dir := t.TempDir()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("vire-plugin-good", 0o755)
	write("vire-plugin-worldw", 0o757)
	write("vire-plugin-groupw", 0o775)
	write("vire-plugin-noexec", 0o644)
	write("not-a-plugin", 0o755)
	if err := os.Symlink(good, filepath.Join(dir, "vire-plugin-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "vire-plugin-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	found, problems := pluginhost.Discover(dir)
	if len(found) != 1 || found[0].Name != "good" || found[0].Path != good {
		t.Fatalf("found = %+v", found)
	}
	if len(problems) != 5 {
		t.Fatalf("problems = %v, want 5", problems)
	}
	text := fmt.Sprint(problems)
	for _, want := range []string{"symlink", "writable by group or others", "not executable", "not a regular file"} {
		if !strings.Contains(text, want) {
			t.Errorf("problems %q do not mention %q", text, want)
		}
	}
	h := newHost(t, pluginhost.Options{})
	_, err = h.Start(context.Background(), pluginhost.Spec{Name: "link", Path: filepath.Join(dir, "vire-plugin-link")})
	if !errors.Is(err, pluginhost.ErrUnsafeBinary) {
		t.Fatalf("start through symlink: %v", err)
	}
}

// TestSIGKILLDuringWrites kills the plugin while writes stream in: every
// acknowledged write must read back, and the host must bring the plugin
// back for later calls.
func TestSIGKILLDuringWrites(t *testing.T) {
	h := newHost(t, pluginhost.Options{HealthInterval: -1})
	p, bs := startFile(t, h, pluginhost.Spec{})
	ctx := context.Background()

	var mu sync.Mutex
	acked := map[string][]byte{}
	var failed int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 400; i++ {
			key := fmt.Sprintf("w/%04d", i)
			val := bytes.Repeat([]byte{byte(i)}, 1000+i)
			if _, err := bs.Put(ctx, key, val, sdk.PutOptions{}); err != nil {
				if !errors.Is(err, sdk.ErrUnavailable) {
					t.Errorf("put %s: %v, want ErrUnavailable while the plugin is down", key, err)
				}
				mu.Lock()
				failed++
				mu.Unlock()
				continue
			}
			mu.Lock()
			acked[key] = val
			mu.Unlock()
		}
	}()
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 50 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	pid := p.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if p.PID() == pid || p.PID() == 0 {
		t.Fatalf("plugin not restarted: pid before %d, now %d", pid, p.PID())
	}
	if st := p.Status(); st.Restarts < 1 || st.State != pluginhost.StateRunning {
		t.Fatalf("status after crash = %+v", st)
	}
	for key, want := range acked {
		got, _, err := bs.Get(ctx, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("acknowledged write %s lost: %v", key, err)
		}
	}
	if len(acked)+failed != 400 {
		t.Fatalf("acked %d + failed %d != 400", len(acked), failed)
	}
	t.Logf("acknowledged %d writes, %d failed while the plugin restarted", len(acked), failed)
}

func TestIdempotentReadRetriedAcrossCrash(t *testing.T) {
	h := newHost(t, pluginhost.Options{HealthInterval: -1})
	p, bs := startFile(t, h, pluginhost.Spec{})
	ctx := context.Background()
	if _, err := bs.Put(ctx, "k", []byte("v"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	pid := p.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The next read may find the dead process; it must restart it and
	// succeed without the caller seeing the crash.
	got, _, err := bs.Get(ctx, "k")
	if err != nil || string(got) != "v" {
		t.Fatalf("get after crash = %q, %v", got, err)
	}
	if p.PID() == pid {
		t.Fatal("plugin was not restarted")
	}
}

func TestHealthLoopRestartsDeadPlugin(t *testing.T) {
	h := newHost(t, pluginhost.Options{HealthInterval: 50 * time.Millisecond})
	p, _ := startFile(t, h, pluginhost.Spec{})
	pid := p.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if st := p.Status(); st.Restarts >= 1 && st.State == pluginhost.StateRunning && p.PID() != pid {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("health loop did not restart the plugin: %+v", p.Status())
}

func TestCloseStopsPlugins(t *testing.T) {
	h := pluginhost.New(pluginhost.Options{})
	p, _ := startFile(t, h, pluginhost.Spec{})
	pid := p.PID()
	h.Close()
	if alive(pid) {
		t.Fatalf("plugin %d still alive after Close", pid)
	}
	if _, err := h.Start(context.Background(), pluginhost.Spec{Name: "file", Path: testbuild.Binary(t, filePlugin)}); err == nil {
		t.Fatal("start after Close succeeded")
	}
}
