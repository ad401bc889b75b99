package pluginhost

import (
	"context"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

// Source configures the plugin's source component and returns it as
// MarketData and/or PortfolioSource (nil where the plugin serves neither).
// Every source call only reads upstream data, so each is retried once
// across a plugin restart.
func (p *Plugin) Source(ctx context.Context, cfg sdk.ConfigValue) (sdk.MarketData, sdk.PortfolioSource, error) {
	if err := p.configure(ctx, sdk.KindSource, cfg); err != nil {
		return nil, nil, err
	}
	var m sdk.MarketData
	var f sdk.PortfolioSource
	for _, c := range p.Description().Components {
		if c.Kind != sdk.KindSource {
			continue
		}
		for _, iface := range c.Interfaces {
			switch iface {
			case "MarketData":
				m = &marketData{p: p}
			case "PortfolioSource":
				f = &portfolioSource{p: p}
			}
		}
	}
	return m, f, nil
}

// call runs a read-only source call with a retry across a restart.
func call[T any](ctx context.Context, p *Plugin, op string, fn func(*instance) (T, error)) (T, error) {
	var out T
	err := p.do(ctx, op, true, func(i *instance) error {
		var err error
		out, err = fn(i)
		return err
	})
	return out, err
}

type sourceBase struct{ p *Plugin }

func (s sourceBase) Schema() sdk.ConfigSchema {
	sc, _ := s.p.Schema(sdk.KindSource)
	return sc
}

func (s sourceBase) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	_, _, err := s.p.Source(ctx, cfg)
	return err
}

func (s sourceBase) Health(ctx context.Context) error {
	return s.p.do(ctx, "health", true, func(i *instance) error {
		c := i.component(sdk.KindSource)
		if c == nil {
			return fmt.Errorf("%w: plugin %s serves no source", sdk.ErrUnsupported, s.p.spec.Name)
		}
		return c.Health(ctx)
	})
}

type marketData struct{ p *Plugin }

var _ sdk.MarketData = (*marketData)(nil)

func (m *marketData) Schema() sdk.ConfigSchema { return sourceBase(*m).Schema() }
func (m *marketData) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	return sourceBase(*m).Configure(ctx, cfg)
}
func (m *marketData) Health(ctx context.Context) error { return sourceBase(*m).Health(ctx) }

func (m *marketData) Quotes(ctx context.Context, c sdk.Credentials, tickers []string) ([]sdk.Quote, error) {
	return call(ctx, m.p, "quotes", func(i *instance) ([]sdk.Quote, error) { return i.market.Quotes(ctx, c, tickers) })
}

func (m *marketData) History(ctx context.Context, c sdk.Credentials, ticker string, q sdk.HistoryQuery) ([]sdk.Bar, error) {
	return call(ctx, m.p, "history", func(i *instance) ([]sdk.Bar, error) { return i.market.History(ctx, c, ticker, q) })
}

func (m *marketData) BulkLastDay(ctx context.Context, c sdk.Credentials, exchange, date string, symbols []string) ([]sdk.Bar, error) {
	return call(ctx, m.p, "bulk last day", func(i *instance) ([]sdk.Bar, error) {
		return i.market.BulkLastDay(ctx, c, exchange, date, symbols)
	})
}

func (m *marketData) Dividends(ctx context.Context, c sdk.Credentials, ticker, from, to string) ([]sdk.Dividend, error) {
	return call(ctx, m.p, "dividends", func(i *instance) ([]sdk.Dividend, error) { return i.market.Dividends(ctx, c, ticker, from, to) })
}

func (m *marketData) Splits(ctx context.Context, c sdk.Credentials, ticker, from, to string) ([]sdk.Split, error) {
	return call(ctx, m.p, "splits", func(i *instance) ([]sdk.Split, error) { return i.market.Splits(ctx, c, ticker, from, to) })
}

func (m *marketData) Fundamentals(ctx context.Context, c sdk.Credentials, ticker string) (sdk.Fundamentals, error) {
	return call(ctx, m.p, "fundamentals", func(i *instance) (sdk.Fundamentals, error) { return i.market.Fundamentals(ctx, c, ticker) })
}

func (m *marketData) Search(ctx context.Context, c sdk.Credentials, query string, limit int) ([]sdk.SearchResult, error) {
	return call(ctx, m.p, "search", func(i *instance) ([]sdk.SearchResult, error) { return i.market.Search(ctx, c, query, limit) })
}

func (m *marketData) ExchangeSymbols(ctx context.Context, c sdk.Credentials, exchange string) ([]sdk.Symbol, error) {
	return call(ctx, m.p, "exchange symbols", func(i *instance) ([]sdk.Symbol, error) { return i.market.ExchangeSymbols(ctx, c, exchange) })
}

func (m *marketData) Usage(ctx context.Context, c sdk.Credentials) (sdk.Usage, error) {
	return call(ctx, m.p, "usage", func(i *instance) (sdk.Usage, error) { return i.market.Usage(ctx, c) })
}

type portfolioSource struct{ p *Plugin }

var _ sdk.PortfolioSource = (*portfolioSource)(nil)

func (f *portfolioSource) Schema() sdk.ConfigSchema { return sourceBase(*f).Schema() }
func (f *portfolioSource) Configure(ctx context.Context, cfg sdk.ConfigValue) error {
	return sourceBase(*f).Configure(ctx, cfg)
}
func (f *portfolioSource) Health(ctx context.Context) error { return sourceBase(*f).Health(ctx) }

func (f *portfolioSource) Portfolios(ctx context.Context, c sdk.Credentials) ([]sdk.Portfolio, error) {
	return call(ctx, f.p, "portfolios", func(i *instance) ([]sdk.Portfolio, error) { return i.folio.Portfolios(ctx, c) })
}

func (f *portfolioSource) Holdings(ctx context.Context, c sdk.Credentials, portfolioID string) ([]sdk.Holding, error) {
	return call(ctx, f.p, "holdings", func(i *instance) ([]sdk.Holding, error) { return i.folio.Holdings(ctx, c, portfolioID) })
}

func (f *portfolioSource) Trades(ctx context.Context, c sdk.Credentials, holdingID string) ([]sdk.Trade, error) {
	return call(ctx, f.p, "trades", func(i *instance) ([]sdk.Trade, error) { return i.folio.Trades(ctx, c, holdingID) })
}

func (f *portfolioSource) Performance(ctx context.Context, c sdk.Credentials, portfolioID, from, to string) (sdk.Performance, error) {
	return call(ctx, f.p, "performance", func(i *instance) (sdk.Performance, error) {
		return i.folio.Performance(ctx, c, portfolioID, from, to)
	})
}
