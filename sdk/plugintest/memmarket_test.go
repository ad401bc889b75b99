package plugintest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// memMarket is a small, correct MarketData over generated data, and with a
// defect set, a deliberately broken one: the market suite must accept the
// first and reject each of the others.
type memMarket struct {
	defect string
}

var memListings = map[string]struct {
	name  string
	base  float64
	split string // date of a 2-for-1 split, or ""
}{
	"AAA.AU": {"Alpha Mining", 40, ""},
	"BBB.US": {"Beta Devices", 120, "2020-08-31"},
}

const memFirst, memLast = "2020-01-01", "2021-12-31"

func (m *memMarket) has(d string) bool { return m.defect == d }

func (m *memMarket) Schema() sdk.ConfigSchema                         { return sdk.ConfigSchema{} }
func (m *memMarket) Configure(context.Context, sdk.ConfigValue) error { return nil }
func (m *memMarket) Health(context.Context) error                     { return nil }

func (m *memMarket) check(t string) (string, error) {
	code, ex, ok := strings.Cut(t, ".")
	valid := ok && code != "" && ex != "" && len(code) <= 24 && !strings.ContainsAny(code+ex, " ./?#&") && !strings.Contains(ex, ".")
	if !valid {
		if m.has("lenient-ticker") {
			return "", fmt.Errorf("%w: no %q", sdk.ErrNotFound, t)
		}
		return "", fmt.Errorf("%w: ticker %q must be CODE.EXCHANGE", sdk.ErrInvalidArgument, t)
	}
	t = strings.ToUpper(t)
	if _, ok := memListings[t]; !ok {
		if m.has("double-kind") {
			return "", fmt.Errorf("%w: %w: no %s", sdk.ErrNotFound, sdk.ErrInvalidArgument, t)
		}
		return "", fmt.Errorf("%w: no %s", sdk.ErrNotFound, t)
	}
	return t, nil
}

func memRange(from, to string) error {
	for _, d := range []string{from, to} {
		if d != "" && !isDate(d) {
			return fmt.Errorf("%w: date %q", sdk.ErrInvalidArgument, d)
		}
	}
	if from != "" && to != "" && from > to {
		return fmt.Errorf("%w: from after to", sdk.ErrInvalidArgument)
	}
	return nil
}

func p64(v float64) *float64 { return &v }

// daily generates every weekday's bar of a listing.
func (m *memMarket) daily(t string) []sdk.Bar {
	l := memListings[t]
	var out []sdk.Bar
	start, _ := time.Parse(time.DateOnly, memFirst)
	end, _ := time.Parse(time.DateOnly, memLast)
	for d, i := start, 0; !d.After(end); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		i++
		date := d.Format(time.DateOnly)
		c := l.base * (1 + 0.1*math.Sin(float64(i)/20))
		if l.split != "" && date < l.split {
			c *= 2
		}
		b := sdk.Bar{Ticker: t, Date: date, Open: p64(c * 0.99), High: p64(c * 1.02), Low: p64(c * 0.97), Close: p64(c),
			AdjustedClose: p64(c), Volume: p64(1000)}
		if i%50 == 0 {
			b.Open = nil // upstream sometimes lacks a value
			if m.has("zero-missing") {
				b.Open = p64(0)
			}
		}
		out = append(out, b)
	}
	return out
}

func (m *memMarket) Quotes(_ context.Context, _ sdk.Credentials, tickers []string) ([]sdk.Quote, error) {
	out := []sdk.Quote{}
	seen := map[string]bool{}
	for _, t := range tickers {
		u, err := m.check(t)
		if err != nil && !(errorsIsNotFound(err) && !m.has("unknown-quote-error")) {
			return nil, err
		}
		if err != nil || seen[u] {
			continue
		}
		seen[u] = true
		bars := m.daily(u)
		last := bars[len(bars)-1]
		end, _ := time.Parse(time.DateOnly, last.Date)
		out = append(out, sdk.Quote{Ticker: t, Time: end.Add(6 * time.Hour), Last: last.Close, High: last.High, Low: last.Low})
	}
	if len(out) == 0 && len(tickers) > 0 {
		return nil, fmt.Errorf("%w: none known", sdk.ErrNotFound)
	}
	return out, nil
}

func errorsIsNotFound(err error) bool { return sdk.Kind(err) == sdk.ErrNotFound }

func (m *memMarket) History(_ context.Context, _ sdk.Credentials, ticker string, q sdk.HistoryQuery) ([]sdk.Bar, error) {
	if err := memRange(q.From, q.To); err != nil {
		return nil, err
	}
	if q.Period != "" && q.Period != sdk.Daily && q.Period != sdk.Weekly && q.Period != sdk.Monthly {
		return nil, fmt.Errorf("%w: period %q", sdk.ErrInvalidArgument, q.Period)
	}
	t, err := m.check(ticker)
	if err != nil {
		if m.has("unknown-empty") && errorsIsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	to := q.To
	if m.has("outside-range") {
		to = ""
	}
	bars := between(m.daily(t), q.From, to)
	if q.Period == sdk.Weekly || q.Period == sdk.Monthly {
		if !m.has("daily-weeks") {
			bars = memAggregate(bars, q.Period)
		}
	}
	if m.has("descending") {
		slices.Reverse(bars)
	}
	return bars, nil
}

func memAggregate(bars []sdk.Bar, p sdk.Period) []sdk.Bar {
	var out []sdk.Bar
	last := ""
	for _, b := range bars {
		d, _ := time.Parse(time.DateOnly, b.Date)
		k := d.Format("2006-01")
		if p == sdk.Weekly {
			y, w := d.ISOWeek()
			k = fmt.Sprint(y, "-", w)
		}
		if k != last {
			out = append(out, b)
			last = k
			continue
		}
		out[len(out)-1].Close = b.Close
	}
	return out
}

func (m *memMarket) BulkLastDay(_ context.Context, _ sdk.Credentials, exchange, date string, symbols []string) ([]sdk.Bar, error) {
	if exchange == "" || len(exchange) > 12 || strings.ContainsAny(exchange, " /.") {
		return nil, fmt.Errorf("%w: exchange %q", sdk.ErrInvalidArgument, exchange)
	}
	if err := memRange(date, ""); err != nil {
		return nil, err
	}
	var out []sdk.Bar
	for t := range memListings {
		code, ex, _ := strings.Cut(t, ".")
		if !strings.EqualFold(ex, exchange) || (len(symbols) > 0 && !slices.Contains(symbols, code)) {
			continue
		}
		bars := m.daily(t)
		b := bars[len(bars)-1]
		if date != "" {
			b = sdk.Bar{}
			for _, x := range bars {
				if x.Date == date {
					b = x
				}
			}
			if b.Date == "" {
				continue
			}
		}
		out = append(out, b)
	}
	return out, nil
}

func (m *memMarket) dividends(t string) []sdk.Dividend {
	var out []sdk.Dividend
	for _, d := range []string{"2020-03-10", "2020-09-10", "2021-03-10", "2021-09-10"} {
		out = append(out, sdk.Dividend{Date: d, PaymentDate: addDays(d, 20), Value: p64(0.5), Currency: "AUD"})
	}
	return out
}

func (m *memMarket) Dividends(_ context.Context, _ sdk.Credentials, ticker, from, to string) ([]sdk.Dividend, error) {
	if err := memRange(from, to); err != nil {
		return nil, err
	}
	t, err := m.check(ticker)
	if err != nil {
		return nil, err
	}
	if m.has("div-range-ignored") {
		from, to = "", ""
	}
	out := []sdk.Dividend{}
	for _, d := range m.dividends(t) {
		if (from == "" || d.Date >= from) && (to == "" || d.Date <= to) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memMarket) Splits(_ context.Context, _ sdk.Credentials, ticker, from, to string) ([]sdk.Split, error) {
	if err := memRange(from, to); err != nil {
		return nil, err
	}
	t, err := m.check(ticker)
	if err != nil {
		return nil, err
	}
	out := []sdk.Split{}
	if d := memListings[t].split; d != "" && (from == "" || d >= from) && (to == "" || d <= to) {
		out = append(out, sdk.Split{Date: d, New: 2, Old: 1})
	}
	return out, nil
}

func (m *memMarket) Fundamentals(_ context.Context, _ sdk.Credentials, ticker string) (sdk.Fundamentals, error) {
	t, err := m.check(ticker)
	if err != nil {
		return sdk.Fundamentals{}, err
	}
	return sdk.Fundamentals{Ticker: ticker, Name: memListings[t].name, Beta: p64(1.1)}, nil
}

func (m *memMarket) Search(_ context.Context, _ sdk.Credentials, query string, limit int) ([]sdk.SearchResult, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, fmt.Errorf("%w: empty query", sdk.ErrInvalidArgument)
	}
	out := []sdk.SearchResult{}
	for _, t := range slices.Sorted(func(yield func(string) bool) {
		for t := range memListings {
			if !yield(t) {
				return
			}
		}
	}) {
		code, ex, _ := strings.Cut(t, ".")
		l := memListings[t]
		if m.has("search-miss") || !(strings.HasPrefix(strings.ToLower(code), q) || strings.Contains(strings.ToLower(l.name), q)) {
			continue
		}
		out = append(out, sdk.SearchResult{Ticker: t, Code: code, Exchange: ex, Name: l.name})
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memMarket) ExchangeSymbols(_ context.Context, _ sdk.Credentials, exchange string) ([]sdk.Symbol, error) {
	if exchange == "" || len(exchange) > 12 || strings.ContainsAny(exchange, " /.") {
		return nil, fmt.Errorf("%w: exchange %q", sdk.ErrInvalidArgument, exchange)
	}
	var out []sdk.Symbol
	for t, l := range memListings {
		code, ex, _ := strings.Cut(t, ".")
		if strings.EqualFold(ex, exchange) {
			out = append(out, sdk.Symbol{Code: code, Name: l.name, Exchange: ex})
		}
	}
	return out, nil
}

func (m *memMarket) Usage(context.Context, sdk.Credentials) (sdk.Usage, error) {
	return sdk.Usage{}, fmt.Errorf("%w: no allowance to report", sdk.ErrUnsupported)
}
