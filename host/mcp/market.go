package mcp

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/sdk"
)

// MaxQuoteTickers bounds one market_quote call.
const MaxQuoteTickers = 20

// defaultHistoryDays is the history market_history returns when no start
// is given: a year of daily bars is enough to judge a trend and small
// enough for a model's context.
const defaultHistoryDays = 365

type (
	quoteArgs struct {
		Tickers []string `json:"tickers"`
	}
	tickerArgs struct {
		Ticker string `json:"ticker"`
	}
	historyRangeArgs struct {
		Ticker string `json:"ticker"`
		From   string `json:"from,omitempty"`
		To     string `json:"to,omitempty"`
		Period string `json:"period,omitempty"`
	}
	dividendArgs struct {
		Ticker string `json:"ticker"`
		From   string `json:"from,omitempty"`
		To     string `json:"to,omitempty"`
	}
	searchArgs struct {
		Query string `json:"query"`
		Limit int    `json:"limit,omitempty"`
	}
)

// quotes is what market_quote answers.
type quotes struct {
	Quotes map[string]market.QuoteResult `json:"quotes"`
	// NotFound lists tickers the data source does not know.
	NotFound []string `json:"not_found,omitempty"`
}

const tickerDesc = "The security as CODE.EXCHANGE, e.g. BHP.AU (ASX), AAPL.US, VAS.AU; find codes with market_search."

func (s *Server) addMarketTools() error {
	m := s.o.Market
	missing := func(err error, ticker string) string {
		switch {
		case errors.Is(err, sdk.ErrNotFound) && ticker != "":
			return "the market data source has no security " + ticker + "; check the code with market_search"
		case errors.Is(err, sdk.ErrUnavailable) && !errors.Is(err, sdk.ErrRateLimited):
			s.log.Warn("market data unavailable", "error", err)
			return "market data is unavailable at the moment (" + err.Error() + "); try again later"
		}
		return ""
	}
	dateProp := func(what string) prop {
		return prop{desc: what + " as YYYY-MM-DD (optional)."}
	}

	err := addTool(s, tool[quoteArgs]{
		name:  "market_quote",
		title: "Get latest prices",
		desc: "Returns the latest price of up to 20 securities: last, open, high, low, previous close, change and change " +
			"in percent, volume, and when it was taken. Prices are delayed about 15 to 20 minutes and are in the " +
			"security's trading currency; outside trading hours they are the last session's close.",
		effect:   reads,
		external: true,
		props: map[string]prop{"tickers": {desc: "The securities, each as CODE.EXCHANGE, e.g. [\"BHP.AU\", \"CBA.AU\", \"AAPL.US\"].",
			minItems: count(1), maxItems: count(MaxQuoteTickers), notNull: true}},
		run: func(ctx context.Context, _ documents.Caller, a quoteArgs) (any, error) {
			got, err := m.Quotes(ctx, a.Tickers)
			if err != nil {
				return nil, err
			}
			out := quotes{Quotes: got}
			for _, t := range a.Tickers {
				if n, err := market.NormalizeTicker(t); err == nil && !hasKey(got, n) {
					out.NotFound = append(out.NotFound, n)
				}
			}
			sort.Strings(out.NotFound)
			return out, nil
		},
		fail: func(_ context.Context, _ documents.Caller, _ quoteArgs, err error) string {
			return missing(err, "")
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[historyRangeArgs]{
		name:  "market_history",
		title: "Get price history",
		desc: "Returns end-of-day prices of a security (open, high, low, close, adjusted close, volume) between two dates, as " +
			"daily, weekly or monthly bars. Without from it returns the year up to to (or today). Bars flagged suspect " +
			"jump far from both neighbours and are probably wrong upstream.",
		effect:   reads,
		external: true,
		props: map[string]prop{
			"ticker": {desc: tickerDesc, minLen: count(1)},
			"from":   dateProp("First date"),
			"to":     dateProp("Last date; default today"),
			"period": {desc: "Bar length: d (daily, the default), w (weekly) or m (monthly).", enum: []string{"d", "w", "m"}},
		},
		run: func(ctx context.Context, _ documents.Caller, a historyRangeArgs) (any, error) {
			from := a.From
			if from == "" {
				end := time.Now().UTC()
				if t, err := time.Parse(time.DateOnly, a.To); err == nil {
					end = t
				}
				from = end.AddDate(0, 0, -defaultHistoryDays).Format(time.DateOnly)
			}
			return m.History(ctx, a.Ticker, sdk.HistoryQuery{From: from, To: a.To, Period: sdk.Period(a.Period)})
		},
		fail: func(_ context.Context, _ documents.Caller, a historyRangeArgs, err error) string {
			return missing(err, strings.ToUpper(a.Ticker))
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[tickerArgs]{
		name:  "market_fundamentals",
		title: "Get company fundamentals",
		desc: "Returns a security's slow-moving facts: name, type, sector, industry, currency, country, ISIN, market " +
			"capitalisation, P/E ratio, dividend yield, earnings per share, beta and 52-week high and low, plus the data " +
			"source's detailed sections. They change rarely and are refreshed weekly.",
		effect:   reads,
		external: true,
		props:    map[string]prop{"ticker": {desc: tickerDesc, minLen: count(1)}},
		run: func(ctx context.Context, _ documents.Caller, a tickerArgs) (any, error) {
			return m.Fundamentals(ctx, a.Ticker)
		},
		fail: func(_ context.Context, _ documents.Caller, a tickerArgs, err error) string {
			return missing(err, strings.ToUpper(a.Ticker))
		},
	})
	if err != nil {
		return err
	}

	err = addTool(s, tool[dividendArgs]{
		name:  "market_dividends",
		title: "Get dividend history",
		desc: "Returns a security's dividends dated by ex-date, with declaration, record and payment dates, the amount per " +
			"share (adjusted for splits, and as paid) and currency. Leave from and to out for the whole history.",
		effect:   reads,
		external: true,
		props: map[string]prop{
			"ticker": {desc: tickerDesc, minLen: count(1)},
			"from":   dateProp("First ex-date"),
			"to":     dateProp("Last ex-date"),
		},
		run: func(ctx context.Context, _ documents.Caller, a dividendArgs) (any, error) {
			return m.Dividends(ctx, a.Ticker, a.From, a.To)
		},
		fail: func(_ context.Context, _ documents.Caller, a dividendArgs, err error) string {
			return missing(err, strings.ToUpper(a.Ticker))
		},
	})
	if err != nil {
		return err
	}

	return addTool(s, tool[searchArgs]{
		name:  "market_search",
		title: "Find securities",
		desc: "Finds securities by code, company name or ISIN and returns their tickers (CODE.EXCHANGE), names, exchanges, " +
			"types, currencies and previous close. Use it to turn a company name into the ticker the other tools need.",
		effect:   reads,
		external: true,
		props: map[string]prop{
			"query": {desc: `What to look for, e.g. "BHP", "Commonwealth Bank" or an ISIN.`, minLen: count(1)},
			"limit": {desc: "Most results to return, 1 to 50; default 10.", min: num(1), max: num(market.MaxSearchLimit)},
		},
		run: func(ctx context.Context, _ documents.Caller, a searchArgs) (any, error) {
			return m.Search(ctx, a.Query, a.Limit)
		},
		fail: func(_ context.Context, _ documents.Caller, _ searchArgs, err error) string {
			return missing(err, "")
		},
	})
}

func hasKey[V any](m map[string]V, k string) bool {
	_, ok := m[k]
	return ok
}
