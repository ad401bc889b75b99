package mcp

import (
	"context"
	"fmt"

	"github.com/vire-dev/vire/host/documents"
)

type strategyUpdateArgs struct {
	portfolioArg
	documents.StrategyPatch
	guardArg
}

func riskNames() []string {
	out := make([]string, len(documents.RiskAppetites))
	for i, r := range documents.RiskAppetites {
		out[i] = string(r)
	}
	return out
}

func (s *Server) strategyKind() *docKind {
	st := s.o.Documents.Strategies
	return &docKind{
		kind:   documents.KindStrategy,
		create: "create one with strategy_update",
		inside: "list the versions with strategy_history",
		meta: func(ctx context.Context, c documents.Caller, p string) (documents.Meta, error) {
			d, err := st.Get(ctx, c, p)
			return d.Meta, err
		},
		history: st.History,
		version: func(ctx context.Context, c documents.Caller, p string, v int) (any, error) {
			return st.Version(ctx, c, p, v)
		},
		restore: func(ctx context.Context, c documents.Caller, p string, v int, o documents.WriteOpts) (any, error) {
			return st.Restore(ctx, c, p, v, o)
		},
	}
}

func (s *Server) addStrategyTools() error {
	st := s.o.Documents.Strategies
	d := s.strategyKind()
	explain := func(ctx context.Context, c documents.Caller, p string, err error) string {
		return d.explain(ctx, c, p, err)
	}

	err := addTool(s, tool[portfolioArg]{
		name:  "strategy_get",
		title: "Get the investment strategy",
		desc: "Returns a portfolio's investment strategy: the exchanges it invests on (universe), allowed and excluded sectors, " +
			"position and sector limits in percent, target allocation in percent, risk appetite and notes, with the version " +
			"number and who changed it last. Read it before judging a trade or plan against the strategy, and before changing it.",
		effect: reads,
		props:  map[string]prop{"portfolio": portfolioProp},
		run: func(ctx context.Context, c documents.Caller, a portfolioArg) (any, error) {
			return st.Get(ctx, c, a.Portfolio)
		},
		fail: func(ctx context.Context, c documents.Caller, a portfolioArg, err error) string {
			return explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[strategyUpdateArgs]{
		name:  "strategy_update",
		title: "Create or change the investment strategy",
		desc: "Creates or changes a portfolio's investment strategy. Only the fields you pass change (a merge patch): leave a " +
			"field out to keep it, pass null to clear it. Lists are replaced whole; target_allocation is merged key by key. " +
			"Creates the strategy when the portfolio has none. The result is validated as a whole (e.g. targets sum to at most " +
			"100, max_position_pct not above max_sector_pct) and nothing is saved if it is invalid. Every change is a new " +
			"version: strategy_history lists them and strategy_restore undoes a change. Returns the whole strategy as saved.",
		effect:     changes,
		idempotent: true,
		props: map[string]prop{
			"portfolio": portfolioProp,
			"universe": {desc: `Exchange codes the portfolio may invest on, e.g. ["AU", "US"]. Replaces the whole list; null clears it.`,
				maxItems: count(documents.MaxUniverse)},
			"allowed_sectors": {desc: `Sectors the portfolio may invest in, e.g. ["Materials", "Financials"]; an empty list means no ` +
				`restriction. Replaces the whole list; null clears it.`, maxItems: count(documents.MaxSectors)},
			"excluded_sectors": {desc: `Sectors the portfolio must avoid, e.g. ["Tobacco", "Gambling"]. Replaces the whole list; null clears it.`,
				maxItems: count(documents.MaxSectors)},
			"max_position_pct": {desc: "Largest share one holding may take of the portfolio, in percent (e.g. 10 for 10%; above 0, at " +
				"most 100); not above max_sector_pct. null clears it.", min: num(0), max: num(100)},
			"max_sector_pct": {desc: "Largest share one sector may take of the portfolio, in percent (above 0, at most 100). null clears it.",
				min: num(0), max: num(100)},
			"target_allocation": {desc: `Target share of the portfolio per asset class or sector, in percent (0 to 100), all targets ` +
				`together at most 100, e.g. {"Australian shares": 50, "Cash": 10}. Merged key by key: keys you pass are set, a key ` +
				`set to null is removed, others stay. null for the whole field removes every target.`, min: num(0), max: num(100)},
			"risk_appetite": {desc: "How much risk the portfolio accepts, from least to most: " + joinQuoted(riskNames()) + ". null clears it.",
				enum: riskNames()},
			"notes": {desc: fmt.Sprintf("Free-text notes on the strategy, up to %d characters; replaces the current notes. null clears them.",
				documents.MaxStrategyNotes)},
			"expected_version": d.guardProp(),
		},
		run: func(ctx context.Context, c documents.Caller, a strategyUpdateArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			doc, created, err := st.Update(ctx, c, a.Portfolio, a.StrategyPatch, o)
			if err != nil {
				return nil, err
			}
			return struct {
				documents.StrategyDoc
				Created bool `json:"created"`
			}{doc, created}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a strategyUpdateArgs, err error) string {
			return explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[deleteArgs]{
		name:  "strategy_delete",
		title: "Delete the investment strategy",
		desc: "Deletes a portfolio's investment strategy. Use it only when the user asks to remove the strategy altogether; to " +
			"change parts of it use strategy_update. The deletion is recorded as a version, so strategy_restore with the " +
			"version before it brings the strategy back.",
		effect:     deletes,
		idempotent: true,
		props:      map[string]prop{"portfolio": portfolioProp, "expected_version": d.guardProp()},
		run: func(ctx context.Context, c documents.Caller, a deleteArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			m, err := st.Delete(ctx, c, a.Portfolio, o)
			if err != nil {
				return nil, err
			}
			return deleted{Portfolio: a.Portfolio, Deleted: "strategy", Version: m.Version,
				Undo: fmt.Sprintf("strategy_restore with version %d", m.Version-1)}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a deleteArgs, err error) string {
			return explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}
	return s.addHistoryTools(d)
}

func joinQuoted(l []string) string {
	out := ""
	for i, v := range l {
		switch {
		case i == 0:
		case i == len(l)-1:
			out += " or "
		default:
			out += ", "
		}
		out += v
	}
	return out
}
