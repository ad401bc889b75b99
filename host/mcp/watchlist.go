package mcp

import (
	"context"
	"fmt"

	"github.com/vire-dev/vire/host/documents"
)

type (
	watchUpsertArgs struct {
		portfolioArg
		Ticker string `json:"ticker"`
		documents.WatchItemPatch
		guardArg
	}
	watchRemoveArgs struct {
		portfolioArg
		Ticker string `json:"ticker"`
		guardArg
	}
)

// watchItemResult is what the item tools answer.
type watchItemResult struct {
	Portfolio string               `json:"portfolio"`
	Version   int                  `json:"version"`
	Item      *documents.WatchItem `json:"item,omitempty"`
	Created   bool                 `json:"created,omitempty"`
	Removed   string               `json:"removed_ticker,omitempty"`
}

func (s *Server) watchlistKind() *docKind {
	wl := s.o.Documents.Watchlists
	return &docKind{
		kind:   documents.KindWatchlist,
		create: "add its first ticker with watchlist_upsert",
		inside: "list the watched tickers with watchlist_get, or the versions with watchlist_history",
		meta: func(ctx context.Context, c documents.Caller, p string) (documents.Meta, error) {
			d, err := wl.Get(ctx, c, p)
			return d.Meta, err
		},
		history: wl.History,
		version: func(ctx context.Context, c documents.Caller, p string, v int) (any, error) {
			return wl.Version(ctx, c, p, v)
		},
		restore: func(ctx context.Context, c documents.Caller, p string, v int, o documents.WriteOpts) (any, error) {
			return wl.Restore(ctx, c, p, v, o)
		},
	}
}

func (s *Server) addWatchlistTools() error {
	wl := s.o.Documents.Watchlists
	d := s.watchlistKind()
	tickerProp := func(what string) prop {
		return prop{desc: "The security as CODE.EXCHANGE, e.g. BHP.AU (ASX) or AAPL.US; " + what, minLen: count(1)}
	}

	err := addTool(s, tool[portfolioArg]{
		name:  "watchlist_get",
		title: "Get the watchlist",
		desc: "Returns a portfolio's watchlist: the securities the user follows without (necessarily) holding them, sorted by " +
			"ticker, each with notes, a price of interest and a verdict, and the watchlist's version.",
		effect: reads,
		props:  map[string]prop{"portfolio": portfolioProp},
		run: func(ctx context.Context, c documents.Caller, a portfolioArg) (any, error) {
			return wl.Get(ctx, c, a.Portfolio)
		},
		fail: func(ctx context.Context, c documents.Caller, a portfolioArg, err error) string {
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[watchUpsertArgs]{
		name:  "watchlist_upsert",
		title: "Add or change a watched ticker",
		desc: "Adds a ticker to a portfolio's watchlist, or changes it when it is already there (creating the watchlist when " +
			"there is none). Only the fields you pass change: leave a field out to keep it, pass null to clear it. Returns " +
			"the item as saved; watchlist_remove or watchlist_restore undoes.",
		effect:     changes,
		idempotent: true,
		props: map[string]prop{
			"portfolio": portfolioProp, "expected_version": d.guardProp(),
			"ticker": tickerProp("it identifies the item; find codes with market_search."),
			"notes":  {desc: fmt.Sprintf("Why the ticker is watched, up to %d characters. null clears them.", documents.MaxItemNotes)},
			"target_price": {desc: "Price of interest, in the security's trading currency (AUD for .AU tickers). null clears it.",
				min: num(0)},
			"verdict": {desc: "The current view on the ticker: buy, accumulate, hold, watch, reduce, sell or avoid. null clears it.",
				enum: names(documents.Verdicts)},
		},
		run: func(ctx context.Context, c documents.Caller, a watchUpsertArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			it, m, created, err := wl.PutItem(ctx, c, a.Portfolio, a.Ticker, a.WatchItemPatch, o)
			if err != nil {
				return nil, err
			}
			return watchItemResult{Portfolio: a.Portfolio, Version: m.Version, Item: &it, Created: created}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a watchUpsertArgs, err error) string {
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[watchRemoveArgs]{
		name:  "watchlist_remove",
		title: "Remove a watched ticker",
		desc: "Removes a ticker from a portfolio's watchlist; the watchlist stays, possibly empty. watchlist_restore with the " +
			"version before the removal brings it back.",
		effect:     deletes,
		idempotent: true,
		props: map[string]prop{
			"portfolio": portfolioProp, "expected_version": d.guardProp(),
			"ticker": tickerProp("as listed by watchlist_get."),
		},
		run: func(ctx context.Context, c documents.Caller, a watchRemoveArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			m, err := wl.DeleteItem(ctx, c, a.Portfolio, a.Ticker, o)
			if err != nil {
				return nil, err
			}
			return watchItemResult{Portfolio: a.Portfolio, Version: m.Version, Removed: a.Ticker}, nil
		},
		fail: func(ctx context.Context, c documents.Caller, a watchRemoveArgs, err error) string {
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}
	return s.addHistoryTools(d)
}
