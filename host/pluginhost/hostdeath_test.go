package pluginhost_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
)

// TestMain lets the test binary double as a plugin host process, so a test
// can SIGKILL a real host and watch what happens to its plugins.
func TestMain(m *testing.M) {
	if path := os.Getenv("VIRE_TEST_HOST_PLUGIN"); path != "" {
		os.Exit(runAsHost(path))
	}
	os.Exit(m.Run())
}

func runAsHost(pluginPath string) int {
	h := pluginhost.New(pluginhost.Options{})
	var pids []string
	for i := 0; i < 2; i++ {
		p, err := h.Start(context.Background(), pluginhost.Spec{Name: "file", Path: pluginPath})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := p.BlobStore(context.Background(), sdk.ConfigValue{"root": os.TempDir()}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pids = append(pids, strconv.Itoa(p.PID()))
	}
	fmt.Println(strings.Join(pids, " "))
	select {}
}

func TestNoOrphansWhenHostIsKilled(t *testing.T) {
	bin := testbuild.Binary(t, filePlugin)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "VIRE_TEST_HOST_PLUGIN="+bin)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("host did not report plugin pids: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(line) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("plugin %d not running before the kill", pid)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("plugin %d still alive 3s after its host was SIGKILLed", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestPluginRunDirectlyExplainsItself(t *testing.T) {
	bin := testbuild.Binary(t, filePlugin)
	cmd := exec.Command(bin)
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("plugin run without a host exited 0")
	}
	text := strings.TrimSpace(string(out))
	if strings.Count(text, "\n") != 0 || !strings.Contains(text, "Vire plugin") || !strings.Contains(text, "describe") {
		t.Fatalf("output = %q, want one line explaining what the binary is", text)
	}

	out, err = exec.Command(bin, "describe").Output()
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	for _, want := range []string{`"name": "file"`, `"protocol_version": 1`, `"kind": "storage"`, `"name": "root"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("describe output lacks %s:\n%s", want, out)
		}
	}
}
