package eodhd

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/sdk"
)

var noCreds = sdk.Credentials{}

const today = "2026-11-27" // a Friday

func TestHistory(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()
	bars, err := h.src.History(ctx, noCreds, "BHP.AU", sdk.HistoryQuery{From: "2021-03-01", To: "2021-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := h.fake.Security("BHP.AU")
	want := sec.Bars("2021-03-01", "2021-03-31", today)
	if len(bars) != len(want) || len(bars) != 23 {
		t.Fatalf("got %d bars, want %d (23 weekdays in March 2021)", len(bars), len(want))
	}
	for i, b := range bars {
		w := want[i]
		if b.Ticker != "BHP.AU" || b.Date != w.Date || !eqPtr(b.Open, &w.Open) || !eqPtr(b.High, &w.High) ||
			!eqPtr(b.Low, &w.Low) || !eqPtr(b.Close, &w.Close) || !eqPtr(b.AdjustedClose, &w.AdjustedClose) ||
			!eqPtr(b.Volume, &w.Volume) {
			t.Fatalf("bar %d = %+v, want %+v", i, b, w)
		}
		if i > 0 && bars[i-1].Date >= b.Date {
			t.Fatalf("bars out of order at %d: %s then %s", i, bars[i-1].Date, b.Date)
		}
	}
	reqs := h.fake.Requests()
	q := reqs[len(reqs)-1].Query
	for k, v := range map[string]string{"from": "2021-03-01", "to": "2021-03-31", "period": "d", "order": "a", "fmt": "json"} {
		if q.Get(k) != v {
			t.Errorf("query %s = %q, want %q", k, q.Get(k), v)
		}
	}

	weekly, err := h.src.History(ctx, noCreds, "BHP.AU", sdk.HistoryQuery{From: "2021-03-01", To: "2021-03-31", Period: sdk.Weekly})
	if err != nil {
		t.Fatal(err)
	}
	if len(weekly) != 5 || weekly[0].Date != "2021-03-01" {
		t.Fatalf("weekly: %d bars starting %v", len(weekly), weekly)
	}

	// Around AAPL's 4-for-1 split the close is as traded and
	// adjusted_close is continuous.
	split, err := h.src.History(ctx, noCreds, "AAPL.US", sdk.HistoryQuery{From: "2020-08-28", To: "2020-08-31"})
	if err != nil {
		t.Fatal(err)
	}
	before, after := split[0], split[1]
	if r := *before.Close / *before.AdjustedClose; r < 3.99 || r > 4.01 {
		t.Errorf("close/adjusted before the split = %v, want 4", r)
	}
	if r := *after.Close / *after.AdjustedClose; r < 0.99 || r > 1.01 {
		t.Errorf("close/adjusted after the split = %v, want 1", r)
	}

	zero, err := h.src.History(ctx, noCreds, "CBA.AU", sdk.HistoryQuery{From: fakeeodhd.ZeroVolumeDate, To: fakeeodhd.ZeroVolumeDate})
	if err != nil || len(zero) != 1 || zero[0].Volume == nil || *zero[0].Volume != 0 {
		t.Fatalf("a zero-volume day must keep volume 0 (not nil): %+v %v", zero, err)
	}
}

func TestQuotes(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()

	// AU codes come back as BHP.AU, US codes as plain AAPL; both map back
	// to the requested spelling.
	quotes, err := h.src.Quotes(ctx, noCreds, []string{"BHP.AU", "aapl.us", "MSFT.US", "BHP.AU"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]sdk.Quote{}
	for _, q := range quotes {
		got[q.Ticker] = q
	}
	if len(quotes) != 3 || len(got) != 3 {
		t.Fatalf("got %d quotes %v, want 3 distinct", len(quotes), quotes)
	}
	for _, ticker := range []string{"BHP.AU", "aapl.us", "MSFT.US"} {
		q, ok := got[ticker]
		if !ok {
			t.Fatalf("no quote for %s", ticker)
		}
		sec, _ := h.fake.Security(ticker)
		bars := sec.Bars("2026-11-26", today, today)
		last, prev := bars[len(bars)-1], bars[len(bars)-2]
		if !eqPtr(q.Last, &last.Close) || !eqPtr(q.PreviousClose, &prev.Close) || !eqPtr(q.Volume, &last.Volume) {
			t.Errorf("%s: last %s prev %s volume %s; want %v %v %v", ticker, show(q.Last), show(q.PreviousClose),
				show(q.Volume), last.Close, prev.Close, last.Volume)
		}
		if q.Time.Format(time.DateOnly) != today {
			t.Errorf("%s: time %v", ticker, q.Time)
		}
	}
	if n := h.fake.Calls(fakeeodhd.RealTime); n != 1 {
		t.Errorf("3 tickers took %d calls, want 1", n)
	}

	// One ticker: EODHD answers an object, not an array.
	one, err := h.src.Quotes(ctx, noCreds, []string{"CSL.AU"})
	if err != nil || len(one) != 1 || one[0].Ticker != "CSL.AU" || one[0].Last == nil {
		t.Fatalf("single quote: %+v %v", one, err)
	}

	// Unknown tickers answer "NA" values and are left out.
	mixed, err := h.src.Quotes(ctx, noCreds, []string{"NOPE.AU", "WES.AU"})
	if err != nil || len(mixed) != 1 || mixed[0].Ticker != "WES.AU" {
		t.Fatalf("mixed: %+v %v", mixed, err)
	}
	if _, err := h.src.Quotes(ctx, noCreds, []string{"NOPE.AU"}); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("only unknown tickers: %v, want ErrNotFound", err)
	}
	if q, err := h.src.Quotes(ctx, noCreds, nil); err != nil || len(q) != 0 {
		t.Fatalf("no tickers: %v %v", q, err)
	}
}

func TestQuoteBatching(t *testing.T) {
	var extra []string
	for i := range 45 {
		extra = append(extra, fmt.Sprintf("X%02d.AU", i))
	}
	h := newHarness(t, fakeeodhd.Options{Today: today, ExtraTickers: extra}, nil)
	quotes, err := h.src.Quotes(t.Context(), noCreds, extra)
	if err != nil {
		t.Fatal(err)
	}
	if len(quotes) != 45 {
		t.Fatalf("got %d quotes, want 45", len(quotes))
	}
	if n := h.fake.Calls(fakeeodhd.RealTime); n != 3 {
		t.Fatalf("45 tickers took %d calls, want 3", n)
	}
	var asked []string
	for _, r := range h.fake.Requests() {
		batch := []string{r.Arg}
		if s := r.Query.Get("s"); s != "" {
			batch = append(batch, strings.Split(s, ",")...)
		}
		if len(batch) > quoteBatch {
			t.Errorf("a call carried %d tickers", len(batch))
		}
		asked = append(asked, batch...)
	}
	slices.Sort(asked)
	if !slices.Equal(asked, extra) {
		t.Fatalf("tickers asked for: %v", asked)
	}
}

func TestBulkLastDay(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()
	const date = "2026-11-26"
	bars, err := h.src.BulkLastDay(ctx, noCreds, "au", date, nil)
	if err != nil {
		t.Fatal(err)
	}
	byTicker := map[string]sdk.Bar{}
	for _, b := range bars {
		byTicker[b.Ticker] = b
	}
	if len(bars) != 5 {
		t.Fatalf("got %d AU bars: %v", len(bars), bars)
	}
	// The AU bulk reply sends numbers as strings, and junk for some fields.
	for _, ticker := range []string{"BHP.AU", "CBA.AU", "CSL.AU", "VAS.AU", "WES.AU"} {
		b, ok := byTicker[ticker]
		if !ok {
			t.Fatalf("no bar for %s", ticker)
		}
		sec, _ := h.fake.Security(ticker)
		w := sec.Bars(date, date, today)[0]
		want := map[string][2]*float64{
			"open": {b.Open, &w.Open}, "high": {b.High, &w.High}, "low": {b.Low, &w.Low},
			"close": {b.Close, &w.Close}, "adjusted_close": {b.AdjustedClose, &w.AdjustedClose}, "volume": {b.Volume, &w.Volume},
		}
		missing := map[string][]string{"CBA.AU": {"open", "volume"}, "CSL.AU": {"high"}, "VAS.AU": {"low"}}[ticker]
		for name, pair := range want {
			if slices.Contains(missing, name) {
				if pair[0] != nil {
					t.Errorf("%s %s = %v, want nil (junk upstream)", ticker, name, *pair[0])
				}
				continue
			}
			if !eqPtr(pair[0], pair[1]) {
				t.Errorf("%s %s = %s, want %v", ticker, name, show(pair[0]), *pair[1])
			}
		}
		if b.Date != date {
			t.Errorf("%s date %s", ticker, b.Date)
		}
	}
	q := h.fake.Requests()[0].Query
	if q.Get("date") != date || q.Get("filter") != "extended" {
		t.Errorf("query: %v", q)
	}

	// US rows spell the exchange field exchange_short.
	us, err := h.src.BulkLastDay(ctx, noCreds, "US", "", []string{"AAPL", "MSFT.US"})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 2 || us[0].Ticker != "AAPL.US" || us[1].Ticker != "MSFT.US" || us[0].Close == nil {
		t.Fatalf("US bulk: %+v", us)
	}
	reqs := h.fake.Requests()
	if got := reqs[len(reqs)-1].Query.Get("symbols"); got != "AAPL,MSFT.US" {
		t.Errorf("symbols = %q", got)
	}
}

func TestFundamentals(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()

	aapl, err := h.src.Fundamentals(ctx, noCreds, "AAPL.US")
	if err != nil {
		t.Fatal(err)
	}
	if aapl.Ticker != "AAPL.US" || aapl.Name != "Apple Inc" || aapl.Type != "Common Stock" || aapl.Sector != "Technology" ||
		aapl.Currency != "USD" || aapl.Country != "USA" || aapl.ISIN != "US0378331005" {
		t.Errorf("general: %+v", aapl)
	}
	for name, p := range map[string]*float64{"market cap": aapl.MarketCap, "pe": aapl.PERatio, "yield": aapl.DividendYield,
		"eps": aapl.EPS, "beta": aapl.Beta, "52w high": aapl.High52Week, "52w low": aapl.Low52Week} {
		if p == nil || *p <= 0 {
			t.Errorf("AAPL %s = %s, want a positive number", name, show(p))
		}
	}
	if *aapl.EPS != 6.1 || *aapl.Beta != 1.24 {
		t.Errorf("eps %v beta %v", *aapl.EPS, *aapl.Beta)
	}
	for _, sec := range []string{"General", "Highlights", "Valuation", "SharesStats", "Technicals", "SplitsDividends", "AnalystRatings", "Financials"} {
		if _, ok := aapl.Sections[sec]; !ok {
			t.Errorf("section %s missing", sec)
		}
	}
	if aapl.Sections["SharesStats"]["PercentInsiders"] != "N/A" {
		t.Errorf("sections keep upstream values as sent: %v", aapl.Sections["SharesStats"])
	}

	bhp, err := h.src.Fundamentals(ctx, noCreds, "BHP.AU")
	if err != nil {
		t.Fatal(err)
	}
	if bhp.PERatio != nil {
		t.Errorf("BHP PERatio \"N/A\" decoded as %v, want nil", *bhp.PERatio)
	}
	cba, err := h.src.Fundamentals(ctx, noCreds, "CBA.AU")
	if err != nil {
		t.Fatal(err)
	}
	if cba.PERatio == nil || cba.DividendYield == nil || *cba.DividendYield != 0.041 {
		t.Errorf("CBA numbers sent as strings: pe %s yield %s", show(cba.PERatio), show(cba.DividendYield))
	}

	vas, err := h.src.Fundamentals(ctx, noCreds, "VAS.AU")
	if err != nil {
		t.Fatal(err)
	}
	if vas.Type != "ETF" || vas.Beta != nil || vas.PERatio != nil || vas.EPS != nil || vas.MarketCap != nil {
		t.Errorf("ETF: %+v", vas)
	}
	if _, ok := vas.Sections["ETF_Data"]; !ok {
		t.Errorf("ETF_Data section missing")
	}
	if n := h.fake.Used(); n != 40 {
		t.Errorf("four fundamentals calls cost %d, want 40", n)
	}
}

func TestDividendsAndSplits(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()
	divs, err := h.src.Dividends(ctx, noCreds, "AAPL.US", "", "")
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := h.fake.Security("AAPL.US")
	want := sec.Dividends(today)
	if len(divs) != len(want) || len(divs) < 40 {
		t.Fatalf("got %d dividends, want %d", len(divs), len(want))
	}
	if divs[0].DeclarationDate != "" || divs[1].DeclarationDate != want[1].Declaration {
		t.Errorf("declaration dates: %q %q", divs[0].DeclarationDate, divs[1].DeclarationDate)
	}
	for i, d := range divs {
		w := want[i]
		if d.Date != w.Date || !eqPtr(d.Value, &w.Value) || !eqPtr(d.UnadjustedValue, &w.Unadjusted) ||
			d.Currency != "USD" || d.PaymentDate != w.Payment || d.RecordDate != w.Record {
			t.Fatalf("dividend %d = %+v, want %+v", i, d, w)
		}
		// Before the 4-for-1 split the as-paid amount is four times the
		// split-adjusted one.
		if d.Date < "2020-08-31" && *d.UnadjustedValue < 3.9**d.Value {
			t.Errorf("dividend %s: unadjusted %v, adjusted %v", d.Date, *d.UnadjustedValue, *d.Value)
		}
	}
	ranged, err := h.src.Dividends(ctx, noCreds, "BHP.AU", "2020-01-01", "2020-12-31")
	if err != nil || len(ranged) != 2 {
		t.Fatalf("BHP 2020 dividends: %+v %v", ranged, err)
	}

	splits, err := h.src.Splits(ctx, noCreds, "AAPL.US", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 1 || splits[0] != (sdk.Split{Date: "2020-08-31", New: 4, Old: 1}) {
		t.Fatalf("splits: %+v", splits)
	}
	none, err := h.src.Splits(ctx, noCreds, "BHP.AU", "", "")
	if err != nil || len(none) != 0 {
		t.Fatalf("BHP splits: %+v %v", none, err)
	}
}

func TestSearchSymbolsUsage(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today, DailyLimit: 20000}, nil)
	ctx := t.Context()

	res, err := h.src.Search(ctx, noCreds, "vanguard", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Ticker != "VAS.AU" || res[0].Type != "ETF" || res[0].PreviousClose == nil {
		t.Fatalf("search: %+v", res)
	}
	if got := h.fake.Requests()[0].Query.Get("limit"); got != "1" {
		t.Errorf("limit = %q", got)
	}
	res, err = h.src.Search(ctx, noCreds, "BH", 0)
	if err != nil || len(res) != 1 || res[0].Code != "BHP" || res[0].Exchange != "AU" || res[0].ISIN != "AU000000BHP4" {
		t.Fatalf("search BH: %+v %v", res, err)
	}
	res, err = h.src.Search(ctx, noCreds, "no such company", 10)
	if err != nil || len(res) != 0 {
		t.Fatalf("empty search: %+v %v", res, err)
	}

	syms, err := h.src.ExchangeSymbols(ctx, noCreds, "US")
	if err != nil {
		t.Fatal(err)
	}
	if len(syms) != 3 || syms[0].Code != "AAPL" || syms[0].Exchange != "US" || syms[0].ISIN != "US0378331005" || syms[2].Type != "ETF" {
		t.Fatalf("symbols: %+v", syms)
	}
	if _, err := h.src.ExchangeSymbols(ctx, noCreds, "ZZ"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("unknown exchange: %v", err)
	}

	u, err := h.src.Usage(ctx, noCreds)
	if err != nil {
		t.Fatal(err)
	}
	if u.Requests != int64(h.fake.Used()) || u.DailyLimit != 20000 || u.Plan != "paid" {
		t.Fatalf("usage %+v, server counted %d", u, h.fake.Used())
	}
}

func TestEveryRequestAsksForJSON(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()
	h.src.History(ctx, noCreds, "BHP.AU", sdk.HistoryQuery{From: "2026-11-01"})
	h.src.Quotes(ctx, noCreds, []string{"BHP.AU", "CBA.AU"})
	h.src.BulkLastDay(ctx, noCreds, "AU", "", nil)
	h.src.Fundamentals(ctx, noCreds, "BHP.AU")
	h.src.Dividends(ctx, noCreds, "BHP.AU", "", "")
	h.src.Splits(ctx, noCreds, "BHP.AU", "", "")
	h.src.Search(ctx, noCreds, "bhp", 5)
	h.src.ExchangeSymbols(ctx, noCreds, "AU")
	h.src.Usage(ctx, noCreds)
	seen := map[string]bool{}
	for _, r := range h.fake.Requests() {
		seen[r.Endpoint] = true
		if r.Query.Get("fmt") != "json" || r.Query.Get("api_token") != operatorKey {
			t.Errorf("%s/%s: fmt=%q, api_token set %v", r.Endpoint, r.Arg, r.Query.Get("fmt"), r.Query.Has("api_token"))
		}
	}
	if len(seen) != 9 {
		t.Fatalf("endpoints reached: %v", seen)
	}
}
