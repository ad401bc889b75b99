package sample

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

const asOf = "2026-11-27" // a Friday

var none = sdk.Credentials{}

func configured(t testing.TB, cfg sdk.ConfigValue) *Source {
	t.Helper()
	s := New(nil)
	full, err := s.Schema().Complete(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Configure(t.Context(), full); err != nil {
		t.Fatal(err)
	}
	return s
}

func tickers(t *testing.T, s *Source) []string {
	t.Helper()
	var out []string
	for _, ex := range []string{"AU", "US"} {
		syms, err := s.ExchangeSymbols(t.Context(), none, ex)
		if err != nil {
			t.Fatal(err)
		}
		for _, sym := range syms {
			out = append(out, sym.Code+"."+sym.Exchange)
		}
	}
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot renders everything the source serves, for comparisons.
func snapshot(t *testing.T, s *Source) string {
	t.Helper()
	ctx := t.Context()
	var parts []string
	for _, tk := range tickers(t, s) {
		h, err1 := s.History(ctx, none, tk, sdk.HistoryQuery{})
		d, err2 := s.Dividends(ctx, none, tk, "", "")
		f, err3 := s.Fundamentals(ctx, none, tk)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, jsonOf(t, h), jsonOf(t, d), jsonOf(t, f))
	}
	perf, err := s.Performance(ctx, none, PortfolioID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	parts = append(parts, jsonOf(t, perf))
	return strings.Join(parts, "\n")
}

func TestDeterminism(t *testing.T) {
	a := snapshot(t, configured(t, sdk.ConfigValue{"seed": 7, "as_of": asOf}))
	b := snapshot(t, configured(t, sdk.ConfigValue{"seed": 7, "as_of": asOf}))
	if a != b {
		t.Fatal("the same seed and as_of gave different data")
	}
	if c := snapshot(t, configured(t, sdk.ConfigValue{"seed": 8, "as_of": asOf})); c == a {
		t.Fatal("a different seed gave the same data")
	}

	// A later as_of extends the history without rewriting its closes.
	ctx := t.Context()
	early := configured(t, sdk.ConfigValue{"seed": 7, "as_of": "2024-06-28"})
	late := configured(t, sdk.ConfigValue{"seed": 7, "as_of": asOf})
	x, _ := early.History(ctx, none, "CSL.AU", sdk.HistoryQuery{})
	y, _ := late.History(ctx, none, "CSL.AU", sdk.HistoryQuery{To: "2024-06-28"})
	if len(x) != len(y) || len(x) < 1400 {
		t.Fatalf("%d and %d bars", len(x), len(y))
	}
	for i := range x {
		if *x[i].Close != *y[i].Close || *x[i].Open != *y[i].Open || *x[i].Volume != *y[i].Volume {
			t.Fatalf("bar %s changed with as_of", x[i].Date)
		}
	}
	if x[len(x)-1].Date != "2024-06-28" {
		t.Fatalf("data ends %s, want as_of", x[len(x)-1].Date)
	}
}

func TestTradingDays(t *testing.T) {
	s := configured(t, sdk.ConfigValue{"as_of": "2026-11-29"}) // a Sunday
	for _, tk := range tickers(t, s) {
		bars, err := s.History(t.Context(), none, tk, sdk.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if bars[0].Date != Epoch || bars[len(bars)-1].Date != "2026-11-27" {
			t.Fatalf("%s: %s to %s", tk, bars[0].Date, bars[len(bars)-1].Date)
		}
		for i, b := range bars {
			d, err := time.Parse(time.DateOnly, b.Date)
			if err != nil {
				t.Fatal(err)
			}
			if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				t.Fatalf("%s: a bar on %s, a %s", tk, b.Date, d.Weekday())
			}
			if i > 0 {
				prev, _ := time.Parse(time.DateOnly, bars[i-1].Date)
				gap := d.Sub(prev).Hours() / 24
				if !(gap == 1 || (gap == 3 && d.Weekday() == time.Monday)) {
					t.Fatalf("%s: a gap of %v days before %s", tk, gap, b.Date)
				}
			}
		}
	}
	// A weekend has no bulk bars; the Friday has every listing.
	ctx := t.Context()
	if bars, _ := s.BulkLastDay(ctx, none, "AU", "2026-11-28", nil); len(bars) != 0 {
		t.Fatalf("bars on a Saturday: %v", bars)
	}
	if bars, _ := s.BulkLastDay(ctx, none, "AU", "", nil); len(bars) != 8 || bars[0].Date != "2026-11-27" {
		t.Fatalf("latest AU bulk: %d bars", len(bars))
	}
}

// TestContracts checks the data set against the sdk's promises: prices are
// present and positive, missing means nil, and everything crosses the wire.
func TestContracts(t *testing.T) {
	s := configured(t, sdk.ConfigValue{"as_of": asOf})
	ctx := t.Context()
	all := tickers(t, s)
	if len(all) != 12 {
		t.Fatalf("%d listings", len(all))
	}
	positive := func(what string, p *float64) {
		t.Helper()
		if p == nil || !(*p > 0) || math.IsInf(*p, 0) {
			t.Errorf("%s = %v, want a positive number", what, p)
		}
	}
	quotes, err := s.Quotes(ctx, none, all)
	if err != nil || len(quotes) != 12 {
		t.Fatalf("quotes: %d %v", len(quotes), err)
	}
	for i, tk := range all {
		bars, _ := s.History(ctx, none, tk, sdk.HistoryQuery{})
		for _, b := range bars {
			for _, p := range []*float64{b.Open, b.High, b.Low, b.Close, b.AdjustedClose} {
				positive(tk+" "+b.Date, p)
			}
			if b.Volume == nil || *b.Volume < 0 {
				t.Fatalf("%s %s volume %v", tk, b.Date, b.Volume)
			}
			if *b.Low > *b.Open || *b.Low > *b.Close || *b.High < *b.Open || *b.High < *b.Close {
				t.Fatalf("%s %s: low/high do not bracket open/close: %s", tk, b.Date, jsonOf(t, b))
			}
		}
		last := bars[len(bars)-1]
		q := quotes[i]
		if q.Ticker != tk || *q.Last != *last.Close || *q.Open != *last.Open || *q.Volume != *last.Volume || q.Time.Format(time.DateOnly) != last.Date {
			t.Errorf("%s: quote %s does not derive from the last bar %s", tk, jsonOf(t, q), jsonOf(t, last))
		}
		positive(tk+" previous close", q.PreviousClose)
		if math.Abs(*q.Last-*q.PreviousClose-*q.Change) > 1e-3 {
			t.Errorf("%s: change %v", tk, *q.Change)
		}

		f, err := s.Fundamentals(ctx, none, tk)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(f.Name, "(sample)") || !strings.Contains(f.Sections["General"]["Description"].(string), Label) {
			t.Errorf("%s is not labelled as sample data: %q", tk, f.Name)
		}
		for name, p := range map[string]*float64{"market cap": f.MarketCap, "beta": f.Beta, "52w high": f.High52Week,
			"52w low": f.Low52Week, "yield": f.DividendYield} {
			positive(tk+" "+name, p)
		}
		if *f.Low52Week > *f.High52Week {
			t.Errorf("%s: 52-week low above high", tk)
		}
		if f.Type == "ETF" {
			if f.PERatio != nil || f.EPS != nil || f.Sector != "" {
				t.Errorf("%s: a fund has no P/E, EPS or sector: %s", tk, jsonOf(t, f))
			}
			if _, ok := f.Sections["ETF_Data"]; !ok {
				t.Errorf("%s: no ETF_Data", tk)
			}
		} else {
			positive(tk+" pe", f.PERatio)
			positive(tk+" eps", f.EPS)
		}

		divs, _ := s.Dividends(ctx, none, tk, "", "")
		if len(divs) < 7*2 {
			t.Errorf("%s: %d dividends", tk, len(divs))
		}
		for _, d := range divs {
			positive(tk+" dividend "+d.Date, d.Value)
			positive(tk+" dividend "+d.Date, d.UnadjustedValue)
			if d.PaymentDate <= d.Date || d.DeclarationDate >= d.Date || d.Currency == "" {
				t.Errorf("%s: dividend %s", tk, jsonOf(t, d))
			}
		}
	}

	var back []sdk.Bar
	bars, _ := s.History(ctx, none, "VAS.AU", sdk.HistoryQuery{From: "2025-01-01", Period: sdk.Monthly})
	if err := json.Unmarshal([]byte(jsonOf(t, bars)), &back); err != nil || len(back) != 23 || back[0].Date != "2025-01-01" {
		t.Fatalf("monthly bars: %d %v", len(back), err)
	}
}

func TestSplit(t *testing.T) {
	s := configured(t, sdk.ConfigValue{"as_of": asOf, "seed": 3})
	ctx := t.Context()
	splits, err := s.Splits(ctx, none, "AAPL.US", "", "")
	if err != nil || len(splits) != 1 || splits[0] != (sdk.Split{Date: "2020-08-31", New: 4, Old: 1}) {
		t.Fatalf("splits: %v %v", splits, err)
	}
	for _, tk := range tickers(t, s) {
		if sp, _ := s.Splits(ctx, none, tk, "", ""); tk != "AAPL.US" && len(sp) != 0 {
			t.Errorf("%s has splits %v", tk, sp)
		}
	}
	bars, _ := s.History(ctx, none, "AAPL.US", sdk.HistoryQuery{From: "2020-08-01", To: "2020-09-30"})
	var before, after sdk.Bar
	for i, b := range bars {
		if b.Date == "2020-08-31" {
			before, after = bars[i-1], b
		}
	}
	// close/adjusted_close falls by exactly the split ratio across the
	// split (no dividend goes ex that day) ...
	rb, ra := *before.Close / *before.AdjustedClose, *after.Close / *after.AdjustedClose
	if r := rb / ra; math.Abs(r-4) > 0.001 {
		t.Fatalf("ratio before/after = %v, want 4 (%v, %v)", r, rb, ra)
	}
	// ... the traded close drops to about a quarter, and the adjusted close
	// moves only by the day's return.
	if r := *after.Close / *before.Close; r < 0.2 || r > 0.3 {
		t.Fatalf("close moved by %v across the split", r)
	}
	if r := *after.AdjustedClose / *before.AdjustedClose; r < 0.85 || r > 1.15 {
		t.Fatalf("adjusted close jumped by %v across the split", r)
	}
	// Every day before the split carries the factor 4 (times dividends).
	all, _ := s.History(ctx, none, "AAPL.US", sdk.HistoryQuery{})
	for _, b := range all {
		r := *b.Close / *b.AdjustedClose
		if (b.Date < "2020-08-31" && r < 4) || (b.Date >= "2020-08-31" && (r < 1 || r >= 1.2)) {
			t.Fatalf("%s: close/adjusted = %v", b.Date, r)
		}
	}
	divs, _ := s.Dividends(ctx, none, "AAPL.US", "", "2020-08-30")
	for _, d := range divs {
		if math.Abs(*d.UnadjustedValue-4**d.Value) > 0.001 {
			t.Errorf("dividend %s: unadjusted %v, adjusted %v", d.Date, *d.UnadjustedValue, *d.Value)
		}
	}
	f, _ := s.Fundamentals(ctx, none, "AAPL.US")
	if *f.High52Week > *all[len(all)-1].Close*2 {
		t.Errorf("52-week high %v is not split-adjusted", *f.High52Week)
	}
}

func TestPortfolio(t *testing.T) {
	s := configured(t, sdk.ConfigValue{"as_of": asOf})
	ctx := t.Context()
	ps, err := s.Portfolios(ctx, none)
	if err != nil || len(ps) != 1 || ps[0].Name != "SMSF Sample" || ps[0].BaseCurrency != "AUD" {
		t.Fatalf("portfolios: %v %v", ps, err)
	}
	holdings, err := s.Holdings(ctx, none, ps[0].ID)
	if err != nil || len(holdings) != 7 {
		t.Fatalf("holdings: %v %v", holdings, err)
	}
	types := map[sdk.TradeType]bool{}
	units := map[string]float64{}
	outOfOrder, negativeSell := false, false
	for _, h := range holdings {
		if h.PortfolioID != ps[0].ID || h.Exchange != "ASX" || !strings.HasSuffix(h.Ticker, ".AU") {
			t.Errorf("holding %+v", h)
		}
		trades, err := s.Trades(ctx, none, h.ID)
		if err != nil || len(trades) == 0 {
			t.Fatalf("trades of %s: %v", h.ID, err)
		}
		bars, _ := s.History(ctx, none, h.Ticker, sdk.HistoryQuery{})
		closes := map[string]float64{}
		for _, b := range bars {
			closes[b.Date] = *b.Close
		}
		for i, tr := range trades {
			types[tr.Type] = true
			units[h.Ticker] += tr.Quantity
			if i > 0 && tr.Date < trades[i-1].Date {
				outOfOrder = true
			}
			if tr.HoldingID != h.ID || tr.Ticker != h.Ticker || tr.Currency != "AUD" {
				t.Errorf("trade %+v", tr)
			}
			c, traded := closes[tr.Date]
			if !traded {
				t.Errorf("trade %s on %s, not a trading day", tr.ID, tr.Date)
			}
			switch tr.Type {
			case sdk.TradeSell:
				negativeSell = negativeSell || (tr.Quantity < 0 && tr.Value < 0)
				fallthrough
			case sdk.TradeBuy, sdk.TradeOpeningBalance:
				if tr.Price != c || math.Abs(tr.Value-tr.Quantity*tr.Price) > 0.01 || tr.Quantity == 0 {
					t.Errorf("trade %+v does not match the close %v", tr, c)
				}
			default:
				if tr.Quantity != 0 || tr.Value == 0 {
					t.Errorf("cost base adjustment %+v", tr)
				}
			}
		}
	}
	for _, tt := range []sdk.TradeType{sdk.TradeBuy, sdk.TradeSell, sdk.TradeOpeningBalance, sdk.TradeCostBaseIncrease, sdk.TradeCostBaseDecrease} {
		if !types[tt] {
			t.Errorf("no %q trade", tt)
		}
	}
	if !outOfOrder || !negativeSell {
		t.Errorf("out of order %v, negative sell %v", outOfOrder, negativeSell)
	}
	if units["NAB.AU"] != 0 || units["BHP.AU"] != 700 {
		t.Errorf("units: %v", units)
	}

	perf, err := s.Performance(ctx, none, ps[0].ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if perf.To != asOf || perf.From != "2019-02-01" || len(perf.Holdings) != 7 {
		t.Fatalf("performance: %s", jsonOf(t, perf))
	}
	var sum, weights, divs float64
	for _, hp := range perf.Holdings {
		if hp.Quantity != units[hp.Ticker] {
			t.Errorf("%s: quantity %v, trades say %v", hp.Ticker, hp.Quantity, units[hp.Ticker])
		}
		if math.Abs(hp.Return.TotalValue-hp.Quantity*hp.CurrentPrice) > 0.01 {
			t.Errorf("%s: value %v", hp.Ticker, hp.Return.TotalValue)
		}
		sum += hp.Return.TotalValue
		weights += hp.Weight
		divs += hp.Return.DividendReturnValue
		if hp.Ticker == "NAB.AU" && (hp.Return.TotalValue != 0 || hp.Return.CapitalGainValue == 0 || hp.Return.DividendReturnValue <= 0) {
			t.Errorf("closed NAB position: %+v", hp.Return)
		}
	}
	if math.Abs(sum-perf.Total.TotalValue) > 0.1 || math.Abs(weights-100) > 0.1 || math.Abs(divs-perf.Total.DividendReturnValue) > 0.1 {
		t.Errorf("totals: value %v vs %v, weights %v, dividends %v vs %v", sum, perf.Total.TotalValue, weights, divs, perf.Total.DividendReturnValue)
	}
	early, err := s.Performance(ctx, none, ps[0].ID, "2019-02-01", "2020-01-31")
	if err != nil || early.Total.TotalValue >= perf.Total.TotalValue*2 || early.Total.TotalValue <= 0 {
		t.Fatalf("first year: %v %v", early.Total, err)
	}
	for _, hp := range early.Holdings {
		if hp.Ticker == "STW.AU" && hp.Quantity != 0 {
			t.Errorf("STW was bought in 2022, held %v in 2019", hp.Quantity)
		}
	}
}

func TestErrors(t *testing.T) {
	s := configured(t, sdk.ConfigValue{"as_of": asOf})
	ctx := t.Context()
	notFound := []error{}
	_, err := s.History(ctx, none, "ZZZ.AU", sdk.HistoryQuery{})
	notFound = append(notFound, err)
	_, err = s.Fundamentals(ctx, none, "BHP.US")
	notFound = append(notFound, err)
	_, err = s.Quotes(ctx, none, []string{"ZZZ.AU"})
	notFound = append(notFound, err)
	_, err = s.ExchangeSymbols(ctx, none, "LSE")
	notFound = append(notFound, err)
	_, err = s.Holdings(ctx, none, "42")
	notFound = append(notFound, err)
	_, err = s.Trades(ctx, none, "42")
	notFound = append(notFound, err)
	_, err = s.Performance(ctx, none, "42", "", "")
	notFound = append(notFound, err)
	for i, err := range notFound {
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("case %d: %v, want ErrNotFound", i, err)
		}
	}
	invalid := []error{}
	_, err = s.History(ctx, none, "BHP", sdk.HistoryQuery{})
	invalid = append(invalid, err)
	_, err = s.History(ctx, none, "BHP.AU", sdk.HistoryQuery{Period: "q"})
	invalid = append(invalid, err)
	_, err = s.Dividends(ctx, none, "BHP.AU", "2022-13-01", "")
	invalid = append(invalid, err)
	_, err = s.Performance(ctx, none, PortfolioID, "2024-01-01", "2023-01-01")
	invalid = append(invalid, err)
	_, err = s.Search(ctx, none, " ", 3)
	invalid = append(invalid, err)
	for i, err := range invalid {
		if !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("case %d: %v, want ErrInvalidArgument", i, err)
		}
	}
	res, err := s.Search(ctx, none, "bank", 0)
	if err != nil || len(res) != 2 || res[0].Ticker != "CBA.AU" {
		t.Fatalf("search bank: %v %v", res, err)
	}
	res, _ = s.Search(ctx, none, "v", 1)
	if len(res) != 1 || res[0].Code != "VAS" {
		t.Fatalf("search v: %v", res)
	}
}

func TestConfigure(t *testing.T) {
	for name, c := range map[string]struct {
		cfg  sdk.ConfigValue
		attr string
	}{
		"bad date":   {sdk.ConfigValue{"as_of": "27/11/2026"}, "as_of"},
		"too early":  {sdk.ConfigValue{"as_of": "2023-06-30"}, "as_of"},
		"too late":   {sdk.ConfigValue{"as_of": "2300-01-01"}, "as_of"},
		"fractional": {sdk.ConfigValue{"seed": 1.5}, "seed"},
	} {
		s := New(nil)
		full, err := s.Schema().Complete(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ce sdk.ConfigErrors
		if err := s.Configure(t.Context(), full); !errors.As(err, &ce) || ce[0].Attribute != c.attr {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := s.Portfolios(t.Context(), none); !errors.Is(err, sdk.ErrUnavailable) {
			t.Errorf("%s: unconfigured source answered: %v", name, err)
		}
	}

	// Without as_of the data ends today.
	s := configured(t, sdk.ConfigValue{})
	s.now = func() time.Time { return time.Date(2025, 3, 9, 23, 0, 0, 0, time.FixedZone("AEDT", 11*3600)) }
	bars, _ := s.History(t.Context(), none, "BHP.AU", sdk.HistoryQuery{From: "2025-03-01"})
	if bars[len(bars)-1].Date != "2025-03-07" {
		t.Fatalf("data ends %s on Sunday 2025-03-09 (UTC)", bars[len(bars)-1].Date)
	}
	s.now = func() time.Time { return time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC) }
	bars, _ = s.History(t.Context(), none, "BHP.AU", sdk.HistoryQuery{From: "2025-03-01"})
	if bars[len(bars)-1].Date != "2025-03-10" {
		t.Fatalf("the data did not move on with the day: ends %s", bars[len(bars)-1].Date)
	}
	if u, _ := s.Usage(t.Context(), none); u.Requests != 3 {
		t.Errorf("usage %+v", u)
	}
	if !slices.ContainsFunc(s.Schema().Attributes, func(a sdk.Attribute) bool { return a.Name == "as_of" && a.Default == nil }) {
		t.Error("as_of must have no static default")
	}
}

func BenchmarkGenerate(b *testing.B) {
	end, _ := time.Parse(time.DateOnly, asOf)
	for b.Loop() {
		buildDataset(1, end)
	}
}
