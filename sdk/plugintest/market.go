package plugintest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// MarketHarness tells RunMarketData how to get a market-data source and
// what the source is known to hold.
type MarketHarness struct {
	// Open returns a configured source. The suite calls it once per
	// subtest; Open registers whatever cleanup it needs with t.Cleanup.
	Open func(t *testing.T) sdk.MarketData
	// Known are tickers the source serves, at least one, each with daily
	// bars throughout From..To. The first one is also looked up in
	// fundamentals, search, bulk and exchange symbol lists.
	Known []string
	// Unknown is a well-formed ticker the source does not know.
	Unknown string
	// From and To (YYYY-MM-DD) bound a range of at least two months in
	// which every Known ticker traded on every weekday but holidays.
	From, To string
	// Dividends is a ticker with at least one dividend; empty means
	// Known[0], which may then have none.
	Dividends string
	// Splits is a ticker with at least one split; empty means Known[0],
	// which may then have none.
	Splits string
	// Search is a query whose results include Known[0]; empty means
	// Known[0]'s code.
	Search string
}

// malformedTickers are not CODE.EXCHANGE in any source's eyes: every call
// taking one must fail with ErrInvalidArgument, before asking upstream.
var malformedTickers = []string{
	"", "BHP", "BHP.", ".AU", "BHP.AU.X", "BHP AU", "BHP .AU", "BH/P.AU", "BHP.A/U",
	"BHP.AU?x=1", "BHP#.AU", "../../etc.AU", strings.Repeat("A", 100) + ".AU",
}

// RunMarketData runs the MarketData conformance suite against the sources
// that h.Open returns. Besides what the sdk documents, it pins down:
//
//   - Quotes leaves out tickers the source does not know and fails with
//     ErrNotFound only when it knows none; it answers once per ticker
//     however often the ticker is asked for.
//   - History, Dividends, Splits and Fundamentals of an unknown ticker
//     fail with ErrNotFound; any malformed ticker, date, range or period
//     fails with ErrInvalidArgument. Errors carry exactly one kind.
//   - Bars come in ascending date order without duplicate dates, within
//     the requested range; a missing price is nil, never zero. Weekly and
//     monthly bars are coarser than daily ones: one per ISO week or month.
//   - A range without trading (a weekend) gives no bars and no error.
//   - Dividends and splits come in ascending date order and honour
//     from/to exactly as a filter of the full list.
//   - The source is safe for concurrent use.
func RunMarketData(t *testing.T, h MarketHarness) {
	t.Helper()
	switch {
	case h.Open == nil:
		t.Fatal("plugintest: MarketHarness.Open is nil")
	case len(h.Known) == 0:
		t.Fatal("plugintest: MarketHarness.Known is empty")
	case h.Unknown == "":
		t.Fatal("plugintest: MarketHarness.Unknown is empty")
	case !isDate(h.From) || !isDate(h.To) || h.From >= h.To:
		t.Fatalf("plugintest: MarketHarness.From %q and To %q must be dates, From first", h.From, h.To)
	}
	if h.Dividends == "" {
		h.Dividends = h.Known[0]
	}
	if h.Splits == "" {
		h.Splits = h.Known[0]
	}
	if h.Search == "" {
		h.Search, _, _ = strings.Cut(h.Known[0], ".")
	}
	m := &marketSuite{h: h}
	t.Run("Describe", m.describe)
	t.Run("Quotes", m.quotes)
	t.Run("History", m.history)
	t.Run("Periods", m.periods)
	t.Run("Dividends", m.dividends)
	t.Run("Splits", m.splits)
	t.Run("Fundamentals", m.fundamentals)
	t.Run("Search", m.search)
	t.Run("Exchange", m.exchange)
	t.Run("UnknownTicker", m.unknown)
	t.Run("MalformedArguments", m.malformed)
	t.Run("Concurrent", m.concurrent)
}

type marketSuite struct {
	h MarketHarness
}

var noCreds = sdk.Credentials{}

func (m *marketSuite) open(t *testing.T) sdk.MarketData {
	t.Helper()
	s := m.h.Open(t)
	if s == nil {
		t.Fatal("MarketHarness.Open returned nil")
	}
	return s
}

func (m *marketSuite) describe(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	if err := s.Schema().Validate(); err != nil {
		t.Errorf("Schema: %v", err)
	}
	noErr(t, s.Health(ctx), "Health of a configured source")
	u, err := s.Usage(ctx, noCreds)
	switch {
	case errors.Is(err, sdk.ErrUnsupported):
	case err != nil:
		t.Errorf("Usage: %v (want a usage report or ErrUnsupported)", err)
	case u.Requests < 0 || u.DailyLimit < 0 || u.ExtraLimit < 0:
		t.Errorf("Usage: negative figures %+v", u)
	}
}

func (m *marketSuite) quotes(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	known := m.h.Known

	qs, err := s.Quotes(ctx, noCreds, known)
	noErr(t, err, fmt.Sprintf("Quotes(%v)", known))
	got := map[string]int{}
	for _, q := range qs {
		got[strings.ToUpper(q.Ticker)]++
		checkQuote(t, q)
	}
	for _, k := range known {
		if got[strings.ToUpper(k)] != 1 {
			t.Errorf("Quotes(%v): %d quotes for %s, want 1", known, got[strings.ToUpper(k)], k)
		}
	}
	if len(qs) != len(known) {
		t.Errorf("Quotes(%v): %d quotes for %d tickers", known, len(qs), len(known))
	}

	k0 := known[0]
	qs, err = s.Quotes(ctx, noCreds, []string{k0, k0})
	noErr(t, err, "Quotes of one ticker asked twice")
	if len(qs) != 1 {
		t.Errorf("Quotes of %s asked twice: %d quotes, want 1", k0, len(qs))
	}

	qs, err = s.Quotes(ctx, noCreds, []string{k0, m.h.Unknown})
	noErr(t, err, "Quotes of a known and an unknown ticker")
	if len(qs) != 1 || !strings.EqualFold(qs[0].Ticker, k0) {
		t.Errorf("Quotes(%s, %s): got %d quotes %v, want only %s", k0, m.h.Unknown, len(qs), quoteTickers(qs), k0)
	}

	_, err = s.Quotes(ctx, noCreds, []string{m.h.Unknown})
	wantExactKind(t, err, sdk.ErrNotFound, "Quotes of only an unknown ticker")

	qs, err = s.Quotes(ctx, noCreds, nil)
	if err != nil || len(qs) != 0 {
		t.Errorf("Quotes of no tickers: %d quotes, error %v; want none and no error", len(qs), err)
	}
}

func quoteTickers(qs []sdk.Quote) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.Ticker
	}
	return out
}

func checkQuote(t *testing.T, q sdk.Quote) {
	t.Helper()
	if q.Last == nil {
		t.Errorf("quote %s: Last is missing", q.Ticker)
	}
	if q.Time.IsZero() || q.Time.After(time.Now().Add(24*time.Hour)) {
		t.Errorf("quote %s: Time %v is zero or in the future", q.Ticker, q.Time)
	}
	for name, v := range map[string]*float64{"Open": q.Open, "High": q.High, "Low": q.Low, "Last": q.Last, "PreviousClose": q.PreviousClose} {
		if v != nil && !(*v > 0 && !math.IsInf(*v, 0)) {
			t.Errorf("quote %s: %s = %v; a price is positive, and a missing one is nil, not zero", q.Ticker, name, *v)
		}
	}
	for name, v := range map[string]*float64{"Change": q.Change, "ChangePercent": q.ChangePercent, "Volume": q.Volume} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			t.Errorf("quote %s: %s = %v", q.Ticker, name, *v)
		}
	}
	if q.Volume != nil && *q.Volume < 0 {
		t.Errorf("quote %s: negative volume %v", q.Ticker, *q.Volume)
	}
	if q.High != nil && q.Low != nil && *q.High < *q.Low {
		t.Errorf("quote %s: High %v below Low %v", q.Ticker, *q.High, *q.Low)
	}
}

func (m *marketSuite) fundamentals(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	k0 := m.h.Known[0]
	f, err := s.Fundamentals(ctx, noCreds, k0)
	noErr(t, err, "Fundamentals of "+k0)
	if strings.TrimSpace(f.Name) == "" {
		t.Errorf("Fundamentals(%s): Name is empty", k0)
	}
	if !strings.EqualFold(f.Ticker, k0) {
		t.Errorf("Fundamentals(%s): Ticker %q", k0, f.Ticker)
	}
	nums := map[string]*float64{"MarketCap": f.MarketCap, "PERatio": f.PERatio, "DividendYield": f.DividendYield,
		"EPS": f.EPS, "Beta": f.Beta, "High52Week": f.High52Week, "Low52Week": f.Low52Week}
	for name, v := range nums {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			t.Errorf("Fundamentals(%s): %s = %v; junk values must be nil", k0, name, *v)
		}
	}
	for name, v := range map[string]*float64{"MarketCap": f.MarketCap, "High52Week": f.High52Week, "Low52Week": f.Low52Week} {
		if v != nil && *v <= 0 {
			t.Errorf("Fundamentals(%s): %s = %v; a missing figure is nil, not zero", k0, name, *v)
		}
	}
	if f.High52Week != nil && f.Low52Week != nil && *f.High52Week < *f.Low52Week {
		t.Errorf("Fundamentals(%s): 52-week high %v below the low %v", k0, *f.High52Week, *f.Low52Week)
	}
	if _, err := json.Marshal(f); err != nil {
		t.Errorf("Fundamentals(%s) cannot be encoded as JSON: %v", k0, err)
	}
}

func (m *marketSuite) search(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	k0, q := m.h.Known[0], m.h.Search
	rs, err := s.Search(ctx, noCreds, q, 10)
	noErr(t, err, fmt.Sprintf("Search(%q)", q))
	if len(rs) > 10 {
		t.Errorf("Search(%q, 10): %d results", q, len(rs))
	}
	found := false
	for _, r := range rs {
		if r.Code == "" || r.Exchange == "" || strings.TrimSpace(r.Name) == "" {
			t.Errorf("Search(%q): result %+v lacks a code, exchange or name", q, r)
		}
		if !strings.EqualFold(r.Ticker, r.Code+"."+r.Exchange) {
			t.Errorf("Search(%q): result ticker %q is not code.exchange (%s.%s)", q, r.Ticker, r.Code, r.Exchange)
		}
		if r.PreviousClose != nil && !(*r.PreviousClose > 0) {
			t.Errorf("Search(%q): %s previous close %v", q, r.Ticker, *r.PreviousClose)
		}
		found = found || strings.EqualFold(r.Ticker, k0)
	}
	if !found {
		t.Errorf("Search(%q) did not find %s", q, k0)
	}
	rs, err = s.Search(ctx, noCreds, q, 1)
	noErr(t, err, fmt.Sprintf("Search(%q, 1)", q))
	if len(rs) > 1 {
		t.Errorf("Search(%q, 1): %d results", q, len(rs))
	}
	for _, bad := range []string{"", "   "} {
		_, err := s.Search(ctx, noCreds, bad, 5)
		wantExactKind(t, err, sdk.ErrInvalidArgument, fmt.Sprintf("Search(%q)", bad))
	}
}

func (m *marketSuite) exchange(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	k0 := m.h.Known[0]
	code, ex, _ := strings.Cut(k0, ".")

	syms, err := s.ExchangeSymbols(ctx, noCreds, ex)
	noErr(t, err, "ExchangeSymbols("+ex+")")
	if !slices.ContainsFunc(syms, func(s sdk.Symbol) bool { return strings.EqualFold(s.Code, code) }) {
		t.Errorf("ExchangeSymbols(%s) lacks %s among %d symbols", ex, code, len(syms))
	}
	for _, sym := range syms {
		if sym.Code == "" || sym.Exchange == "" {
			t.Errorf("ExchangeSymbols(%s): symbol %+v lacks a code or exchange", ex, sym)
			break
		}
	}

	// The bulk bar of a trading day is that day's bar in the history.
	daily, err := s.History(ctx, noCreds, k0, sdk.HistoryQuery{From: m.h.From, To: m.h.To})
	noErr(t, err, "History of "+k0)
	if len(daily) == 0 {
		t.Fatalf("History(%s, %s..%s) is empty", k0, m.h.From, m.h.To)
	}
	last := daily[len(daily)-1]
	bulk, err := s.BulkLastDay(ctx, noCreds, ex, last.Date, []string{code})
	noErr(t, err, fmt.Sprintf("BulkLastDay(%s, %s, [%s])", ex, last.Date, code))
	if len(bulk) != 1 {
		t.Fatalf("BulkLastDay(%s, %s, [%s]): %d bars, want 1", ex, last.Date, code, len(bulk))
	}
	b := bulk[0]
	if !strings.EqualFold(b.Ticker, k0) || b.Date != last.Date {
		t.Errorf("BulkLastDay: bar of %s on %s, want %s on %s", b.Ticker, b.Date, k0, last.Date)
	}
	if !samePrice(b.Close, last.Close) {
		t.Errorf("BulkLastDay: close %s on %s, the history says %s", showPrice(b.Close), b.Date, showPrice(last.Close))
	}
	latest, err := s.BulkLastDay(ctx, noCreds, ex, "", []string{code})
	noErr(t, err, "BulkLastDay of the latest day")
	for _, b := range latest {
		if !isDate(b.Date) || !strings.EqualFold(b.Ticker, k0) {
			t.Errorf("BulkLastDay(%s, latest, [%s]): bar %s on %q", ex, code, b.Ticker, b.Date)
		}
	}
	for _, bad := range []string{"", "A/B", "A B", strings.Repeat("X", 40)} {
		_, err := s.BulkLastDay(ctx, noCreds, bad, "", nil)
		wantExactKind(t, err, sdk.ErrInvalidArgument, fmt.Sprintf("BulkLastDay(%q)", bad))
		_, err = s.ExchangeSymbols(ctx, noCreds, bad)
		wantExactKind(t, err, sdk.ErrInvalidArgument, fmt.Sprintf("ExchangeSymbols(%q)", bad))
	}
	_, err = s.BulkLastDay(ctx, noCreds, ex, "2021-02-30", nil)
	wantExactKind(t, err, sdk.ErrInvalidArgument, "BulkLastDay on 2021-02-30")
}

func (m *marketSuite) unknown(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	u := m.h.Unknown
	_, err := s.History(ctx, noCreds, u, sdk.HistoryQuery{})
	wantExactKind(t, err, sdk.ErrNotFound, "History of "+u)
	_, err = s.Dividends(ctx, noCreds, u, "", "")
	wantExactKind(t, err, sdk.ErrNotFound, "Dividends of "+u)
	_, err = s.Splits(ctx, noCreds, u, "", "")
	wantExactKind(t, err, sdk.ErrNotFound, "Splits of "+u)
	_, err = s.Fundamentals(ctx, noCreds, u)
	wantExactKind(t, err, sdk.ErrNotFound, "Fundamentals of "+u)
}

func (m *marketSuite) malformed(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	k0 := m.h.Known[0]
	for _, bad := range malformedTickers {
		what := func(call string) string { return fmt.Sprintf("%s(%q)", call, bad) }
		_, err := s.Quotes(ctx, noCreds, []string{k0, bad})
		wantExactKind(t, err, sdk.ErrInvalidArgument, what("Quotes"))
		_, err = s.History(ctx, noCreds, bad, sdk.HistoryQuery{})
		wantExactKind(t, err, sdk.ErrInvalidArgument, what("History"))
		_, err = s.Dividends(ctx, noCreds, bad, "", "")
		wantExactKind(t, err, sdk.ErrInvalidArgument, what("Dividends"))
		_, err = s.Splits(ctx, noCreds, bad, "", "")
		wantExactKind(t, err, sdk.ErrInvalidArgument, what("Splits"))
		_, err = s.Fundamentals(ctx, noCreds, bad)
		wantExactKind(t, err, sdk.ErrInvalidArgument, what("Fundamentals"))
		if t.Failed() {
			return // one bad ticker shows the problem; the rest would repeat it
		}
	}
	badQueries := []sdk.HistoryQuery{
		{From: m.h.To, To: m.h.From},
		{From: "2021-02-30"},
		{To: "20210101"},
		{From: "yesterday"},
		{Period: "x"},
		{Period: "daily"},
	}
	for _, q := range badQueries {
		_, err := s.History(ctx, noCreds, k0, q)
		wantExactKind(t, err, sdk.ErrInvalidArgument, fmt.Sprintf("History(%s, %+v)", k0, q))
	}
	_, err := s.Dividends(ctx, noCreds, k0, m.h.To, m.h.From)
	wantExactKind(t, err, sdk.ErrInvalidArgument, "Dividends with from after to")
	_, err = s.Splits(ctx, noCreds, k0, "2021-13-01", "")
	wantExactKind(t, err, sdk.ErrInvalidArgument, "Splits from 2021-13-01")
}

func (m *marketSuite) concurrent(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	want, err := s.History(ctx, noCreds, m.h.Known[0], sdk.HistoryQuery{From: m.h.From, To: m.h.To})
	noErr(t, err, "History")
	const workers = 12
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			k := m.h.Known[i%len(m.h.Known)]
			if i%2 == 0 {
				qs, err := s.Quotes(ctx, noCreds, []string{k})
				if err == nil && len(qs) != 1 {
					err = fmt.Errorf("%d quotes for %s", len(qs), k)
				}
				errs[i] = err
				return
			}
			bars, err := s.History(ctx, noCreds, m.h.Known[0], sdk.HistoryQuery{From: m.h.From, To: m.h.To})
			if err == nil && !sameDates(bars, want) {
				err = fmt.Errorf("History gave %d bars, a lone call gave %d", len(bars), len(want))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent call %d: %v", i, err)
		}
	}
}

// wantExactKind fails the test unless err's one kind is kind: wrapping
// ErrNotFound and ErrInvalidArgument at once would make callers guess.
func wantExactKind(t testing.TB, err, kind error, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want one wrapping %q", what, kind)
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %q (kind %v), want one wrapping %q", what, err, sdk.Kind(err), kind)
		return
	}
	for _, other := range []error{sdk.ErrNotFound, sdk.ErrInvalidArgument, sdk.ErrUnavailable, sdk.ErrUnauthorized, sdk.ErrUnsupported} {
		if other != kind && errors.Is(err, other) {
			t.Errorf("%s: error %q wraps both %q and %q", what, err, kind, other)
		}
	}
}

func isDate(s string) bool {
	d, err := time.Parse(time.DateOnly, s)
	return err == nil && d.Format(time.DateOnly) == s
}

func samePrice(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= 1e-9*math.Max(math.Abs(*a), 1)
}

func showPrice(p *float64) string {
	if p == nil {
		return "missing"
	}
	return fmt.Sprint(*p)
}
