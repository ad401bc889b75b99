package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// QuoteResult is a ticker's latest (delayed) quote.
type QuoteResult struct {
	Meta
	Quote sdk.Quote `json:"quote"`
}

// Quote returns a ticker's quote: at most QuoteTTL old while its exchange
// trades, and the session's final quote once it has closed.
func (s *Service) Quote(ctx context.Context, ticker string) (QuoteResult, error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return QuoteResult{}, err
	}
	r, err := lookup(ctx, s, s.quoteSpec(t), t)
	if err != nil {
		return QuoteResult{}, err
	}
	return QuoteResult{Meta: r.meta(s.name), Quote: r.d.Value}, nil
}

// quoteParallel bounds the quote refreshes one Quotes call runs at once.
const quoteParallel = 8

// Quotes returns the quotes of several tickers by their normalised
// ticker. Tickers the source does not know are left out; any other
// failure fails the call.
func (s *Service) Quotes(ctx context.Context, tickers []string) (map[string]QuoteResult, error) {
	norm := make([]string, 0, len(tickers))
	for _, t := range tickers {
		n, err := NormalizeTicker(t)
		if err != nil {
			return nil, err
		}
		norm = append(norm, n)
	}
	out := make(map[string]QuoteResult, len(norm))
	var mu sync.Mutex
	var first error
	sem := make(chan struct{}, quoteParallel)
	var wg sync.WaitGroup
	for _, t := range norm {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			q, err := s.Quote(ctx, t)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				out[t] = q
			case errors.Is(err, sdk.ErrNotFound):
			case first == nil:
				first = err
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, nil
}

func (s *Service) quoteSpec(ticker string) kindSpec[sdk.Quote] {
	ex := s.cal.ForTicker(ticker)
	return kindSpec[sdk.Quote]{
		kind: kindQuote,
		fresh: func(d *doc[sdk.Quote], now time.Time) bool {
			return quoteFresh(ex, d.Fetched, now, s.o.QuoteTTL)
		},
		fetch: func(ctx context.Context, _ *doc[sdk.Quote]) (sdk.Quote, bool, error) {
			qs, err := s.src.Quotes(ctx, noCreds, []string{ticker})
			if err != nil {
				return sdk.Quote{}, false, err
			}
			for _, q := range qs {
				if strings.EqualFold(q.Ticker, ticker) {
					q.Ticker = ticker
					return q, true, nil
				}
			}
			return sdk.Quote{}, false, fmt.Errorf("%w: %s has no quote at %s", sdk.ErrNotFound, ticker, s.name)
		},
		cost: func(sdk.Quote) int64 { return 512 },
	}
}

// quoteFresh: while the exchange trades, and until its last quote of the
// session is final, a quote lasts ttl; after that one fetched since the
// final quote lasts until the next session opens.
func quoteFresh(ex *Exchange, fetched, now time.Time, ttl time.Duration) bool {
	if fetched.IsZero() {
		return false
	}
	_, closed := ex.LastClose(now)
	final := closed.Add(ex.QuoteDelay)
	if ex.IsOpen(now) || now.Before(final) {
		return now.Sub(fetched) < ttl
	}
	return !fetched.Before(final)
}

// FundamentalsResult is a ticker's fundamentals.
type FundamentalsResult struct {
	Meta
	// Fundamentals share memory with the service's cache: read only.
	Fundamentals sdk.Fundamentals `json:"fundamentals"`
}

// Fundamentals returns a ticker's fundamentals, refreshed every
// FundamentalsTTL (EODHD charges 10 calls for them).
func (s *Service) Fundamentals(ctx context.Context, ticker string) (FundamentalsResult, error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return FundamentalsResult{}, err
	}
	spec := kindSpec[sdk.Fundamentals]{
		kind: kindFundamentals,
		fresh: func(d *doc[sdk.Fundamentals], now time.Time) bool {
			return !d.Fetched.IsZero() && now.Sub(d.Fetched) < s.o.FundamentalsTTL
		},
		fetch: func(ctx context.Context, _ *doc[sdk.Fundamentals]) (sdk.Fundamentals, bool, error) {
			f, err := s.src.Fundamentals(ctx, noCreds, t)
			f.Ticker = t
			return f, err == nil, err
		},
		cost: func(sdk.Fundamentals) int64 { return 16 << 10 },
	}
	r, err := lookup(ctx, s, spec, t)
	if err != nil {
		return FundamentalsResult{}, err
	}
	return FundamentalsResult{Meta: r.meta(s.name), Fundamentals: r.d.Value}, nil
}

// DividendsResult is a ticker's dividends over a range.
type DividendsResult struct {
	Meta
	Ticker    string         `json:"ticker"`
	From      string         `json:"from,omitempty"`
	To        string         `json:"to,omitempty"`
	Dividends []sdk.Dividend `json:"dividends"`
}

// Dividends returns a ticker's dividends with ex-dates in from..to ("" is
// open). The whole list is kept and refreshed with EOD data, once per
// session; refreshes merge by ex-date.
func (s *Service) Dividends(ctx context.Context, ticker, from, to string) (DividendsResult, error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return DividendsResult{}, err
	}
	if err := CheckRange(from, to); err != nil {
		return DividendsResult{}, err
	}
	ex := s.cal.ForTicker(t)
	spec := kindSpec[[]sdk.Dividend]{
		kind: kindDividends,
		fresh: func(d *doc[[]sdk.Dividend], now time.Time) bool {
			_, due := ex.EODCutoff(now)
			return !d.Fetched.IsZero() && !d.Fetched.Before(due)
		},
		fetch: func(ctx context.Context, _ *doc[[]sdk.Dividend]) ([]sdk.Dividend, bool, error) {
			// Many securities pay nothing: an empty list is an answer.
			ds, err := s.src.Dividends(ctx, noCreds, t, "", "")
			return ds, err == nil, err
		},
		merge: mergeDividends,
		cost:  func(ds []sdk.Dividend) int64 { return int64(len(ds))*200 + 256 },
	}
	r, err := lookup(ctx, s, spec, t)
	if err != nil {
		return DividendsResult{}, err
	}
	out := []sdk.Dividend{}
	for _, d := range r.d.Value {
		if (from == "" || d.Date >= from) && (to == "" || d.Date <= to) {
			out = append(out, d)
		}
	}
	return DividendsResult{Meta: r.meta(s.name), Ticker: t, From: from, To: to, Dividends: out}, nil
}

type searchValue struct {
	Query   string             `json:"query"`
	Limit   int                `json:"limit"`
	Results []sdk.SearchResult `json:"results"`
}

// SearchResults are the securities matching a query.
type SearchResults struct {
	Meta
	Query   string             `json:"query"`
	Results []sdk.SearchResult `json:"results"`
}

// Search finds securities by code, name or ISIN; limit ≤ 0 means
// DefaultSearchLimit, and it is capped at MaxSearchLimit. Results are kept
// for SearchTTL.
func (s *Service) Search(ctx context.Context, query string, limit int) (SearchResults, error) {
	q, err := normalizeQuery(query)
	if err != nil {
		return SearchResults{}, err
	}
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	// Queries are free text: the document is named by a digest.
	sum := sha256.Sum256([]byte(q + "\x00" + strconv.Itoa(limit)))
	name := hex.EncodeToString(sum[:16])
	spec := kindSpec[searchValue]{
		kind: kindSearch,
		fresh: func(d *doc[searchValue], now time.Time) bool {
			return !d.Fetched.IsZero() && now.Sub(d.Fetched) < s.o.SearchTTL
		},
		fetch: func(ctx context.Context, _ *doc[searchValue]) (searchValue, bool, error) {
			rs, err := s.src.Search(ctx, noCreds, q, limit)
			if rs == nil {
				rs = []sdk.SearchResult{}
			}
			return searchValue{Query: q, Limit: limit, Results: rs}, err == nil, err
		},
		cost: func(v searchValue) int64 { return int64(len(v.Results))*300 + 256 },
	}
	r, err := lookup(ctx, s, spec, name)
	if err != nil {
		return SearchResults{}, err
	}
	return SearchResults{Meta: r.meta(s.name), Query: q, Results: r.d.Value.Results}, nil
}
