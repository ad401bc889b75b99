package mcp

import (
	"context"
	"errors"
	"fmt"

	"github.com/vire-dev/vire/host/documents"
)

type (
	planAddArgs struct {
		portfolioArg
		documents.PlanItemPatch
		guardArg
	}
	planUpdateArgs struct {
		portfolioArg
		ItemID string `json:"item_id"`
		documents.PlanItemPatch
		guardArg
	}
	planRemoveArgs struct {
		portfolioArg
		ItemID string `json:"item_id"`
		guardArg
	}
)

// planItemResult is what the item tools answer: the item and the plan's
// version after the change.
type planItemResult struct {
	Portfolio string              `json:"portfolio"`
	Version   int                 `json:"version"`
	Item      *documents.PlanItem `json:"item,omitempty"`
	Removed   string              `json:"removed_item_id,omitempty"`
}

func names[S ~string](l []S) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = string(v)
	}
	return out
}

// planItemProps describes the fields of a plan item; for adds, action and
// ticker must have values.
func planItemProps(add bool) map[string]prop {
	clear := " null clears it."
	return map[string]prop{
		"action": {desc: "What to do: buy, sell, hold, trim (sell part of a holding), review or rebalance.",
			enum: names(documents.Actions), notNull: add},
		"ticker": {desc: "The security as CODE.EXCHANGE, e.g. BHP.AU (ASX) or AAPL.US; find it with market_search.",
			minLen: count(1), notNull: add},
		"target_price": {desc: "Price at which to act, in the security's trading currency (AUD for .AU tickers)." + clear,
			min: num(0)},
		"target_date": {desc: "Date by which to act or review, as YYYY-MM-DD." + clear},
		"trigger": {desc: fmt.Sprintf(`Condition in words that should prompt the action, e.g. "if the dividend is cut" `+
			`(up to %d characters).`, documents.MaxTrigger) + clear},
		"status": {desc: "Where the item stands: pending (waiting; new items start here), triggered (its condition is met, " +
			"not yet acted on), completed, expired or cancelled. Completed and cancelled are final; an expired item may " +
			"go back to pending.", enum: names(documents.Statuses), notNull: true},
		"notes": {desc: fmt.Sprintf("Free-text notes on the item, up to %d characters.", documents.MaxItemNotes) + clear},
	}
}

func (s *Server) planKind() *docKind {
	pl := s.o.Documents.Plans
	return &docKind{
		kind:   documents.KindPlan,
		create: "add its first item with plan_add_item",
		inside: "list the plan's items and their ids with plan_get, or its versions with plan_history",
		meta: func(ctx context.Context, c documents.Caller, p string) (documents.Meta, error) {
			d, err := pl.Get(ctx, c, p)
			return d.Meta, err
		},
		history: pl.History,
		version: func(ctx context.Context, c documents.Caller, p string, v int) (any, error) {
			return pl.Version(ctx, c, p, v)
		},
		restore: func(ctx context.Context, c documents.Caller, p string, v int, o documents.WriteOpts) (any, error) {
			return pl.Restore(ctx, c, p, v, o)
		},
	}
}

func (s *Server) addPlanTools() error {
	pl := s.o.Documents.Plans
	d := s.planKind()
	conflictAdvice := func(err error) string {
		var ce *documents.ConflictError
		if !errors.As(err, &ce) {
			return ""
		}
		switch ce.Code {
		case documents.CodeDuplicate:
			return conflictText(ce) + "; change that item with plan_update_item instead of adding another"
		case documents.CodeInvalidTransition:
			return conflictText(ce) + "; to act again, add a new item with plan_add_item"
		}
		return ""
	}

	err := addTool(s, tool[portfolioArg]{
		name:  "plan_get",
		title: "Get the plan",
		desc: "Returns a portfolio's plan: the actions the user intends to take (buy, sell, hold, trim, review, rebalance), each " +
			"with its id, ticker, target price or date or trigger, status and notes, in the order they were added, with the " +
			"plan's version. Read it before changing items: the item tools need an item's id.",
		effect: reads,
		props:  map[string]prop{"portfolio": portfolioProp},
		run: func(ctx context.Context, c documents.Caller, a portfolioArg) (any, error) {
			return pl.Get(ctx, c, a.Portfolio)
		},
		fail: func(ctx context.Context, c documents.Caller, a portfolioArg, err error) string {
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	addProps := planItemProps(true)
	addProps["portfolio"], addProps["expected_version"] = portfolioProp, d.guardProp()
	err = addTool(s, tool[planAddArgs]{
		name:  "plan_add_item",
		title: "Add an item to the plan",
		desc: "Adds an intended action to a portfolio's plan, creating the plan when there is none. An item needs an action, " +
			"a ticker and at least one of target_price, target_date and trigger; it starts pending unless status says " +
			"otherwise. An open item with the same action, ticker, targets and trigger is refused as a duplicate. Returns " +
			"the new item with its id. Undo with plan_remove_item or plan_restore.",
		effect:   changes,
		props:    addProps,
		required: []string{"action", "ticker"},
		run: func(ctx context.Context, c documents.Caller, a planAddArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			it, m, err := pl.AddItem(ctx, c, a.Portfolio, a.PlanItemPatch, o)
			if err != nil {
				return nil, err
			}
			return planItemResult{Portfolio: a.Portfolio, Version: m.Version, Item: &it}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a planAddArgs, err error) string {
			if msg := conflictAdvice(err); msg != "" {
				return msg
			}
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	updateProps := planItemProps(false)
	updateProps["portfolio"], updateProps["expected_version"] = portfolioProp, d.guardProp()
	updateProps["item_id"] = prop{desc: "Id of the item to change, from plan_get.", minLen: count(1)}
	err = addTool(s, tool[planUpdateArgs]{
		name:  "plan_update_item",
		title: "Change an item of the plan",
		desc: "Changes one item of a portfolio's plan. Only the fields you pass change: leave a field out to keep it, pass null " +
			"to clear it (action, ticker and status cannot be cleared). Use status to record progress: triggered when the " +
			"condition is met, completed once done, cancelled when dropped. Returns the item as saved; plan_restore undoes.",
		effect:     changes,
		idempotent: true,
		props:      updateProps,
		run: func(ctx context.Context, c documents.Caller, a planUpdateArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			it, m, err := pl.UpdateItem(ctx, c, a.Portfolio, a.ItemID, a.PlanItemPatch, o)
			if err != nil {
				return nil, err
			}
			return planItemResult{Portfolio: a.Portfolio, Version: m.Version, Item: &it}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a planUpdateArgs, err error) string {
			if msg := conflictAdvice(err); msg != "" {
				return msg
			}
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[planRemoveArgs]{
		name:  "plan_remove_item",
		title: "Remove an item from the plan",
		desc: "Removes one item from a portfolio's plan; the plan stays, possibly empty. Prefer plan_update_item with status " +
			"completed or cancelled to keep a record of what happened; remove items added by mistake. plan_restore with the " +
			"version before the removal brings the item back.",
		effect:     deletes,
		idempotent: true,
		props: map[string]prop{
			"portfolio": portfolioProp, "expected_version": d.guardProp(),
			"item_id": {desc: "Id of the item to remove, from plan_get.", minLen: count(1)},
		},
		run: func(ctx context.Context, c documents.Caller, a planRemoveArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			m, err := pl.DeleteItem(ctx, c, a.Portfolio, a.ItemID, o)
			if err != nil {
				return nil, err
			}
			return planItemResult{Portfolio: a.Portfolio, Version: m.Version, Removed: a.ItemID}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a planRemoveArgs, err error) string {
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}
	return s.addHistoryTools(d)
}
