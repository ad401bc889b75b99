package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	pb "github.com/vire-dev/vire/sdk/proto/pluginv1"
)

func credsToPB(c Credentials) *pb.Credentials {
	return &pb.Credentials{ApiKey: c.APIKey, Extra: c.Extra}
}

func credsFromPB(c *pb.Credentials) Credentials {
	if c == nil {
		return Credentials{}
	}
	return Credentials{APIKey: c.ApiKey, Extra: c.Extra}
}

// jsonReply encodes a source call's result for the wire.
func jsonReply(v any, err error) (*pb.JSONMessage, error) {
	if err != nil {
		return nil, toStatus(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, toStatus(fmt.Errorf("encoding reply: %w", err))
	}
	return &pb.JSONMessage{Json: b}, nil
}

// jsonResult decodes a source call's reply.
func jsonResult[T any](resp *pb.JSONMessage, err error) (T, error) {
	var out T
	if err != nil {
		return out, fromStatus(err)
	}
	if err := json.Unmarshal(resp.Json, &out); err != nil {
		return out, fmt.Errorf("%w: plugin sent an unreadable reply: %v", ErrUnavailable, err)
	}
	return out, nil
}

type marketServer struct {
	pb.UnimplementedMarketDataServer
	m MarketData
}

func (s *marketServer) Quotes(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.Quotes(ctx, credsFromPB(r.Credentials), r.Tickers))
}

func (s *marketServer) History(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.History(ctx, credsFromPB(r.Credentials), r.Ticker, HistoryQuery{From: r.From, To: r.To, Period: Period(r.Period)}))
}

func (s *marketServer) BulkLastDay(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.BulkLastDay(ctx, credsFromPB(r.Credentials), r.Exchange, r.Date, r.Symbols))
}

func (s *marketServer) Dividends(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.Dividends(ctx, credsFromPB(r.Credentials), r.Ticker, r.From, r.To))
}

func (s *marketServer) Splits(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.Splits(ctx, credsFromPB(r.Credentials), r.Ticker, r.From, r.To))
}

func (s *marketServer) Fundamentals(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.Fundamentals(ctx, credsFromPB(r.Credentials), r.Ticker))
}

func (s *marketServer) Search(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.Search(ctx, credsFromPB(r.Credentials), r.Query, int(r.Limit)))
}

func (s *marketServer) ExchangeSymbols(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.ExchangeSymbols(ctx, credsFromPB(r.Credentials), r.Exchange))
}

func (s *marketServer) Usage(ctx context.Context, r *pb.MarketRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.m.Usage(ctx, credsFromPB(r.Credentials)))
}

type portfolioServer struct {
	pb.UnimplementedPortfolioSourceServer
	p PortfolioSource
}

func (s *portfolioServer) Portfolios(ctx context.Context, r *pb.PortfolioRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.p.Portfolios(ctx, credsFromPB(r.Credentials)))
}

func (s *portfolioServer) Holdings(ctx context.Context, r *pb.PortfolioRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.p.Holdings(ctx, credsFromPB(r.Credentials), r.PortfolioId))
}

func (s *portfolioServer) Trades(ctx context.Context, r *pb.PortfolioRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.p.Trades(ctx, credsFromPB(r.Credentials), r.HoldingId))
}

func (s *portfolioServer) Performance(ctx context.Context, r *pb.PortfolioRequest) (*pb.JSONMessage, error) {
	return jsonReply(s.p.Performance(ctx, credsFromPB(r.Credentials), r.PortfolioId, r.From, r.To))
}

// MarketData returns a client for the plugin's source component when it
// serves market data.
func (c *Conn) MarketData(d Description) (MarketData, error) {
	ci, err := findComponent(d, KindSource)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ci.Interfaces, "MarketData") {
		return nil, fmt.Errorf("%w: plugin %q serves no market data", ErrUnsupported, d.Name)
	}
	return &marketClient{component: component{conn: c, kind: KindSource, info: ci}}, nil
}

// PortfolioSource returns a client for the plugin's source component when it
// serves portfolios.
func (c *Conn) PortfolioSource(d Description) (PortfolioSource, error) {
	ci, err := findComponent(d, KindSource)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(ci.Interfaces, "PortfolioSource") {
		return nil, fmt.Errorf("%w: plugin %q serves no portfolios", ErrUnsupported, d.Name)
	}
	return &portfolioClient{component: component{conn: c, kind: KindSource, info: ci}}, nil
}

type marketClient struct{ component }

func (c *marketClient) req(creds Credentials) *pb.MarketRequest {
	return &pb.MarketRequest{Credentials: credsToPB(creds)}
}

func (c *marketClient) Quotes(ctx context.Context, creds Credentials, tickers []string) ([]Quote, error) {
	r := c.req(creds)
	r.Tickers = tickers
	return jsonResult[[]Quote](c.conn.market.Quotes(ctx, r))
}

func (c *marketClient) History(ctx context.Context, creds Credentials, ticker string, q HistoryQuery) ([]Bar, error) {
	r := c.req(creds)
	r.Ticker, r.From, r.To, r.Period = ticker, q.From, q.To, string(q.Period)
	return jsonResult[[]Bar](c.conn.market.History(ctx, r))
}

func (c *marketClient) BulkLastDay(ctx context.Context, creds Credentials, exchange, date string, symbols []string) ([]Bar, error) {
	r := c.req(creds)
	r.Exchange, r.Date, r.Symbols = exchange, date, symbols
	return jsonResult[[]Bar](c.conn.market.BulkLastDay(ctx, r))
}

func (c *marketClient) Dividends(ctx context.Context, creds Credentials, ticker, from, to string) ([]Dividend, error) {
	r := c.req(creds)
	r.Ticker, r.From, r.To = ticker, from, to
	return jsonResult[[]Dividend](c.conn.market.Dividends(ctx, r))
}

func (c *marketClient) Splits(ctx context.Context, creds Credentials, ticker, from, to string) ([]Split, error) {
	r := c.req(creds)
	r.Ticker, r.From, r.To = ticker, from, to
	return jsonResult[[]Split](c.conn.market.Splits(ctx, r))
}

func (c *marketClient) Fundamentals(ctx context.Context, creds Credentials, ticker string) (Fundamentals, error) {
	r := c.req(creds)
	r.Ticker = ticker
	return jsonResult[Fundamentals](c.conn.market.Fundamentals(ctx, r))
}

func (c *marketClient) Search(ctx context.Context, creds Credentials, query string, limit int) ([]SearchResult, error) {
	r := c.req(creds)
	r.Query, r.Limit = query, int32(min(max(limit, 0), 1<<20))
	return jsonResult[[]SearchResult](c.conn.market.Search(ctx, r))
}

func (c *marketClient) ExchangeSymbols(ctx context.Context, creds Credentials, exchange string) ([]Symbol, error) {
	r := c.req(creds)
	r.Exchange = exchange
	return jsonResult[[]Symbol](c.conn.market.ExchangeSymbols(ctx, r))
}

func (c *marketClient) Usage(ctx context.Context, creds Credentials) (Usage, error) {
	return jsonResult[Usage](c.conn.market.Usage(ctx, c.req(creds)))
}

type portfolioClient struct{ component }

func (c *portfolioClient) Portfolios(ctx context.Context, creds Credentials) ([]Portfolio, error) {
	return jsonResult[[]Portfolio](c.conn.portfolio.Portfolios(ctx, &pb.PortfolioRequest{Credentials: credsToPB(creds)}))
}

func (c *portfolioClient) Holdings(ctx context.Context, creds Credentials, portfolioID string) ([]Holding, error) {
	return jsonResult[[]Holding](c.conn.portfolio.Holdings(ctx, &pb.PortfolioRequest{Credentials: credsToPB(creds), PortfolioId: portfolioID}))
}

func (c *portfolioClient) Trades(ctx context.Context, creds Credentials, holdingID string) ([]Trade, error) {
	return jsonResult[[]Trade](c.conn.portfolio.Trades(ctx, &pb.PortfolioRequest{Credentials: credsToPB(creds), HoldingId: holdingID}))
}

func (c *portfolioClient) Performance(ctx context.Context, creds Credentials, portfolioID, from, to string) (Performance, error) {
	return jsonResult[Performance](c.conn.portfolio.Performance(ctx, &pb.PortfolioRequest{Credentials: credsToPB(creds), PortfolioId: portfolioID, From: from, To: to}))
}
