package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/internal/testbuild"
)

// TestStdoutOnlyJSONRPC runs the built vire-mcp with debug logging, in
// both the connected and the unconnected state, and checks every byte it
// writes to stdout: each line must be one JSON-RPC 2.0 message. The logs
// go to stderr, without the API key.
func TestStdoutOnlyJSONRPC(t *testing.T) {
	s := newServer(t, serverConfig{hosted: true})
	key := s.key("acme", "read,write")
	s.start()
	for _, tc := range []struct {
		name, url string
		calls     []string // tools to call
		logSays   string
	}{
		{"connected", s.url, []string{"strategy_update", "strategy_get", "market_search"}, "connected to Vire"},
		{"unreachable", "http://127.0.0.1:1", []string{statusTool}, "not connected to Vire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(testbuild.Binary(t, "./cmd/vire-mcp"))
			cmd.Env = append(bridgeEnv(tc.url, key), "PATH=/usr/bin:/bin")
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			// Polled while the process writes: a buffer safe for both.
			var stdout, stderr servertest.SyncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			msgs := []string{
				`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`,
				`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
				`{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`,
				`{"jsonrpc":"2.0","id":3,"method":"ping"}`,
			}
			args := map[string]string{
				"strategy_update": `{"portfolio":"Out","notes":"stdout"}`, "strategy_get": `{"portfolio":"Out"}`,
				"market_search": `{"query":"BHP"}`, statusTool: `{}`,
			}
			for i, tool := range tc.calls {
				msgs = append(msgs, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":%q,"arguments":%s}}`, 10+i, tool, args[tool]))
			}
			for _, m := range msgs {
				if _, err := io.WriteString(in, m+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			// Answers may come in any order; wait for the last id, then
			// close stdin, which ends the session.
			lastID := fmt.Sprintf(`"id":%d`, 10+len(tc.calls)-1)
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(stdout.String(), lastID) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			in.Close()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("vire-mcp exit: %v\n%s", err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatal("vire-mcp did not exit when stdin closed")
			}

			ids := map[float64]bool{}
			sc := bufio.NewScanner(strings.NewReader(stdout.String()))
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				var m struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      *float64        `json:"id"`
					Method  string          `json:"method"`
					Params  json.RawMessage `json:"params"`
					Result  json.RawMessage `json:"result"`
					Error   json.RawMessage `json:"error"`
				}
				dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&m); err != nil || m.JSONRPC != "2.0" || (m.ID == nil && m.Method == "") {
					t.Fatalf("stdout line is not a JSON-RPC message (%v): %q", err, sc.Text())
				}
				if m.ID != nil {
					ids[*m.ID] = true
				}
			}
			for _, id := range []float64{1, 2, 3, 10} {
				if !ids[id] {
					t.Fatalf("no answer to request %v on stdout:\n%s", id, stdout.String())
				}
			}
			log := stderr.String()
			if !strings.Contains(log, "vire-mcp: "+tc.logSays) {
				t.Fatalf("stderr does not hold the log: %s", log)
			}
			if strings.Contains(log, key) || strings.Contains(stdout.String(), key) {
				t.Fatal("the API key appeared in vire-mcp's output")
			}
		})
	}
}
