package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/internal/testbuild"
)

// vireServer is a real vire-server process on loopback: file storage
// encrypted with the env key provider, the sample market data, and, when
// hosted, API keys made with its own CLI.
type vireServer struct {
	t      testing.TB
	bin    string
	dir    string
	cfg    string
	url    string
	port   int
	master string
	cmd    *exec.Cmd
	exited chan error
	logs   *servertest.SyncBuffer
}

type serverConfig struct {
	hosted bool
	// rate and burst set the per-key rate limit (requests a minute).
	rate, burst int
	// port, when set, is the port to listen on.
	port int
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newServer writes the configuration; start runs it.
func newServer(t testing.TB, c serverConfig) *vireServer {
	t.Helper()
	s := &vireServer{t: t, bin: testbuild.Binary(t, "./cmd/vire-server"), dir: t.TempDir(), port: c.port, logs: &servertest.SyncBuffer{}}
	if s.port == 0 {
		s.port = freePort(t)
	}
	s.url = "http://127.0.0.1:" + strconv.Itoa(s.port)
	key := make([]byte, 32)
	rand.Read(key)
	s.master = base64.StdEncoding.EncodeToString(key)
	var b strings.Builder
	b.WriteString("variable \"listen\" {\n  default = \"127.0.0.1:8080\"\n}\n")
	b.WriteString("variable \"master_key\" {\n  type      = string\n  sensitive = true\n  default   = env(\"VIRE_MASTER_KEY\")\n}\n")
	b.WriteString("server {\n  listen = var.listen\n}\n")
	if c.hosted {
		rate, burst := c.rate, c.burst
		if rate == 0 {
			rate, burst = 6000, 600
		}
		fmt.Fprintf(&b, "auth {\n  mode       = \"api_key\"\n  rate_limit = %d\n  rate_burst = %d\n}\n", rate, burst)
	}
	b.WriteString("storage \"file\" {\n  root  = abspath(\"data\")\n  fsync = false\n}\n")
	b.WriteString("keys \"env\" {\n  master_key = var.master_key\n}\n")
	b.WriteString("source \"sample\" \"market\" {}\n")
	for _, p := range []string{"file", "env", "sample"} {
		fmt.Fprintf(&b, "plugin %q {\n  path = %q\n}\n", p, testbuild.Binary(t, "./cmd/vire-plugin-"+p))
	}
	s.cfg = filepath.Join(s.dir, "vire.hcl")
	if err := os.WriteFile(s.cfg, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// cli runs "vire-server COMMAND SUBCOMMAND [ARGS]" on the server's
// configuration and returns its standard output.
func (s *vireServer) cli(args ...string) string {
	s.t.Helper()
	args = append([]string{args[0], args[1], "-config", s.cfg}, args[2:]...)
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "VIRE_MASTER_KEY="+s.master)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("vire-server %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(out.String())
}

// key makes a tenant (if needed) and an API key with the scopes.
func (s *vireServer) key(tenantID, scopes string) string {
	s.t.Helper()
	if !strings.Contains(s.cli("tenants", "list"), tenantID) {
		s.cli("tenants", "create", tenantID)
	}
	return s.cli("apikeys", "create", "-tenant", tenantID, "-scopes", scopes)
}

func (s *vireServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "run", "-config", s.cfg, "-var", "listen=127.0.0.1:"+strconv.Itoa(s.port))
	s.cmd.Dir = s.dir
	s.cmd.Env = append(os.Environ(), "VIRE_MASTER_KEY="+s.master)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	s.t.Cleanup(s.stop)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			s.t.Fatalf("vire-server exited before it was ready: %v\n%s", err, s.logs.String())
		default:
		}
		if resp, err := http.Get(s.url + "/api/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("vire-server not ready in 30s\n%s", s.logs.String())
}

func (s *vireServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
}

// bridgeEnv is the environment vire-mcp gets: the server and the key
// ("" sets VIRE_API_KEY empty).
func bridgeEnv(url, key string) []string {
	return []string{"VIRE_URL=" + url, "VIRE_API_KEY=" + key, "VIRE_LOG_LEVEL=debug"}
}

// stdioClient starts the built vire-mcp with mcp-go's stdio client and
// initializes it, in the newest protocol unless version pins one; stderr
// collects vire-mcp's log.
func stdioClient(t testing.TB, env []string, version ...string) (*client.Client, *servertest.SyncBuffer) {
	t.Helper()
	bin := testbuild.Binary(t, "./cmd/vire-mcp")
	stderr := &servertest.SyncBuffer{}
	tr := transport.NewStdioWithOptions(bin, env, nil, transport.WithCommandStderrWriter(stderr))
	var opts []client.ClientOption
	if len(version) > 0 {
		opts = append(opts, client.WithProtocolVersion(version[0]))
	}
	c := client.NewClient(tr, opts...)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "vire-mcp-test", Version: "1"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Initialize(ctx, req); err != nil {
		t.Fatalf("initialize: %v\n%s", err, stderr.String())
	}
	return c, stderr
}

func toolNames(t testing.TB, c *client.Client) []string {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}
