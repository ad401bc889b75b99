package fakeeodhd

import (
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"time"
)

// Dates with deliberately awkward data, as found in real EODHD history.
const (
	// FirstDate is the first bar of every security.
	FirstDate = "2015-01-02"
	// ZeroVolumeDate is a trading day on which every security traded
	// nothing.
	ZeroVolumeDate = "2020-12-24"
	// BadBarTicker's close on BadBarDate is 40% away from both neighbours.
	BadBarTicker = "BHP.AU"
	BadBarDate   = "2021-03-15"
)

// Security is one listing the server knows.
type Security struct {
	Code     string
	Exchange string // EODHD exchange code: AU, US
	Venue    string // the listing venue as exchange-symbol-list names it
	Name     string
	Type     string // "Common Stock" or "ETF"
	Sector   string
	Industry string
	Currency string
	Country  string
	ISIN     string
	// Splits are New-for-Old share splits, by date.
	Splits []SplitEvent

	base   float64 // economic price level, in today's shares
	shares float64 // shares outstanding today
	eps    float64 // earnings per share today; 0 for funds
	beta   float64
	phase  float64
	yield  float64 // annual dividend yield
}

// SplitEvent is one split.
type SplitEvent struct {
	Date     string
	New, Old float64
}

// Ticker is CODE.EXCHANGE.
func (s *Security) Ticker() string { return s.Code + "." + s.Exchange }

func builtinSecurities() []*Security {
	return []*Security{
		{Code: "BHP", Exchange: "AU", Venue: "AU", Name: "BHP Group Limited", Type: "Common Stock", Sector: "Basic Materials",
			Industry: "Other Industrial Metals & Mining", Currency: "AUD", Country: "Australia", ISIN: "AU000000BHP4",
			base: 38, shares: 5.07e9, eps: 3.1, beta: 0.92, yield: 0.055},
		{Code: "CBA", Exchange: "AU", Venue: "AU", Name: "Commonwealth Bank of Australia", Type: "Common Stock", Sector: "Financial Services",
			Industry: "Banks - Diversified", Currency: "AUD", Country: "Australia", ISIN: "AU000000CBA7",
			base: 95, shares: 1.67e9, eps: 5.9, beta: 0.78, yield: 0.041},
		{Code: "CSL", Exchange: "AU", Venue: "AU", Name: "CSL Limited", Type: "Common Stock", Sector: "Healthcare",
			Industry: "Biotechnology", Currency: "AUD", Country: "Australia", ISIN: "AU000000CSL8",
			base: 260, shares: 4.83e8, eps: 6.2, beta: 0.55, yield: 0.013},
		{Code: "VAS", Exchange: "AU", Venue: "AU", Name: "Vanguard Australian Shares Index ETF", Type: "ETF",
			Currency: "AUD", Country: "Australia", ISIN: "AU000000VAS1", base: 85, shares: 1.7e8, beta: 1, yield: 0.038},
		{Code: "WES", Exchange: "AU", Venue: "AU", Name: "Wesfarmers Limited", Type: "Common Stock", Sector: "Consumer Cyclical",
			Industry: "Home Improvement Retail", Currency: "AUD", Country: "Australia", ISIN: "AU000000WES1",
			base: 55, shares: 1.13e9, eps: 2.2, beta: 0.85, yield: 0.035},
		{Code: "AAPL", Exchange: "US", Venue: "NASDAQ", Name: "Apple Inc", Type: "Common Stock", Sector: "Technology",
			Industry: "Consumer Electronics", Currency: "USD", Country: "USA", ISIN: "US0378331005",
			base: 120, shares: 1.55e10, eps: 6.1, beta: 1.24, yield: 0.006,
			Splits: []SplitEvent{{Date: "2020-08-31", New: 4, Old: 1}}},
		{Code: "MSFT", Exchange: "US", Venue: "NASDAQ", Name: "Microsoft Corporation", Type: "Common Stock", Sector: "Technology",
			Industry: "Software - Infrastructure", Currency: "USD", Country: "USA", ISIN: "US5949181045",
			base: 250, shares: 7.43e9, eps: 11.5, beta: 0.9, yield: 0.008},
		{Code: "VOO", Exchange: "US", Venue: "NYSE ARCA", Name: "Vanguard S&P 500 ETF", Type: "ETF",
			Currency: "USD", Country: "USA", ISIN: "US9229083632", base: 380, shares: 1.2e9, beta: 1, yield: 0.014},
	}
}

// extraSecurity makes a plain listing for a ticker a test asks for.
func extraSecurity(ticker string) *Security {
	code, ex, _ := strings.Cut(ticker, ".")
	h := hash(ticker)
	cur, country := "USD", "USA"
	if ex == "AU" {
		cur, country = "AUD", "Australia"
	}
	return &Security{Code: code, Exchange: ex, Venue: ex, Name: "Fake " + code + " Holdings", Type: "Common Stock",
		Sector: "Industrials", Industry: "Conglomerates", Currency: cur, Country: country,
		base: 5 + float64(h%20000)/100, shares: 1e8, eps: 0.5, beta: 1.1, yield: 0.03}
}

// prepare derives the security's fixed phase; it runs before the server
// starts, so serving only ever reads a Security.
func (s *Security) prepare() *Security {
	s.phase = float64(hash(s.Ticker())%6283) / 1000
	return s
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Bar is one day of the server's data, in as-traded (unadjusted) prices
// except AdjustedClose.
type Bar struct {
	Date                                  string
	Open, High, Low, Close, AdjustedClose float64
	Volume                                float64
}

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// economic is the price in today's shares: smooth, deterministic, positive.
func (s *Security) economic(day float64) float64 {
	growth := 1 + 0.00012*(day-5500)
	return s.base * growth * (1 + 0.18*math.Sin(day/97+s.phase)) * (1 + 0.03*math.Sin(day/6.7+2*s.phase))
}

// splitFactor is how many of today's shares one share held on date became.
func (s *Security) splitFactor(date string) float64 {
	f := 1.0
	for _, sp := range s.Splits {
		if date < sp.Date {
			f *= sp.New / sp.Old
		}
	}
	return f
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// BarOn returns the bar for date, or false on weekends, before FirstDate
// and after today.
func (s *Security) barOn(date time.Time) (Bar, bool) {
	if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return Bar{}, false
	}
	d := date.Format(time.DateOnly)
	if d < FirstDate {
		return Bar{}, false
	}
	day := date.Sub(epoch).Hours() / 24
	econ := s.economic(day)
	f := s.splitFactor(d)
	places := 2
	if s.Exchange == "AU" {
		places = 3
	}
	cl := round(econ*f, places)
	op := round(s.economic(day-0.4)*f, places)
	if d == BadBarDate && s.Ticker() == BadBarTicker {
		cl = round(cl*1.4, places)
	}
	hi := round(math.Max(op, cl)*1.012, places)
	lo := round(math.Min(op, cl)*0.988, places)
	vol := math.Round(2e6 * (1.2 + math.Sin(day/3.1+s.phase)) / f)
	if d == ZeroVolumeDate {
		vol = 0
	}
	return Bar{Date: d, Open: op, High: hi, Low: lo, Close: cl, AdjustedClose: round(cl/f, 4), Volume: vol}, true
}

// Bars returns the daily bars from..to (inclusive; "" leaves an end open,
// ending at today).
func (s *Security) Bars(from, to, today string) []Bar {
	if from == "" || from < FirstDate {
		from = FirstDate
	}
	if to == "" || to > today {
		to = today
	}
	start, err1 := time.Parse(time.DateOnly, from)
	end, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []Bar
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		if b, ok := s.barOn(d); ok {
			out = append(out, b)
		}
	}
	return out
}

// lastBars returns the last two bars on or before date.
func (s *Security) lastBars(date string) (prev, last Bar, ok bool) {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return Bar{}, Bar{}, false
	}
	found := 0
	for d := t; found < 2 && d.Format(time.DateOnly) >= FirstDate; d = d.AddDate(0, 0, -1) {
		if b, ok := s.barOn(d); ok {
			if found == 0 {
				last = b
			} else {
				prev = b
			}
			found++
		}
	}
	return prev, last, found == 2
}

// Dividend is one dividend the server reports.
type Dividend struct {
	Date, Declaration, Record, Payment string
	Period                             string
	Value, Unadjusted                  float64
}

// Dividends returns the security's dividends: AU listings pay twice a
// year, US listings four times.
func (s *Security) Dividends(today string) []Dividend {
	months := []time.Month{3, 9}
	period := "Interim"
	if s.Exchange == "US" {
		months = []time.Month{2, 5, 8, 11}
		period = "Quarterly"
	}
	var out []Dividend
	for y := 2015; ; y++ {
		for i, m := range months {
			ex := time.Date(y, m, 10, 0, 0, 0, 0, time.UTC)
			for ex.Weekday() == time.Saturday || ex.Weekday() == time.Sunday {
				ex = ex.AddDate(0, 0, 1)
			}
			d := ex.Format(time.DateOnly)
			if d > today {
				return out
			}
			day := ex.Sub(epoch).Hours() / 24
			value := round(s.economic(day)*s.yield/float64(len(months)), 4)
			f := s.splitFactor(d)
			p := period
			if s.Exchange == "AU" && i == 1 {
				p = "Final"
			}
			out = append(out, Dividend{
				Date: d, Declaration: ex.AddDate(0, 0, -21).Format(time.DateOnly),
				Record: ex.AddDate(0, 0, 1).Format(time.DateOnly), Payment: ex.AddDate(0, 0, 20).Format(time.DateOnly),
				Period: p, Value: value, Unadjusted: round(value*f, 4),
			})
		}
	}
}

// high52 and low52 are the extreme closes of the year to today.
func (s *Security) range52(today string) (hi, lo float64) {
	t, _ := time.Parse(time.DateOnly, today)
	bars := s.Bars(t.AddDate(-1, 0, 0).Format(time.DateOnly), today, today)
	lo = math.Inf(1)
	for _, b := range bars {
		hi = math.Max(hi, b.Close)
		lo = math.Min(lo, b.Close)
	}
	if len(bars) == 0 {
		lo = 0
	}
	return hi, lo
}

func sortedSecurities(m map[string]*Security) []*Security {
	out := make([]*Security, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ticker() < out[j].Ticker() })
	return out
}
