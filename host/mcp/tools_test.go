package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/internal/mcptest"
)

// The protocol revisions the endpoint serves: the stateless 2026-07-28
// core and the 2025-11-25 session protocol.
var protocols = []string{mcpgo.ProtocolVersion20260728, "2025-11-25"}

var wantTools = []string{
	"market_dividends", "market_fundamentals", "market_history", "market_quote", "market_search",
	"plan_add_item", "plan_get", "plan_history", "plan_remove_item", "plan_restore", "plan_update_item",
	"strategy_delete", "strategy_get", "strategy_history", "strategy_restore", "strategy_update",
	"watchlist_get", "watchlist_history", "watchlist_remove", "watchlist_restore", "watchlist_upsert",
}

func listTools(t *testing.T, e *testEnv, who, version string) []mcpgo.Tool {
	t.Helper()
	c := e.connect(t, who, version)
	res, err := c.ListTools(context.Background(), mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Tools
}

func TestListTools(t *testing.T) {
	e := newEnv(t, envConfig{})
	for _, version := range protocols {
		t.Run(version, func(t *testing.T) {
			tools := listTools(t, e, "alice", version)
			var got []string
			for _, tl := range tools {
				got = append(got, tl.Name)
				checkToolDefinition(t, tl)
			}
			sort.Strings(got)
			if !slices.Equal(got, wantTools) {
				t.Fatalf("tools:\n got %v\nwant %v", got, wantTools)
			}
		})
	}
	t.Run("without market data", func(t *testing.T) {
		e := newEnv(t, envConfig{noMarket: true})
		for _, tl := range listTools(t, e, "alice", "") {
			if strings.HasPrefix(tl.Name, "market_") {
				t.Fatalf("%s listed without a market service", tl.Name)
			}
		}
	})
}

// checkToolDefinition checks what a model relies on to choose a tool: a
// description, a strict input schema whose every property is described,
// and hints that match what the tool does.
func checkToolDefinition(t *testing.T, tl mcpgo.Tool) {
	t.Helper()
	if len(tl.Description) < 60 || tl.Title == "" {
		t.Errorf("%s: title %q, description %q: too thin for a model to choose by", tl.Name, tl.Title, tl.Description)
	}
	var schema struct {
		Type                 string                     `json:"type"`
		AdditionalProperties *bool                      `json:"additionalProperties"`
		Properties           map[string]json.RawMessage `json:"properties"`
		Required             []string                   `json:"required"`
	}
	raw := tl.RawInputSchema
	if len(raw) == 0 {
		raw, _ = json.Marshal(tl.InputSchema)
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("%s: input schema: %v\n%s", tl.Name, err, raw)
	}
	if schema.Type != "object" || schema.AdditionalProperties == nil || *schema.AdditionalProperties {
		t.Errorf("%s: schema must be an object refusing unknown properties: %s", tl.Name, raw)
	}
	for name, raw := range schema.Properties {
		var p struct {
			Description string `json:"description"`
		}
		json.Unmarshal(raw, &p)
		if len(p.Description) < 10 {
			t.Errorf("%s: property %s has no real description", tl.Name, name)
		}
	}
	if _, has := schema.Properties["portfolio"]; has && !slices.Contains(schema.Required, "portfolio") {
		t.Errorf("%s: portfolio is not required", tl.Name)
	}
	a := tl.Annotations
	if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
		t.Fatalf("%s: hints missing: %+v", tl.Name, a)
	}
	reading := strings.HasSuffix(tl.Name, "_get") || strings.HasSuffix(tl.Name, "_history") || strings.HasPrefix(tl.Name, "market_")
	removing := strings.HasSuffix(tl.Name, "_delete") || strings.HasSuffix(tl.Name, "_remove") || strings.HasSuffix(tl.Name, "_remove_item")
	if *a.ReadOnlyHint != reading {
		t.Errorf("%s: readOnlyHint %v", tl.Name, *a.ReadOnlyHint)
	}
	if *a.DestructiveHint != removing {
		t.Errorf("%s: destructiveHint %v", tl.Name, *a.DestructiveHint)
	}
	if *a.OpenWorldHint != strings.HasPrefix(tl.Name, "market_") {
		t.Errorf("%s: openWorldHint %v", tl.Name, *a.OpenWorldHint)
	}
}

// step is one tool call of TestEveryTool and what its answer must show.
type step struct {
	tool  string
	args  map[string]any
	check func(t *testing.T, out map[string]any)
	// fails, when set, is text the tool error must hold.
	fails string
}

// get walks a decoded JSON value: keys for objects, indexes for arrays.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func want(t *testing.T, out map[string]any, value any, path ...any) {
	t.Helper()
	got := get(out, path...)
	if fmt.Sprint(got) != fmt.Sprint(value) {
		b, _ := json.Marshal(out)
		t.Fatalf("%v = %v, want %v in\n%s", path, got, value, b)
	}
}

func nonEmpty(t *testing.T, out map[string]any, path ...any) {
	t.Helper()
	switch v := get(out, path...).(type) {
	case []any:
		if len(v) > 0 {
			return
		}
	case map[string]any:
		if len(v) > 0 {
			return
		}
	case string:
		if v != "" {
			return
		}
	}
	b, _ := json.Marshal(out)
	t.Fatalf("%v is empty in\n%s", path, b)
}

// TestEveryTool calls every listed tool over HTTP, once per protocol
// revision, in an order that builds on the previous answers: create,
// read, change with a version check, review the history, undo, delete
// and bring back.
func TestEveryTool(t *testing.T) {
	e := newEnv(t, envConfig{})
	for _, version := range protocols {
		t.Run(version, func(t *testing.T) {
			c := e.connect(t, "alice", version)
			p := "SMSF " + version
			var itemID string
			steps := []step{
				{tool: "strategy_update", args: map[string]any{"portfolio": p, "universe": []string{"au", "US"}, "risk_appetite": "growth",
					"max_position_pct": 10, "max_sector_pct": 30, "target_allocation": map[string]any{"AU shares": 60, "US shares": 30}},
					check: func(t *testing.T, out map[string]any) {
						want(t, out, true, "created")
						want(t, out, 1, "version")
						want(t, out, "[AU US]", "strategy", "universe")
					}},
				{tool: "strategy_get", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "growth", "strategy", "risk_appetite")
					want(t, out, 60, "strategy", "target_allocation", "AU shares")
				}},
				{tool: "strategy_update", args: map[string]any{"portfolio": p, "expected_version": 1,
					"target_allocation": map[string]any{"US shares": nil, "Cash": 10}, "notes": "income first"},
					check: func(t *testing.T, out map[string]any) {
						want(t, out, 2, "version")
						want(t, out, false, "created")
						want(t, out, "map[AU shares:60 Cash:10]", "strategy", "target_allocation")
					}},
				{tool: "strategy_history", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 2, "current_version")
					want(t, out, 2, "versions", 0, "version")
					want(t, out, "update target_allocation, notes", "versions", 0, "change")
				}},
				{tool: "strategy_history", args: map[string]any{"portfolio": p, "version": 1}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 30, "strategy", "target_allocation", "US shares")
				}},
				{tool: "strategy_restore", args: map[string]any{"portfolio": p, "version": 1}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 3, "version")
					want(t, out, 30, "strategy", "target_allocation", "US shares")
					want(t, out, "", "strategy", "notes")
				}},
				{tool: "strategy_delete", args: map[string]any{"portfolio": p, "expected_version": 3}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 4, "version")
					want(t, out, "strategy_restore with version 3", "undo")
				}},
				{tool: "strategy_get", args: map[string]any{"portfolio": p}, fails: "deleted in version 4; bring it back with strategy_restore (version 3)"},
				{tool: "strategy_restore", args: map[string]any{"portfolio": p, "version": 3, "expected_version": 4},
					check: func(t *testing.T, out map[string]any) {
						want(t, out, 5, "version")
						want(t, out, "growth", "strategy", "risk_appetite")
					}},

				{tool: "plan_add_item", args: map[string]any{"portfolio": p, "action": "buy", "ticker": "bhp.au", "target_price": 40,
					"trigger": "after the half-year result"}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 1, "version")
					want(t, out, "BHP.AU", "item", "ticker")
					want(t, out, "pending", "item", "status")
					itemID, _ = get(out, "item", "id").(string)
				}},
				{tool: "plan_get", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, itemID, "plan", "items", 0, "id")
					want(t, out, 40, "plan", "items", 0, "target_price")
				}},
				{tool: "plan_update_item", args: map[string]any{"portfolio": p, "status": "triggered", "target_price": nil, "notes": "result was strong"},
					check: func(t *testing.T, out map[string]any) {
						want(t, out, 2, "version")
						want(t, out, "triggered", "item", "status")
						want(t, out, nil, "item", "target_price")
					}},
				{tool: "plan_history", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 2, "current_version")
				}},
				{tool: "plan_remove_item", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 3, "version")
					want(t, out, itemID, "removed_item_id")
				}},
				{tool: "plan_restore", args: map[string]any{"portfolio": p, "version": 2}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 4, "version")
					want(t, out, "triggered", "plan", "items", 0, "status")
				}},

				{tool: "watchlist_upsert", args: map[string]any{"portfolio": p, "ticker": "cba.au", "verdict": "watch", "target_price": 100},
					check: func(t *testing.T, out map[string]any) {
						want(t, out, true, "created")
						want(t, out, "CBA.AU", "item", "ticker")
					}},
				{tool: "watchlist_get", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "watch", "watchlist", "items", 0, "verdict")
				}},
				{tool: "watchlist_remove", args: map[string]any{"portfolio": p, "ticker": "CBA.AU"}, check: func(t *testing.T, out map[string]any) {
					want(t, out, 2, "version")
				}},
				{tool: "watchlist_history", args: map[string]any{"portfolio": p}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "remove CBA.AU", "versions", 0, "change")
				}},
				{tool: "watchlist_restore", args: map[string]any{"portfolio": p, "version": 1}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "CBA.AU", "watchlist", "items", 0, "ticker")
				}},

				{tool: "market_quote", args: map[string]any{"tickers": []string{"BHP.AU", "aapl.us"}}, check: func(t *testing.T, out map[string]any) {
					nonEmpty(t, out, "quotes", "BHP.AU", "quote", "time")
					nonEmpty(t, out, "quotes", "AAPL.US", "source")
				}},
				{tool: "market_history", args: map[string]any{"ticker": "BHP.AU", "period": "w"}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "w", "period")
					nonEmpty(t, out, "bars")
					nonEmpty(t, out, "bars", 0, "date")
				}},
				{tool: "market_fundamentals", args: map[string]any{"ticker": "CSL.AU"}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "Healthcare", "fundamentals", "sector")
				}},
				{tool: "market_dividends", args: map[string]any{"ticker": "CBA.AU", "from": "2020-01-01"}, check: func(t *testing.T, out map[string]any) {
					nonEmpty(t, out, "dividends")
				}},
				{tool: "market_search", args: map[string]any{"query": "Commonwealth", "limit": 5}, check: func(t *testing.T, out map[string]any) {
					want(t, out, "CBA.AU", "results", 0, "ticker")
				}},
			}
			called := map[string]bool{}
			for i, s := range steps {
				if s.tool == "plan_update_item" || s.tool == "plan_remove_item" {
					s.args["item_id"] = itemID
				}
				r := mcptest.Call(t, c, s.tool, s.args)
				called[s.tool] = true
				if s.fails != "" {
					mcptest.Failed(t, s.tool, r, s.fails)
					continue
				}
				out := mcptest.OK(t, s.tool, r)
				if r.StructuredContent == nil {
					t.Fatalf("step %d %s: no structured content", i, s.tool)
				}
				s.check(t, out)
			}
			for _, name := range wantTools {
				if !called[name] {
					t.Errorf("%s was never called", name)
				}
			}
		})
	}
}
