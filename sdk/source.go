package sdk

import (
	"context"
	"time"
)

// Credentials are a tenant's own upstream credentials (for example a Navexa
// API key, or an EODHD key overriding the operator's). The host passes them
// with every call; a plugin uses them for that call only and never stores or
// logs them. An empty Credentials means "use the plugin's configured
// credentials", where the plugin has any.
type Credentials struct {
	APIKey string `json:"-"`
	// Extra holds provider-specific values (OAuth tokens and the like).
	Extra map[string]string `json:"-"`
}

// Quote is a (usually delayed) real-time price.
type Quote struct {
	Ticker        string    `json:"ticker"`
	Time          time.Time `json:"time"`
	Open          *float64  `json:"open,omitempty"`
	High          *float64  `json:"high,omitempty"`
	Low           *float64  `json:"low,omitempty"`
	Last          *float64  `json:"last,omitempty"`
	PreviousClose *float64  `json:"previous_close,omitempty"`
	Change        *float64  `json:"change,omitempty"`
	ChangePercent *float64  `json:"change_percent,omitempty"`
	Volume        *float64  `json:"volume,omitempty"`
}

// Bar is one period of price history. Missing upstream values stay nil: a
// missing price is never zero.
type Bar struct {
	Ticker        string   `json:"ticker,omitempty"`
	Date          string   `json:"date"` // YYYY-MM-DD
	Open          *float64 `json:"open,omitempty"`
	High          *float64 `json:"high,omitempty"`
	Low           *float64 `json:"low,omitempty"`
	Close         *float64 `json:"close,omitempty"`
	AdjustedClose *float64 `json:"adjusted_close,omitempty"`
	Volume        *float64 `json:"volume,omitempty"`
}

// Period is the bar length of a history request.
type Period string

const (
	Daily   Period = "d"
	Weekly  Period = "w"
	Monthly Period = "m"
)

// HistoryQuery selects EOD bars. Zero From or To leaves that end open.
type HistoryQuery struct {
	From   string `json:"from,omitempty"` // YYYY-MM-DD
	To     string `json:"to,omitempty"`   // YYYY-MM-DD
	Period Period `json:"period,omitempty"`
}

// Dividend is one dividend event, dated by its ex-date.
type Dividend struct {
	Date            string   `json:"date"`
	DeclarationDate string   `json:"declaration_date,omitempty"`
	RecordDate      string   `json:"record_date,omitempty"`
	PaymentDate     string   `json:"payment_date,omitempty"`
	Period          string   `json:"period,omitempty"`
	Value           *float64 `json:"value,omitempty"`
	UnadjustedValue *float64 `json:"unadjusted_value,omitempty"`
	Currency        string   `json:"currency,omitempty"`
}

// Split is one share split: New shares for every Old share.
type Split struct {
	Date string  `json:"date"`
	New  float64 `json:"new"`
	Old  float64 `json:"old"`
}

// Fundamentals are a security's slow-moving facts. Sections keeps the
// upstream's sections (General, Highlights, Valuation, Technicals, ...) as
// JSON-shaped maps for fields the typed part does not name.
type Fundamentals struct {
	Ticker        string                    `json:"ticker"`
	Name          string                    `json:"name,omitempty"`
	Type          string                    `json:"type,omitempty"`
	Sector        string                    `json:"sector,omitempty"`
	Industry      string                    `json:"industry,omitempty"`
	Currency      string                    `json:"currency,omitempty"`
	Country       string                    `json:"country,omitempty"`
	ISIN          string                    `json:"isin,omitempty"`
	MarketCap     *float64                  `json:"market_cap,omitempty"`
	PERatio       *float64                  `json:"pe_ratio,omitempty"`
	DividendYield *float64                  `json:"dividend_yield,omitempty"`
	EPS           *float64                  `json:"eps,omitempty"`
	Beta          *float64                  `json:"beta,omitempty"`
	High52Week    *float64                  `json:"high_52_week,omitempty"`
	Low52Week     *float64                  `json:"low_52_week,omitempty"`
	Sections      map[string]map[string]any `json:"sections,omitempty"`
}

// SearchResult is one match of a security search.
type SearchResult struct {
	Ticker        string   `json:"ticker"` // CODE.EXCHANGE
	Code          string   `json:"code"`
	Exchange      string   `json:"exchange"`
	Name          string   `json:"name"`
	Type          string   `json:"type,omitempty"`
	Country       string   `json:"country,omitempty"`
	Currency      string   `json:"currency,omitempty"`
	ISIN          string   `json:"isin,omitempty"`
	PreviousClose *float64 `json:"previous_close,omitempty"`
}

// Symbol is one listing on an exchange.
type Symbol struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Country  string `json:"country,omitempty"`
	Exchange string `json:"exchange"`
	Currency string `json:"currency,omitempty"`
	Type     string `json:"type,omitempty"`
	ISIN     string `json:"isin,omitempty"`
}

// Usage reports an upstream account's call budget.
type Usage struct {
	Requests   int64  `json:"requests"`
	DailyLimit int64  `json:"daily_limit"`
	ExtraLimit int64  `json:"extra_limit,omitempty"`
	Plan       string `json:"plan,omitempty"`
}

// MarketData serves prices and facts that are the same for every tenant.
// Tickers are CODE.EXCHANGE (BHP.AU, AAPL.US).
type MarketData interface {
	Plugin

	Quotes(ctx context.Context, creds Credentials, tickers []string) ([]Quote, error)
	History(ctx context.Context, creds Credentials, ticker string, q HistoryQuery) ([]Bar, error)
	// BulkLastDay returns the last day's bar for every symbol of an exchange,
	// or only for symbols when given. date is YYYY-MM-DD or empty for latest.
	BulkLastDay(ctx context.Context, creds Credentials, exchange, date string, symbols []string) ([]Bar, error)
	Dividends(ctx context.Context, creds Credentials, ticker, from, to string) ([]Dividend, error)
	Splits(ctx context.Context, creds Credentials, ticker, from, to string) ([]Split, error)
	Fundamentals(ctx context.Context, creds Credentials, ticker string) (Fundamentals, error)
	Search(ctx context.Context, creds Credentials, query string, limit int) ([]SearchResult, error)
	ExchangeSymbols(ctx context.Context, creds Credentials, exchange string) ([]Symbol, error)
	Usage(ctx context.Context, creds Credentials) (Usage, error)
}

// Portfolio is one portfolio at a tracker.
type Portfolio struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Created      time.Time `json:"created"`
	BaseCurrency string    `json:"base_currency"`
}

// Holding is one security held (or once held) in a portfolio.
type Holding struct {
	ID          string `json:"id"`
	PortfolioID string `json:"portfolio_id"`
	Ticker      string `json:"ticker"` // CODE.EXCHANGE in Vire's (EODHD's) exchange codes
	Symbol      string `json:"symbol"`
	Exchange    string `json:"exchange"` // the tracker's own exchange name
	Name        string `json:"name"`
	Currency    string `json:"currency"`
	Sector      string `json:"sector,omitempty"`
	Industry    string `json:"industry,omitempty"`
}

// TradeType is what a trade did.
type TradeType string

const (
	TradeBuy              TradeType = "buy"
	TradeSell             TradeType = "sell"
	TradeOpeningBalance   TradeType = "opening balance"
	TradeCostBaseIncrease TradeType = "cost base increase"
	TradeCostBaseDecrease TradeType = "cost base decrease"
)

// Trade is one transaction. Quantity and Value are signed: sells are
// negative.
type Trade struct {
	ID        string    `json:"id"`
	HoldingID string    `json:"holding_id"`
	Ticker    string    `json:"ticker"`
	Type      TradeType `json:"type"`
	Date      string    `json:"date"` // YYYY-MM-DD
	Quantity  float64   `json:"quantity"`
	Price     float64   `json:"price"`
	Brokerage float64   `json:"brokerage"`
	Value     float64   `json:"value"`
	Currency  string    `json:"currency"`
}

// Return is a tracker's return figures. Percentages are annualised.
type Return struct {
	TotalValue          float64 `json:"total_value"`
	CapitalGainValue    float64 `json:"capital_gain_value"`
	CapitalGainPercent  float64 `json:"capital_gain_percent"`
	DividendReturnValue float64 `json:"dividend_return_value"`
	TotalReturnPercent  float64 `json:"total_return_percent"`
}

// HoldingPerformance is one holding's performance over a period.
type HoldingPerformance struct {
	HoldingID    string  `json:"holding_id"`
	Ticker       string  `json:"ticker"`
	Name         string  `json:"name"`
	CurrentPrice float64 `json:"current_price"`
	Quantity     float64 `json:"quantity"`
	Weight       float64 `json:"weight"`
	Currency     string  `json:"currency"`
	Return       Return  `json:"return"`
}

// Performance is a portfolio's performance over a period.
type Performance struct {
	From     string               `json:"from"`
	To       string               `json:"to"`
	Holdings []HoldingPerformance `json:"holdings"`
	Total    Return               `json:"total"`
}

// PortfolioSource reads a tenant's portfolios from a tracker. Credentials are
// always the tenant's own.
type PortfolioSource interface {
	Plugin

	Portfolios(ctx context.Context, creds Credentials) ([]Portfolio, error)
	Holdings(ctx context.Context, creds Credentials, portfolioID string) ([]Holding, error)
	Trades(ctx context.Context, creds Credentials, holdingID string) ([]Trade, error)
	Performance(ctx context.Context, creds Credentials, portfolioID, from, to string) (Performance, error)
}
