package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/internal/testsvc"
)

// nodeVersion is the Node.js release the official TypeScript SDK client
// runs on; npx brings it when the machine has another.
const nodeVersion = "node@22"

// unavailable skips the test, or fails it where VIRE_REQUIRE_SERVICES=1
// (CI) demands that everything the tests need is there.
func unavailable(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(testsvc.RequireEnv) == "1" {
		t.Fatalf("%s; %s=1 requires it", msg, testsvc.RequireEnv)
	}
	t.Skipf("%s; skipping (set %s=1 to fail instead)", msg, testsvc.RequireEnv)
}

// tsResult is what test/mcp-ts/client.mjs prints.
type tsResult struct {
	Error string `json:"error"`
	Node  string `json:"node"`
	HTTP  tsRun  `json:"http"`
	Stdio tsRun  `json:"stdio"`
}

type tsRun struct {
	Server struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"server"`
	Instructions string `json:"instructions"`
	SessionID    string `json:"sessionId"`
	Tools        []struct {
		Name     string   `json:"name"`
		ReadOnly *bool    `json:"readOnly"`
		Required []string `json:"required"`
	} `json:"tools"`
	Calls map[string]struct {
		IsError    bool           `json:"isError"`
		Text       string         `json:"text"`
		JSON       map[string]any `json:"json"`
		Structured map[string]any `json:"structured"`
	} `json:"calls"`
}

// TestTypeScriptSDKClient runs the official MCP TypeScript SDK client
// (test/mcp-ts, installed by make test-mcp-ts) against a real hosted
// vire-server: over Streamable HTTP with an API key, and over stdio by
// spawning the built vire-mcp.
func TestTypeScriptSDKClient(t *testing.T) {
	root, err := testbuild.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "test", "mcp-ts")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk", "package.json")); err != nil {
		unavailable(t, "the MCP TypeScript SDK is not installed in test/mcp-ts (make test-mcp-ts installs it)")
	}
	npx, err := exec.LookPath("npx")
	if err != nil {
		unavailable(t, "npx is not on PATH (install Node.js and npm)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, npx, "-y", "-p", nodeVersion, "node", "--version").CombinedOutput(); err != nil {
		unavailable(t, "npx cannot run "+nodeVersion+": "+strings.TrimSpace(string(out)))
	}

	s := newServer(t, serverConfig{hosted: true})
	key := s.key("acme", "read,write")
	s.start()
	cmd := exec.CommandContext(ctx, npx, "-y", "-p", nodeVersion, "node", "client.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VIRE_URL="+s.url, "VIRE_API_KEY="+key, "VIRE_MCP_BIN="+testbuild.Binary(t, "./cmd/vire-mcp"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res tsResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil || runErr != nil || res.Error != "" {
		t.Fatalf("client.mjs: %v %v %s\nstdout: %s\nstderr: %s", runErr, err, res.Error, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(res.Node, "v22.") {
		t.Fatalf("ran on Node %s, want 22", res.Node)
	}

	for name, run := range map[string]tsRun{"http": res.HTTP, "stdio": res.Stdio} {
		t.Run(name, func(t *testing.T) {
			if run.Server.Name != "vire" || !strings.Contains(run.Instructions, "CODE.EXCHANGE") {
				t.Fatalf("server %+v, instructions %q", run.Server, run.Instructions)
			}
			var names []string
			for _, tl := range run.Tools {
				names = append(names, tl.Name)
				if tl.ReadOnly == nil || !slices.Contains(tl.Required, "portfolio") && !strings.HasPrefix(tl.Name, "market_") {
					t.Errorf("tool %+v as the SDK sees it", tl)
				}
			}
			sort.Strings(names)
			if !slices.Equal(names, serverTools) {
				t.Fatalf("tools:\n got %v\nwant %v", names, serverTools)
			}
			up, get, quote, unknown := run.Calls["strategy_update"], run.Calls["strategy_get"], run.Calls["market_quote"], run.Calls["unknown_argument"]
			if up.IsError || up.JSON["created"] != true || up.Structured["version"] != float64(1) {
				t.Fatalf("strategy_update: %+v", up)
			}
			ta, _ := get.JSON["strategy"].(map[string]any)["target_allocation"].(map[string]any)
			if get.IsError || get.JSON["portfolio"] != "TS "+name || ta["Australian shares"] != float64(70) {
				t.Fatalf("strategy_get: %+v", get)
			}
			quotes, _ := quote.JSON["quotes"].(map[string]any)
			if quote.IsError || quotes["CBA.AU"] == nil || quotes["MSFT.US"] == nil {
				t.Fatalf("market_quote: %+v", quote)
			}
			if !unknown.IsError || !strings.Contains(unknown.Text, `unknown argument "portfolioName"`) {
				t.Fatalf("unknown argument: %+v", unknown)
			}
		})
	}
	// The SDK speaks the 2025-11-25 session protocol over HTTP: it got a
	// session id bound to its key.
	if !strings.HasPrefix(res.HTTP.SessionID, "vire-") {
		t.Errorf("HTTP session id %q", res.HTTP.SessionID)
	}
	if strings.Contains(stderr.String(), key) || strings.Contains(s.logs.String(), key) {
		t.Fatal("the API key appeared in a log")
	}
}
