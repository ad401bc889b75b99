package mcp

import (
	"strings"
	"testing"

	"github.com/vire-dev/vire/internal/mcptest"
)

// TestToolErrors checks that failures come back as tool errors (isError)
// whose text says what to fix, and that a refused write writes nothing.
func TestToolErrors(t *testing.T) {
	e := newEnv(t, envConfig{})
	c := e.connect(t, "alice", "")
	p := "Errors"
	mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": p, "risk_appetite": "balanced"}))
	item := mcptest.OK(t, "plan_add_item", mcptest.Call(t, c, "plan_add_item", map[string]any{"portfolio": p, "action": "buy", "ticker": "WES.AU", "target_price": 50}))
	itemID := get(item, "item", "id").(string)
	mcptest.OK(t, "plan_update_item", mcptest.Call(t, c, "plan_update_item", map[string]any{"portfolio": p, "item_id": itemID, "status": "completed"}))
	mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": "Deleted", "notes": "short-lived"}))
	mcptest.OK(t, "strategy_delete", mcptest.Call(t, c, "strategy_delete", map[string]any{"portfolio": "Deleted"}))

	for _, tc := range []struct {
		name  string
		tool  string
		args  map[string]any
		parts []string
	}{
		{"unknown argument", "strategy_get", map[string]any{"portfolio": p, "portfolio_name": p},
			[]string{`unknown argument "portfolio_name"`, "strategy_get takes only: portfolio"}},
		{"unknown argument on a write", "strategy_update", map[string]any{"portfolio": p, "risk_appetite": "growth", "colour": "red"},
			[]string{`unknown argument "colour"`}},
		{"server-set field", "plan_add_item", map[string]any{"portfolio": p, "action": "buy", "ticker": "BHP.AU", "trigger": "x", "id": "mine"},
			[]string{`unknown argument "id"`}},
		{"missing required argument", "plan_add_item", map[string]any{"portfolio": p, "action": "buy", "target_price": 3},
			[]string{`missing required argument "ticker"`}},
		{"wrong type", "strategy_update", map[string]any{"portfolio": p, "max_position_pct": "ten"},
			[]string{"argument max_position_pct", "number"}},
		{"percentage over 100", "strategy_update", map[string]any{"portfolio": p, "max_sector_pct": 120},
			[]string{"argument max_sector_pct", "100"}},
		{"not an enum value", "strategy_update", map[string]any{"portfolio": p, "risk_appetite": "yolo"},
			[]string{"argument risk_appetite", "conservative"}},
		{"whole-document rule", "strategy_update", map[string]any{"portfolio": p, "target_allocation": map[string]any{"A": 70, "B": 40}},
			[]string{"invalid input; fix these and call strategy_update again", "target_allocation", "sum to 110%"}},
		{"field rule", "plan_add_item", map[string]any{"portfolio": p, "action": "sell", "ticker": "BHP"},
			[]string{"ticker: want CODE.EXCHANGE", "target_price"}},
		{"no strategy yet", "strategy_get", map[string]any{"portfolio": "Nothing"},
			[]string{`portfolio "Nothing" has no strategy yet; create one with strategy_update`}},
		{"no plan yet", "plan_get", map[string]any{"portfolio": "Nothing"},
			[]string{`portfolio "Nothing" has no plan yet; add its first item with plan_add_item`}},
		{"no watchlist yet", "watchlist_history", map[string]any{"portfolio": "Nothing"},
			[]string{"has no watchlist yet; add its first ticker with watchlist_upsert"}},
		{"deleted strategy", "strategy_get", map[string]any{"portfolio": "Deleted"},
			[]string{"it was deleted in version 2; bring it back with strategy_restore (version 1)"}},
		{"missing item", "plan_update_item", map[string]any{"portfolio": p, "item_id": "nope", "notes": "x"},
			[]string{`has no item "nope"`, "list the plan's items and their ids with plan_get"}},
		{"missing version", "strategy_history", map[string]any{"portfolio": p, "version": 40},
			[]string{"version 40", "list the versions with strategy_history"}},
		{"restoring a deletion", "strategy_restore", map[string]any{"portfolio": "Deleted", "version": 2},
			[]string{"records a deletion", "pick a version that is not a deletion from strategy_history"}},
		{"stale expected_version", "strategy_update", map[string]any{"portfolio": p, "expected_version": 7, "notes": "late"},
			[]string{"is at version 1, not version 7", "changed since you read it; read it again with strategy_get"}},
		{"final status", "plan_update_item", map[string]any{"portfolio": p, "item_id": itemID, "status": "pending"},
			[]string{"a completed item cannot become pending", "add a new item with plan_add_item"}},
		{"unknown ticker", "market_fundamentals", map[string]any{"ticker": "ZZZ.AU"},
			[]string{"has no security ZZZ.AU; check the code with market_search"}},
		{"malformed ticker", "market_history", map[string]any{"ticker": "BHP"},
			[]string{`ticker "BHP" has no exchange`}},
		{"too many quotes", "market_quote", map[string]any{"tickers": strings.Split(strings.Repeat("BHP.AU,", 21), ",")[:21]},
			[]string{"argument tickers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mcptest.Failed(t, tc.tool, mcptest.Call(t, c, tc.tool, tc.args), tc.parts...)
		})
	}

	// The refused writes changed nothing.
	out := mcptest.OK(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": p}))
	want(t, out, 1, "version")
	want(t, out, "balanced", "strategy", "risk_appetite")

	// A duplicate of an open item names the item to change instead.
	second := mcptest.OK(t, "plan_add_item", mcptest.Call(t, c, "plan_add_item", map[string]any{"portfolio": p, "action": "buy", "ticker": "WES.AU", "target_price": 50}))
	id := get(second, "item", "id").(string)
	mcptest.Failed(t, "plan_add_item", mcptest.Call(t, c, "plan_add_item", map[string]any{"portfolio": p, "action": "buy", "ticker": "wes.au", "target_price": 50}),
		id, "change that item with plan_update_item instead of adding another")
}

// TestScopes: reading needs the read scope and changing the write scope,
// for tools, resources and the prompt alike.
func TestScopes(t *testing.T) {
	e := newEnv(t, envConfig{})
	rw := e.connect(t, "alice", "")
	mcptest.OK(t, "strategy_update", mcptest.Call(t, rw, "strategy_update", map[string]any{"portfolio": "P", "notes": "n"}))

	ro := e.connect(t, "alice-ro", "")
	mcptest.OK(t, "strategy_get", mcptest.Call(t, ro, "strategy_get", map[string]any{"portfolio": "P"}))
	mcptest.OK(t, "market_search", mcptest.Call(t, ro, "market_search", map[string]any{"query": "BHP"}))
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"strategy_update", map[string]any{"portfolio": "P", "notes": "changed"}},
		{"strategy_delete", map[string]any{"portfolio": "P"}},
		{"strategy_restore", map[string]any{"portfolio": "P", "version": 1}},
		{"watchlist_upsert", map[string]any{"portfolio": "P", "ticker": "BHP.AU"}},
	} {
		mcptest.Failed(t, tc.tool, mcptest.Call(t, ro, tc.tool, tc.args), `lacks the "write" scope`, "the "+tc.tool+" tool")
	}

	wo := e.connect(t, "alice-wo", "")
	mcptest.Failed(t, "strategy_get", mcptest.Call(t, wo, "strategy_get", map[string]any{"portfolio": "P"}), `lacks the "read" scope`)
	if _, err := readResource(wo, ResourceURI("P", "strategy")); err == nil || !strings.Contains(err.Error(), `lacks the "read" scope`) {
		t.Fatalf("resource read without the read scope: %v", err)
	}
	if _, err := getPrompt(wo, "P"); err == nil || !strings.Contains(err.Error(), `lacks the "read" scope`) {
		t.Fatalf("prompt without the read scope: %v", err)
	}
	mcptest.OK(t, "strategy_update", mcptest.Call(t, wo, "strategy_update", map[string]any{"portfolio": "P", "notes": "by the writer"}))
	out := mcptest.OK(t, "strategy_get", mcptest.Call(t, rw, "strategy_get", map[string]any{"portfolio": "P"}))
	want(t, out, "by the writer", "strategy", "notes")
}
