package sample

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// Quotes derive from each listing's last bar: Last is its close and
// PreviousClose the close before. Unknown tickers are left out; when none
// is known the result is sdk.ErrNotFound.
func (s *Source) Quotes(_ context.Context, _ sdk.Credentials, tickers []string) ([]sdk.Quote, error) {
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	out := []sdk.Quote{}
	seen := map[string]bool{}
	for _, t := range tickers {
		if err := checkTicker(t); err != nil {
			return nil, err
		}
		sr, ok := ds.lookup(t)
		if !ok || seen[strings.ToUpper(t)] || len(sr.days) < 2 {
			continue
		}
		seen[strings.ToUpper(t)] = true
		last, prev := sr.days[len(sr.days)-1], sr.days[len(sr.days)-2]
		// A split between the two days would make the raw change
		// meaningless; compare in today's shares.
		prevClose := prev.close / splitFactor(sr.splits, prev.date) * splitFactor(sr.splits, last.date)
		change := last.close - prevClose
		out = append(out, sdk.Quote{
			Ticker: t, Time: closeTime(sr.sec, last.date),
			Open: ptr(last.open), High: ptr(last.high), Low: ptr(last.low), Last: ptr(last.close),
			PreviousClose: ptr(round(prevClose, 4)), Change: ptr(round(change, 4)),
			ChangePercent: ptr(round(change/prevClose*100, 4)), Volume: ptr(last.volume),
		})
	}
	if len(out) == 0 && len(tickers) > 0 {
		return nil, fmt.Errorf("%w: the sample data has no quote for %s", sdk.ErrNotFound, strings.Join(tickers, ", "))
	}
	return out, nil
}

// closeTime is when the listing's market closed on date: 16:00 in Sydney
// and New York, approximated in UTC.
func closeTime(sec *security, date string) time.Time {
	t, _ := time.Parse(time.DateOnly, date)
	if sec.exchange == "US" {
		return t.Add(21 * time.Hour)
	}
	return t.Add(6 * time.Hour)
}

// History returns bars in ascending order; weekly and monthly bars are
// dated by their first trading day.
func (s *Source) History(_ context.Context, _ sdk.Credentials, ticker string, q sdk.HistoryQuery) ([]sdk.Bar, error) {
	if err := checkTicker(ticker); err != nil {
		return nil, err
	}
	if err := checkRange(q.From, q.To); err != nil {
		return nil, err
	}
	var key func(time.Time) string
	switch q.Period {
	case "", sdk.Daily:
	case sdk.Weekly:
		key = func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprint(y, "-", w) }
	case sdk.Monthly:
		key = func(t time.Time) string { return t.Format("2006-01") }
	default:
		return nil, fmt.Errorf("%w: period %q must be d, w or m", sdk.ErrInvalidArgument, q.Period)
	}
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	sr, ok := ds.lookup(ticker)
	if !ok {
		return nil, notFound(ticker)
	}
	out := []sdk.Bar{}
	lastKey := ""
	for _, d := range sr.days {
		if (q.From != "" && d.date < q.From) || (q.To != "" && d.date > q.To) {
			continue
		}
		b := sr.bar(d)
		b.Ticker = ticker
		if key == nil {
			out = append(out, b)
			continue
		}
		t, _ := time.Parse(time.DateOnly, d.date)
		if k := key(t); k != lastKey {
			lastKey = k
			out = append(out, b)
			continue
		}
		p := &out[len(out)-1]
		p.High, p.Low = ptr(math.Max(*p.High, d.high)), ptr(math.Min(*p.Low, d.low))
		p.Close, p.AdjustedClose, p.Volume = ptr(d.close), ptr(d.adj), ptr(*p.Volume+d.volume)
	}
	return out, nil
}

// BulkLastDay returns every listing of an exchange (or the given symbols)
// on date, or on the last trading day when date is empty. A date without
// trading (a weekend) has no bars.
func (s *Source) BulkLastDay(_ context.Context, _ sdk.Credentials, exchange, date string, symbols []string) ([]sdk.Bar, error) {
	if err := checkExchange(exchange); err != nil {
		return nil, err
	}
	if err := checkDate("date", date); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, sym := range symbols {
		code, _, _ := strings.Cut(strings.ToUpper(sym), ".")
		want[code] = true
	}
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	out := []sdk.Bar{}
	for _, sr := range ds.order {
		if !strings.EqualFold(sr.sec.exchange, exchange) || (len(want) > 0 && !want[sr.sec.code]) {
			continue
		}
		i := len(sr.days) - 1
		if date != "" {
			i = sr.index(date)
			if i < 0 || sr.days[i].date != date {
				continue
			}
		}
		if i >= 0 {
			out = append(out, sr.bar(sr.days[i]))
		}
	}
	return out, nil
}

// Dividends returns the listing's dividends by ex-date.
func (s *Source) Dividends(_ context.Context, _ sdk.Credentials, ticker, from, to string) ([]sdk.Dividend, error) {
	sr, err := s.series(ticker, from, to)
	if err != nil {
		return nil, err
	}
	out := []sdk.Dividend{}
	for _, d := range sr.divs {
		if (from == "" || d.Date >= from) && (to == "" || d.Date <= to) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Splits returns the listing's splits.
func (s *Source) Splits(_ context.Context, _ sdk.Credentials, ticker, from, to string) ([]sdk.Split, error) {
	sr, err := s.series(ticker, from, to)
	if err != nil {
		return nil, err
	}
	out := []sdk.Split{}
	for _, sp := range sr.splits {
		if (from == "" || sp.Date >= from) && (to == "" || sp.Date <= to) {
			out = append(out, sp)
		}
	}
	return out, nil
}

func (s *Source) series(ticker, from, to string) (*series, error) {
	if err := checkTicker(ticker); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	sr, ok := ds.lookup(ticker)
	if !ok {
		return nil, notFound(ticker)
	}
	return sr, nil
}

// Fundamentals are derived from the generated prices and dividends. Funds
// have no earnings, so their P/E and EPS are missing, not zero.
func (s *Source) Fundamentals(_ context.Context, _ sdk.Credentials, ticker string) (sdk.Fundamentals, error) {
	sr, err := s.series(ticker, "", "")
	if err != nil {
		return sdk.Fundamentals{}, err
	}
	sec := sr.sec
	last := sr.days[len(sr.days)-1]
	yearAgo := time.Time{}
	if t, err := time.Parse(time.DateOnly, last.date); err == nil {
		yearAgo = t.AddDate(-1, 0, 0)
	}
	hi, lo := 0.0, math.Inf(1)
	for i := sr.index(yearAgo.Format(time.DateOnly)) + 1; i < len(sr.days); i++ {
		c := sr.days[i].close / splitFactor(sr.splits, sr.days[i].date)
		hi, lo = math.Max(hi, c), math.Min(lo, c)
	}
	paid := 0.0
	for _, d := range sr.divs {
		if d.Date > yearAgo.Format(time.DateOnly) {
			paid += *d.Value
		}
	}
	f := sdk.Fundamentals{
		Ticker: ticker, Name: sec.name, Type: sec.kind, Sector: sec.sector, Industry: sec.industry,
		Currency: sec.currency, Country: sec.country,
		MarketCap:     ptr(math.Round(sec.shares * last.close)),
		DividendYield: ptr(round(paid/last.close, 4)),
		Beta:          ptr(sec.beta), High52Week: ptr(round(hi, 2)), Low52Week: ptr(round(lo, 2)),
	}
	general := map[string]any{
		"Code": sec.code, "Exchange": sec.exchange, "Name": sec.name, "Type": sec.kind, "CurrencyCode": sec.currency,
		"CountryName": sec.country, "Description": Label + ": generated by Vire's offline sample source.",
		"UpdatedAt": last.date,
	}
	highlights := map[string]any{"MarketCapitalization": *f.MarketCap, "DividendYield": *f.DividendYield}
	if sec.kind != "ETF" {
		general["Sector"], general["Industry"] = sec.sector, sec.industry
		f.EPS, f.PERatio = ptr(sec.eps), ptr(round(last.close/sec.eps, 2))
		highlights["EarningsShare"], highlights["PERatio"] = sec.eps, *f.PERatio
	}
	f.Sections = map[string]map[string]any{
		"General":     general,
		"Highlights":  highlights,
		"Technicals":  {"Beta": sec.beta, "52WeekHigh": *f.High52Week, "52WeekLow": *f.Low52Week},
		"SharesStats": {"SharesOutstanding": sec.shares},
	}
	if sec.kind == "ETF" {
		f.Sections["ETF_Data"] = map[string]any{"Yield": round(paid/last.close*100, 2), "Description": Label}
	}
	return f, nil
}

// Search matches codes and tickers by prefix and names by substring,
// codes first. limit ≤ 0 means 15.
func (s *Source) Search(_ context.Context, _ sdk.Credentials, query string, limit int) ([]sdk.SearchResult, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, fmt.Errorf("%w: the search query is empty", sdk.ErrInvalidArgument)
	}
	if limit <= 0 {
		limit = 15
	}
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	var byCode, byName []sdk.SearchResult
	for _, sr := range ds.order {
		sec := sr.sec
		prev := sr.days[len(sr.days)-1]
		r := sdk.SearchResult{Ticker: sec.ticker(), Code: sec.code, Exchange: sec.exchange, Name: sec.name, Type: sec.kind,
			Country: sec.country, Currency: sec.currency, PreviousClose: ptr(prev.close)}
		switch {
		case strings.HasPrefix(strings.ToLower(sec.code), q), strings.EqualFold(sec.ticker(), q):
			byCode = append(byCode, r)
		case strings.Contains(strings.ToLower(sec.name), q):
			byName = append(byName, r)
		}
	}
	out := append(append([]sdk.SearchResult{}, byCode...), byName...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ExchangeSymbols lists the sample's listings on AU or US.
func (s *Source) ExchangeSymbols(_ context.Context, _ sdk.Credentials, exchange string) ([]sdk.Symbol, error) {
	if err := checkExchange(exchange); err != nil {
		return nil, err
	}
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	var out []sdk.Symbol
	for _, sr := range ds.order {
		if sec := sr.sec; strings.EqualFold(sec.exchange, exchange) {
			out = append(out, sdk.Symbol{Code: sec.code, Name: sec.name, Country: sec.country, Exchange: sec.exchange,
				Currency: sec.currency, Type: sec.kind})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the sample data has no exchange %q (only AU and US)", sdk.ErrNotFound, exchange)
	}
	return out, nil
}

// Usage counts the calls served; the sample has no allowance.
func (s *Source) Usage(context.Context, sdk.Credentials) (sdk.Usage, error) {
	if _, err := s.data(); err != nil {
		return sdk.Usage{}, err
	}
	return sdk.Usage{Requests: s.calls.Load(), Plan: "sample (offline, unlimited)"}, nil
}

func notFound(ticker string) error {
	return fmt.Errorf("%w: the sample data has no %s", sdk.ErrNotFound, ticker)
}

func checkTicker(t string) error {
	code, ex, ok := strings.Cut(t, ".")
	if !ok || code == "" || checkExchange(ex) != nil || strings.ContainsAny(code, " /?#&.") || len(code) > 24 {
		return fmt.Errorf("%w: ticker %q must be CODE.EXCHANGE, e.g. BHP.AU", sdk.ErrInvalidArgument, t)
	}
	return nil
}

func checkExchange(ex string) error {
	if ex == "" || len(ex) > 12 {
		return fmt.Errorf("%w: exchange %q", sdk.ErrInvalidArgument, ex)
	}
	for _, r := range ex {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return fmt.Errorf("%w: exchange %q", sdk.ErrInvalidArgument, ex)
		}
	}
	return nil
}

func checkDate(what, d string) error {
	if d == "" {
		return nil
	}
	if t, err := time.Parse(time.DateOnly, d); err != nil || t.Format(time.DateOnly) != d {
		return fmt.Errorf("%w: %s %q must be YYYY-MM-DD", sdk.ErrInvalidArgument, what, d)
	}
	return nil
}

func checkRange(from, to string) error {
	if err := checkDate("from", from); err != nil {
		return err
	}
	if err := checkDate("to", to); err != nil {
		return err
	}
	if from != "" && to != "" && from > to {
		return fmt.Errorf("%w: from %s is after to %s", sdk.ErrInvalidArgument, from, to)
	}
	return nil
}
