package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/testbuild"
)

// install builds vire-server and the bundled plugins into dir/bin, the layout
// `make build` produces.
func install(t *testing.T, dir string) string {
	t.Helper()
	root, err := testbuild.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	plugins, _ := filepath.Glob(filepath.Join(root, "cmd", "vire-plugin-*"))
	if err := os.MkdirAll(filepath.Join(dir, "bin", "plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	build := func(pkg, out string) {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	server := filepath.Join(dir, "bin", "vire-server")
	build("./cmd/vire-server", server)
	for _, p := range plugins {
		if srcs, _ := filepath.Glob(filepath.Join(p, "*.go")); len(srcs) == 0 {
			continue
		}
		build("./cmd/"+filepath.Base(p), filepath.Join(dir, "bin", "plugins", filepath.Base(p)))
	}
	return server
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type readyBody struct {
	Status  string `json:"status"`
	Plugins []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		PID    int    `json:"pid"`
	} `json:"plugins"`
}

func waitReady(t *testing.T, url string, exited <-chan error) readyBody {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("server exited before it was ready: %v", err)
		default:
		}
		resp, err := http.Get(url + "/api/ready")
		if err == nil {
			var body readyBody
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return body
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server not ready within 30s")
	return readyBody{}
}

func pidAlive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestPersonalConfigEndToEnd runs the real binaries on configs/personal.hcl,
// and on the embedded default, in a temporary directory: the server must
// become ready, and on SIGTERM it and every plugin must exit within 5s.
func TestPersonalConfigEndToEnd(t *testing.T) {
	root, err := testbuild.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	server := install(t, dir)
	src, err := os.ReadFile(filepath.Join(root, "configs", "personal.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "personal.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"file", []string{"run", "-config", filepath.Join(dir, "personal.hcl")}},
		{"embedded", []string{"run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			args := append(tc.args, "-var", "listen=127.0.0.1:"+strconv.Itoa(port))
			cmd := exec.Command(server, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "VIRE_MASTER_KEY="+key)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			logs := make(chan string, 1)
			go func() {
				b, _ := io.ReadAll(bufio.NewReader(stderr))
				logs <- string(b)
			}()
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				_ = cmd.Process.Kill()
			}()

			url := fmt.Sprintf("http://127.0.0.1:%d", port)
			body := waitReady(t, url, exited)
			if len(body.Plugins) < 2 {
				t.Fatalf("ready body lists %d plugins, want file and env", len(body.Plugins))
			}
			for _, p := range body.Plugins {
				if p.Status != "running" || p.PID == 0 {
					t.Fatalf("plugin %+v not running", p)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
				t.Fatalf("file storage did not create ./data in the working directory: %v", err)
			}

			start := time.Now()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-exited:
				if err != nil {
					t.Fatalf("server exit after SIGTERM: %v\n%s", err, <-logs)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("server still running 5s after SIGTERM\n%s", <-logs)
			}
			for _, p := range body.Plugins {
				for pidAlive(p.PID) {
					if time.Since(start) > 5*time.Second {
						t.Fatalf("plugin %s (pid %d) still alive 5s after SIGTERM", p.Name, p.PID)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			out := <-logs
			if strings.Contains(out, key) {
				t.Fatal("the master key appeared in the server log")
			}
			if !regexp.MustCompile(`stopped`).MatchString(out) {
				t.Errorf("log does not record a clean stop:\n%s", out)
			}
		})
	}
}
