// Package testsvc starts the real servers that Vire's storage tests talk to
// (redis-server, versitygw, fake-gcs-server) on loopback, each in its own
// process group and temporary directory, and stops them when the test ends.
//
// Binaries are looked up in $VIRE_TOOLS_BIN (default <repo root>/.tools/bin,
// where scripts/install-test-deps.sh puts them), then on PATH. A missing
// binary skips the test, unless VIRE_REQUIRE_SERVICES=1 (as in CI), which
// fails it instead: a skipped test is not a passed one.
package testsvc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to answer after launch;
// generous because the test machines are small and shared.
const startTimeout = 30 * time.Second

// RequireEnv names the variable that turns a missing service into a failure.
const RequireEnv = "VIRE_REQUIRE_SERVICES"

// ToolsEnv names the variable that overrides the tools directory.
const ToolsEnv = "VIRE_TOOLS_BIN"

// unavailable skips or fails the test, depending on RequireEnv.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + " (run `make test-deps` or scripts/install-test-deps.sh)"
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, RequireEnv)
	}
	t.Skipf("%s; skipping (set %s=1 to fail instead)", msg, RequireEnv)
}

// repoRoot finds the module root by walking up from the working directory,
// which is the package directory under `go test`.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/vire-dev/vire\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod for github.com/vire-dev/vire above the working directory")
		}
		dir = parent
	}
}

// ToolsDir is where install-test-deps.sh installs the Go-built servers.
func ToolsDir() string {
	if d := os.Getenv(ToolsEnv); d != "" {
		return d
	}
	root, err := repoRoot()
	if err != nil {
		return ""
	}
	return filepath.Join(root, ".tools", "bin")
}

// LookPath finds a server binary in ToolsDir, then on PATH.
func LookPath(name string) (string, error) {
	if d := ToolsDir(); d != "" {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

// RandomToken returns n random bytes, hex-encoded: credentials and unique
// names for one test.
func RandomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// server is one running child process.
type server struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error // set before done is closed
	// release lets the thread that started the process go.
	release     chan struct{}
	releaseOnce sync.Once
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop ends the whole process group: TERM first, KILL if it lingers.
func (s *server) stop() {
	defer s.releaseOnce.Do(func() { close(s.release) })
	if s.exited() {
		return
	}
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
}

// logTail returns the end of the server's output, for failure messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.log)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// start launches bin with args in its own process group; ready is polled
// until it returns nil, the process exits, or startTimeout passes.
func start(t testing.TB, name, bin string, args, env []string, dir string, ready func(context.Context) error) (*server, error) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Own process group so cleanup reaches any children; SIGKILL if the test
	// process dies without running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Pdeathsig fires when the thread that started the child exits, and the
	// runtime ends threads whose locked goroutine returns (the plugin host
	// does that). So the child is started from a thread of its own, held
	// until the server has stopped.
	started := make(chan error)
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		err := cmd.Start()
		started <- err
		if err == nil {
			<-release
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	s := &server{name: name, cmd: cmd, log: logPath, done: make(chan struct{}), release: release}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		if s.exited() {
			return nil, fmt.Errorf("%s exited during start-up (%v):\n%s", name, s.err, s.logTail())
		}
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		err := ready(rctx)
		rcancel()
		if err == nil {
			return s, nil
		}
		select {
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("%s did not answer within %s (last error: %v):\n%s", name, startTimeout, err, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// launch finds bin, picks a free port and starts the server, retrying with a
// new port if another process took it between probe and bind.
func launch(t testing.TB, name string, argv func(port int, dir string) ([]string, []string), ready func(ctx context.Context, addr string) error) string {
	t.Helper()
	bin, err := LookPath(name)
	if err != nil {
		unavailable(t, "%s not found in %s or on PATH", name, ToolsDir())
		return ""
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testsvc: no free port: %v", err)
		}
		dir := t.TempDir()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		args, env := argv(port, dir)
		s, err := start(t, name, bin, args, env, dir, func(ctx context.Context) error { return ready(ctx, addr) })
		if err == nil {
			t.Cleanup(s.stop)
			return addr
		}
		lastErr = err
	}
	unavailable(t, "%s (%s) failed to start: %v", name, bin, lastErr)
	return ""
}

// Redis starts redis-server without persistence and returns its host:port.
func Redis(t testing.TB) string {
	t.Helper()
	return launch(t, "redis-server", func(port int, dir string) ([]string, []string) {
		return []string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--protected-mode", "no",
		}, nil
	}, redisPing)
}

// RedisUnix starts redis-server listening only on a unix socket and returns
// the socket's path.
func RedisUnix(t testing.TB) string {
	t.Helper()
	var sock string
	launch(t, "redis-server", func(_ int, dir string) ([]string, []string) {
		sock = filepath.Join(dir, "redis.sock")
		return []string{
			"--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
			"--save", "", "--appendonly", "no", "--dir", dir,
		}, nil
	}, func(ctx context.Context, _ string) error { return redisPingNet(ctx, "unix", sock) })
	return sock
}

func redisPing(ctx context.Context, addr string) error { return redisPingNet(ctx, "tcp", addr) }

func redisPingNet(ctx context.Context, network, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

// VersityGW starts the versitygw S3 gateway over a posix directory with fresh
// random root credentials and returns its endpoint URL and the credentials.
func VersityGW(t testing.TB) (endpoint, accessKey, secretKey string) {
	t.Helper()
	accessKey = "vire" + RandomToken(8)
	secretKey = RandomToken(20)
	addr := launch(t, "versitygw", func(port int, dir string) ([]string, []string) {
		root := filepath.Join(dir, "root")
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatalf("testsvc: %v", err)
		}
		return []string{"--port", fmt.Sprintf("127.0.0.1:%d", port), "--quiet", "posix", root},
			[]string{"ROOT_ACCESS_KEY=" + accessKey, "ROOT_SECRET_KEY=" + secretKey}
	}, httpAnswers("/"))
	return "http://" + addr, accessKey, secretKey
}

// FakeGCS starts fake-gcs-server with its in-memory backend over plain HTTP
// and returns its host:port (the value for STORAGE_EMULATOR_HOST).
func FakeGCS(t testing.TB) string {
	t.Helper()
	return launch(t, "fake-gcs-server", func(port int, dir string) ([]string, []string) {
		return []string{
			"-scheme", "http", "-host", "127.0.0.1", "-port", strconv.Itoa(port),
			"-backend", "memory", "-log-level", "warn",
			"-public-host", fmt.Sprintf("127.0.0.1:%d", port),
			"-external-url", fmt.Sprintf("http://127.0.0.1:%d", port),
		}, nil
	}, httpAnswers("/storage/v1/b"))
}

// httpAnswers is ready once any HTTP response comes back from path.
func httpAnswers(path string) func(ctx context.Context, addr string) error {
	return func(ctx context.Context, addr string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}
