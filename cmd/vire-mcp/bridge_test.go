package main

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/internal/mcptest"
)

var serverTools = []string{
	"market_dividends", "market_fundamentals", "market_history", "market_quote", "market_search",
	"plan_add_item", "plan_get", "plan_history", "plan_remove_item", "plan_restore", "plan_update_item",
	"strategy_delete", "strategy_get", "strategy_history", "strategy_restore", "strategy_update",
	"watchlist_get", "watchlist_history", "watchlist_remove", "watchlist_restore", "watchlist_upsert",
}

// TestBridgeHosted drives the built vire-mcp over stdio with mcp-go's
// client against a real hosted vire-server: it offers the server's tools,
// resources and prompt, forwards calls under the key's tenant and scopes,
// and passes the server's tool errors through.
func TestBridgeHosted(t *testing.T) {
	s := newServer(t, serverConfig{hosted: true})
	rw := s.key("acme", "read,write")
	ro := s.key("acme", "read")
	s.start()

	c, stderr := stdioClient(t, bridgeEnv(s.url, rw))
	names := toolNames(t, c)
	sort.Strings(names)
	if !slices.Equal(names, serverTools) {
		t.Fatalf("tools over stdio:\n got %v\nwant %v", names, serverTools)
	}
	mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": "SMSF", "risk_appetite": "balanced", "universe": []string{"AU"}}))
	out := mcptest.OK(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "SMSF"}))
	if out["version"] != float64(1) || !strings.Contains(mcptest.Text(mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "SMSF"})), `"risk_appetite":"balanced"`) {
		t.Fatalf("strategy_get: %v", out)
	}
	q := mcptest.OK(t, "market_quote", mcptest.Call(t, c, "market_quote", map[string]any{"tickers": []string{"BHP.AU"}}))
	if _, ok := q["quotes"].(map[string]any)["BHP.AU"]; !ok {
		t.Fatalf("market_quote: %v", q)
	}
	// The server's own tool errors come through unchanged.
	mcptest.Failed(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "SMSF", "name": "x"}), `unknown argument "name"`)
	mcptest.Failed(t, "plan_get", mcptest.Call(t, c, "plan_get", map[string]any{"portfolio": "SMSF"}), "has no plan yet; add its first item with plan_add_item")

	ctx := context.Background()
	rr := mcpgo.ReadResourceRequest{}
	rr.Params.URI = "vire://portfolios/SMSF/strategy"
	res, err := c.ReadResource(ctx, rr)
	if err != nil || len(res.Contents) != 1 {
		t.Fatalf("read resource: %v %+v", err, res)
	}
	if tc, ok := res.Contents[0].(mcpgo.TextResourceContents); !ok || !strings.Contains(tc.Text, "balanced") {
		t.Fatalf("resource contents: %+v", res.Contents[0])
	}
	pr := mcpgo.GetPromptRequest{}
	pr.Params.Name, pr.Params.Arguments = "review_plan", map[string]string{"portfolio": "SMSF"}
	prompt, err := c.GetPrompt(ctx, pr)
	if err != nil || len(prompt.Messages) < 2 {
		t.Fatalf("prompt: %v %+v", err, prompt)
	}

	// A read-only key reads, and the server's scope check reaches the client.
	roc, _ := stdioClient(t, bridgeEnv(s.url, ro))
	mcptest.OK(t, "strategy_get", mcptest.Call(t, roc, "strategy_get", map[string]any{"portfolio": "SMSF"}))
	mcptest.Failed(t, "strategy_update", mcptest.Call(t, roc, "strategy_update", map[string]any{"portfolio": "SMSF", "notes": "x"}), `lacks the "write" scope`)

	for _, k := range []string{rw, ro} {
		if strings.Contains(stderr.String(), k) || strings.Contains(s.logs.String(), k) {
			t.Fatal("an API key appeared in a log")
		}
	}
	if !strings.Contains(stderr.String(), "connected to Vire") {
		t.Fatalf("vire-mcp log: %s", stderr.String())
	}
}

// TestBridgeRefusals: what the server refuses becomes a tool error that
// says what to do.
func TestBridgeRefusals(t *testing.T) {
	s := newServer(t, serverConfig{hosted: true})
	good := s.key("acme", "read,write")
	doomed := s.key("acme", "read,write")
	other := s.key("other", "read")
	s.start()

	t.Run("no key", func(t *testing.T) {
		c, _ := stdioClient(t, bridgeEnv(s.url, ""))
		if names := toolNames(t, c); !slices.Equal(names, []string{statusTool}) {
			t.Fatalf("tools without a key: %v", names)
		}
		mcptest.Failed(t, statusTool, mcptest.Call(t, c, statusTool, nil), "needs an API key (401", "set VIRE_API_KEY")
	})
	t.Run("bad key", func(t *testing.T) {
		c, stderr := stdioClient(t, bridgeEnv(s.url, "vire_AAAAAAAAAAAA_notarealkey"))
		mcptest.Failed(t, statusTool, mcptest.Call(t, c, statusTool, nil), "refused the API key in VIRE_API_KEY (401", "set VIRE_API_KEY")
		if strings.Contains(stderr.String(), "notarealkey") {
			t.Fatal("the key appeared in vire-mcp's log")
		}
	})
	t.Run("revoked while connected", func(t *testing.T) {
		c, _ := stdioClient(t, bridgeEnv(s.url, doomed))
		mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": "P", "notes": "before"}))
		id := strings.Split(doomed, "_")[1]
		s.cli("apikeys", "revoke", "-tenant", "acme", id)
		mcptest.Failed(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "P"}),
			"refused the API key in VIRE_API_KEY (401", "revoked")
	})
	t.Run("suspended tenant", func(t *testing.T) {
		c, _ := stdioClient(t, bridgeEnv(s.url, other))
		mcptest.Failed(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "P"}), "has no strategy yet")
		s.cli("tenants", "suspend", "other")
		mcptest.Failed(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "P"}), "(403 tenant_suspended)", "ask the operator")
	})

	// The good key still works after all that.
	c, _ := stdioClient(t, bridgeEnv(s.url, good))
	mcptest.OK(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "P"}))
}

// TestBridgeRateLimited: a 429 becomes "wait N seconds".
func TestBridgeRateLimited(t *testing.T) {
	s := newServer(t, serverConfig{hosted: true, rate: 1, burst: 8})
	key := s.key("acme", "read")
	s.start()
	c, _ := stdioClient(t, bridgeEnv(s.url, key))
	var last string
	for i := 0; i < 20; i++ {
		r := mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "P"})
		last = mcptest.Text(r)
		if strings.Contains(last, "(429)") {
			break
		}
		if !strings.Contains(last, "has no strategy yet") {
			t.Fatalf("call %d: %s", i, last)
		}
	}
	if !strings.Contains(last, "rate limit for this API key is used up (429): wait ") || !strings.Contains(last, " seconds, then try again") {
		t.Fatalf("no rate-limit error after 20 calls; last answer: %s", last)
	}
}

// TestBridgeConnectsLater: started before the server, vire-mcp offers
// vire_status, which connects once the server is up and brings in the
// server's tools, telling a 2025-11-25 client (as Claude Desktop is) that
// the tool list changed.
func TestBridgeConnectsLater(t *testing.T) {
	s := newServer(t, serverConfig{})
	c, _ := stdioClient(t, bridgeEnv(s.url, ""), "2025-11-25")
	changed := make(chan struct{}, 4)
	c.OnNotification(func(n mcpgo.JSONRPCNotification) {
		if n.Method == string(mcpgo.MethodNotificationToolsListChanged) {
			changed <- struct{}{}
		}
	})
	mcptest.Failed(t, statusTool, mcptest.Call(t, c, statusTool, nil), "cannot reach the Vire server at "+s.url+"/mcp", "start vire-server", "VIRE_URL")
	s.start()
	r := mcptest.Call(t, c, statusTool, nil)
	if r.IsError || !strings.Contains(mcptest.Text(r), "Connected to Vire") {
		t.Fatalf("%s after the server started: %s", statusTool, mcptest.Text(r))
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no tools/list_changed notification")
	}
	names := toolNames(t, c)
	sort.Strings(names)
	if !slices.Equal(names, serverTools) {
		t.Fatalf("tools after connecting: %v", names)
	}
	// A personal server needs no key.
	out := mcptest.OK(t, "watchlist_upsert", mcptest.Call(t, c, "watchlist_upsert", map[string]any{"portfolio": "Mine", "ticker": "VAS.AU", "verdict": "accumulate"}))
	if b, _ := json.Marshal(out); !strings.Contains(string(b), `"created":true`) {
		t.Fatalf("watchlist_upsert: %s", b)
	}
}
