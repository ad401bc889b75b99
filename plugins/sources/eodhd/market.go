package eodhd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/vire-dev/vire/sdk"
)

const (
	// quoteBatch is how many tickers one /real-time call carries; EODHD
	// documents about 20.
	quoteBatch = 20
	// quoteParallel bounds the batches in flight at once; the limiter
	// still paces them.
	quoteParallel = 4
)

// Quotes returns delayed real-time quotes, 20 tickers per EODHD call.
// Tickers EODHD does not know are left out; when it knows none of them the
// result is sdk.ErrNotFound.
func (s *Source) Quotes(ctx context.Context, creds sdk.Credentials, tickers []string) ([]sdk.Quote, error) {
	var uniq []string
	seen := map[string]bool{}
	for _, t := range tickers {
		if err := checkTicker(t); err != nil {
			return nil, err
		}
		if k := strings.ToUpper(t); !seen[k] {
			seen[k] = true
			uniq = append(uniq, t)
		}
	}
	if len(uniq) == 0 {
		return []sdk.Quote{}, nil
	}
	var batches [][]string
	for i := 0; i < len(uniq); i += quoteBatch {
		batches = append(batches, uniq[i:min(i+quoteBatch, len(uniq))])
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([][]sdk.Quote, len(batches))
	errs := make([]error, len(batches))
	sem := make(chan struct{}, quoteParallel)
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			results[i], errs[i] = s.quoteBatch(ctx, creds, b)
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := firstFailure(errs); err != nil {
		return nil, err
	}
	out := make([]sdk.Quote, 0, len(uniq))
	for _, r := range results {
		out = append(out, r...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: EODHD has no quote for %s", sdk.ErrNotFound, strings.Join(clipList(uniq), ", "))
	}
	return out, nil
}

func (s *Source) quoteBatch(ctx context.Context, creds sdk.Credentials, tickers []string) ([]sdk.Quote, error) {
	r := request{path: "/real-time/" + url.PathEscape(tickers[0]), query: url.Values{}}
	if len(tickers) > 1 {
		r.query.Set("s", strings.Join(tickers[1:], ","))
	}
	body, err := s.get(ctx, creds, r)
	if err != nil {
		return nil, err
	}
	return decodeQuotes(body, tickers)
}

// History returns end-of-day bars in ascending date order.
func (s *Source) History(ctx context.Context, creds sdk.Credentials, ticker string, q sdk.HistoryQuery) ([]sdk.Bar, error) {
	if err := checkTicker(ticker); err != nil {
		return nil, err
	}
	if err := checkRange(q.From, q.To); err != nil {
		return nil, err
	}
	period := q.Period
	switch period {
	case "":
		period = sdk.Daily
	case sdk.Daily, sdk.Weekly, sdk.Monthly:
	default:
		return nil, fmt.Errorf("%w: period %q must be d, w or m", sdk.ErrInvalidArgument, clip(string(q.Period)))
	}
	query := url.Values{"period": {string(period)}, "order": {"a"}}
	setIf(query, "from", q.From)
	setIf(query, "to", q.To)
	body, err := s.get(ctx, creds, request{path: "/eod/" + url.PathEscape(ticker), query: query})
	if err != nil {
		return nil, err
	}
	return decodeBars(body, ticker)
}

// BulkLastDay returns one day's bar for every symbol of an exchange, or for
// the given symbols (codes such as "BHP", or tickers such as "BHP.AU").
// EODHD counts it as 100 calls against the daily allowance.
func (s *Source) BulkLastDay(ctx context.Context, creds sdk.Credentials, exchange, date string, symbols []string) ([]sdk.Bar, error) {
	ex, err := exchangeArg(exchange)
	if err != nil {
		return nil, err
	}
	if err := checkDate("date", date); err != nil {
		return nil, err
	}
	for _, sym := range symbols {
		code, _, isTicker := strings.Cut(sym, ".")
		if isTicker {
			err = checkTicker(sym)
		} else {
			err = checkCode(code)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: symbol %q: %v", sdk.ErrInvalidArgument, clip(sym), err)
		}
	}
	query := url.Values{"filter": {"extended"}}
	setIf(query, "date", date)
	if len(symbols) > 0 {
		query.Set("symbols", strings.Join(symbols, ","))
	}
	body, err := s.get(ctx, creds, request{path: "/eod-bulk-last-day/" + url.PathEscape(ex), query: query})
	if err != nil {
		return nil, err
	}
	return decodeBulk(body, ex)
}

// Dividends returns dividends by ex-date.
func (s *Source) Dividends(ctx context.Context, creds sdk.Credentials, ticker, from, to string) ([]sdk.Dividend, error) {
	if err := checkTicker(ticker); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	query := url.Values{}
	setIf(query, "from", from)
	setIf(query, "to", to)
	body, err := s.get(ctx, creds, request{path: "/div/" + url.PathEscape(ticker), query: query})
	if err != nil {
		return nil, err
	}
	return decodeDividends(body)
}

// Splits returns share splits.
func (s *Source) Splits(ctx context.Context, creds sdk.Credentials, ticker, from, to string) ([]sdk.Split, error) {
	if err := checkTicker(ticker); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	query := url.Values{}
	setIf(query, "from", from)
	setIf(query, "to", to)
	body, err := s.get(ctx, creds, request{path: "/splits/" + url.PathEscape(ticker), query: query})
	if err != nil {
		return nil, err
	}
	return decodeSplits(body)
}

// Fundamentals returns a security's fundamentals. EODHD counts it as 10
// calls.
func (s *Source) Fundamentals(ctx context.Context, creds sdk.Credentials, ticker string) (sdk.Fundamentals, error) {
	if err := checkTicker(ticker); err != nil {
		return sdk.Fundamentals{}, err
	}
	body, err := s.get(ctx, creds, request{path: "/fundamentals/" + url.PathEscape(ticker)})
	if err != nil {
		return sdk.Fundamentals{}, err
	}
	return decodeFundamentals(body, ticker)
}

// Search finds securities by code, name or ISIN. limit ≤ 0 means EODHD's
// default (15); it is capped at 500.
func (s *Source) Search(ctx context.Context, creds sdk.Credentials, query string, limit int) ([]sdk.SearchResult, error) {
	if err := checkQuery(query); err != nil {
		return nil, err
	}
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, maxSearchLimit)))
	}
	body, err := s.get(ctx, creds, request{path: "/search/" + url.PathEscape(strings.TrimSpace(query)), query: q})
	if err != nil {
		return nil, err
	}
	out, err := decodeSearch(body)
	if err == nil && limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// ExchangeSymbols lists an exchange's symbols.
func (s *Source) ExchangeSymbols(ctx context.Context, creds sdk.Credentials, exchange string) ([]sdk.Symbol, error) {
	ex, err := exchangeArg(exchange)
	if err != nil {
		return nil, err
	}
	body, err := s.get(ctx, creds, request{path: "/exchange-symbol-list/" + url.PathEscape(ex)})
	if err != nil {
		return nil, err
	}
	return decodeSymbols(body, ex)
}

// Usage reports the key's call budget for today.
func (s *Source) Usage(ctx context.Context, creds sdk.Credentials) (sdk.Usage, error) {
	body, err := s.get(ctx, creds, request{path: "/internal-user"})
	if err != nil {
		return sdk.Usage{}, err
	}
	return decodeUsage(body)
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// firstFailure picks the error to report from concurrent batches: the first
// real failure rather than the cancellations it caused in its siblings.
func firstFailure(errs []error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

func clipList(ts []string) []string {
	if len(ts) <= 5 {
		return ts
	}
	return append(ts[:5:5], fmt.Sprintf("and %d more", len(ts)-5))
}
