package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// These tests run several processes on one directory, as several plugin
// processes (or vire-server instances) sharing a disk would. The children
// are this test binary running TestChildProcess.

const (
	childEnv = "VIRE_FILE_TEST_CHILD"
	rootEnv  = "VIRE_FILE_TEST_ROOT"
)

// child is a started child process; it has printed "ready".
type child struct {
	cmd *exec.Cmd
	out *bufio.Reader
}

func startChild(t *testing.T, mode, root string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, rootEnv+"="+root)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	c := &child{cmd: cmd, out: bufio.NewReader(stdout)}
	if line := c.line(t); line != "ready" {
		t.Fatalf("child %s said %q before it was ready", mode, line)
	}
	return c
}

func (c *child) line(t *testing.T) string {
	t.Helper()
	s, err := c.out.ReadString('\n')
	if err != nil && s == "" {
		t.Fatalf("reading from child: %v", err)
	}
	return strings.TrimSpace(s)
}

// rest reads everything the child prints until it exits.
func (c *child) rest(t *testing.T) []string {
	t.Helper()
	b, _ := io.ReadAll(c.out)
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child failed: %v\n%s", err, b)
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "PASS") && !strings.HasPrefix(l, "ok") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestChildProcess is the body of a child process; it does nothing unless
// started by one of the tests below.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("run as a child process by the multi-process tests")
	}
	root := os.Getenv(rootEnv)
	s := New(nil)
	cfg, _ := s.Schema().Complete(sdk.ConfigValue{"root": root, "fsync": false})
	if err := s.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	fmt.Println("ready")
	// Start together: wait for the parent's go file.
	waitFor := func() {
		for {
			if _, err := os.Stat(filepath.Join(root, "go")); err == nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	switch mode {
	case "increment":
		waitFor()
		for range 25 {
			for {
				data, m, err := s.Get(ctx, "counter")
				if err != nil {
					t.Fatal(err)
				}
				n, _ := strconv.Atoi(string(data))
				_, err = s.Put(ctx, "counter", []byte(strconv.Itoa(n+1)), sdk.PutOptions{IfMatch: m.ETag})
				if err == nil {
					break
				}
				if !errors.Is(err, sdk.ErrPrecondition) {
					t.Fatal(err)
				}
			}
		}
	case "create":
		waitFor()
		for i := range 40 {
			key := fmt.Sprintf("race/%02d", i)
			_, err := s.Put(ctx, key, []byte(strconv.Itoa(os.Getpid())), sdk.PutOptions{IfNoneMatch: "*"})
			switch {
			case err == nil:
				fmt.Println("won", key)
			case !errors.Is(err, sdk.ErrPrecondition):
				t.Fatal(err)
			}
		}
	case "hold-lock":
		// Take the write lock of "locked" the way the store does, and keep it.
		d, _ := s.root()
		if _, err := d.locks.lock(ctx, "locked"); err != nil {
			t.Fatal(err)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
	case "crash-writer":
		// Stream a blob that never ends; the parent kills us part way.
		r := &slowReader{announce: 1 << 20}
		_, err := s.PutReader(ctx, "big", r, -1, sdk.PutOptions{})
		t.Fatalf("PutReader of an endless stream returned: %v", err)
	default:
		t.Fatalf("unknown child mode %q", mode)
	}
}

// slowReader yields zeros forever, printing "streaming" once announce bytes
// have been read.
type slowReader struct {
	n, announce int
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.n >= r.announce {
		if r.announce > 0 {
			fmt.Println("streaming")
			r.announce = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
	n := min(len(p), 64<<10)
	clear(p[:n])
	r.n += n
	return n, nil
}

func TestCrossProcessReadModifyWrite(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	if _, err := s.Put(t.Context(), "counter", []byte("0"), sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var children []*child
	for range 4 {
		children = append(children, startChild(t, "increment", root))
	}
	if err := os.WriteFile(filepath.Join(root, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range children {
		c.rest(t)
	}
	data, _, err := s.Get(t.Context(), "counter")
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "100" {
		t.Errorf("4 processes × 25 conditional increments left the counter at %s, want 100", data)
	}
}

func TestCrossProcessCreateRace(t *testing.T) {
	root := t.TempDir()
	var children []*child
	for range 4 {
		children = append(children, startChild(t, "create", root))
	}
	if err := os.WriteFile(filepath.Join(root, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	winners := map[string]int{}
	for _, c := range children {
		for _, l := range c.rest(t) {
			if key, ok := strings.CutPrefix(l, "won "); ok {
				winners[key]++
			}
		}
	}
	for i := range 40 {
		key := fmt.Sprintf("race/%02d", i)
		if winners[key] != 1 {
			t.Errorf("%s was created by %d processes, want exactly 1", key, winners[key])
		}
	}
}

// TestLockSpansProcesses shows a writer waiting for a lock another process
// holds, and proceeding once that process dies.
func TestLockSpansProcesses(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	c := startChild(t, "hold-lock", root)
	if l := c.line(t); l != "locked" {
		t.Fatalf("child said %q", l)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.Put(ctx, "locked", []byte("x"), sdk.PutOptions{IfNoneMatch: "*"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put while another process holds the key's lock = %v, want it to wait until the deadline", err)
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
	if _, err := s.Put(t.Context(), "locked", []byte("x"), sdk.PutOptions{IfNoneMatch: "*"}); err != nil {
		t.Fatalf("Put after the lock holder died: %v", err)
	}
}

// TestCrashMidWrite kills a writer part way through a streamed blob: nothing
// of it may become visible, and the store keeps working.
func TestCrashMidWrite(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	m, err := s.Put(t.Context(), "existing", []byte("kept"), sdk.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "crash-writer", root)
	if l := c.line(t); l != "streaming" {
		t.Fatalf("child said %q", l)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()

	temps, _ := filepath.Glob(filepath.Join(root, tempPrefix+"*"))
	if len(temps) != 1 {
		t.Fatalf("expected the killed writer's temporary file, found %q", temps)
	}
	page, err := s.List(t.Context(), sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Key != "existing" || page.Items[0].Meta.ETag != m.ETag {
		t.Errorf("after the crash List = %+v, want only the earlier blob", page.Items)
	}
	if _, err := s.Stat(t.Context(), "big"); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("Stat of the crashed write = %v, want ErrNotFound", err)
	}
	if _, err := s.Put(t.Context(), "big", []byte("after"), sdk.PutOptions{IfNoneMatch: "*"}); err != nil {
		t.Errorf("writing the key after the crash: %v", err)
	}
}
