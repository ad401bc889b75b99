package market

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/sdk"
)

// A Saturday: every exchange's Friday session (the fakes' last day) is due.
const (
	today    = "2026-11-27"
	saturday = "2026-11-28T12:00:00Z"
)

// TestColdTickerOneUpstreamCall: a hundred concurrent reads of a ticker
// nothing holds yet reach EODHD once.
func TestColdTickerOneUpstreamCall(t *testing.T) {
	fake := newFake(t, today)
	c := newClock(saturday)
	s := newService(t, newSource(t, fake.URL), newStore(t, t.TempDir()), c)

	const readers = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, readers)
	counts := make([]int, readers)
	for i := range readers {
		wg.Go(func() {
			<-start
			var err error
			switch i % 2 {
			case 0:
				var h HistoryResult
				h, err = s.History(t.Context(), "bhp.au", sdk.HistoryQuery{From: "2021-01-01"})
				counts[i] = len(h.Bars)
			default:
				var q QuoteResult
				q, err = s.Quote(t.Context(), "CBA.AU")
				if q.Quote.Last != nil {
					counts[i] = 1
				}
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil || counts[i] == 0 {
			t.Fatalf("reader %d: %d items, %v", i, counts[i], err)
		}
	}
	if got := fake.Calls(fakeeodhd.EOD); got != 1 {
		t.Errorf("%d EOD calls for %d concurrent history reads, want 1", got, readers/2)
	}
	if got := fake.Calls(fakeeodhd.RealTime); got != 1 {
		t.Errorf("%d real-time calls for %d concurrent quote reads, want 1", got, readers/2)
	}
	if got := fake.Calls(""); got != 2 {
		t.Errorf("%d upstream calls in all, want 2", got)
	}
}

// TestShortReplyKeepsHistory: a refresh that answers fewer bars than are
// stored adds its new bars and loses none of the old.
func TestShortReplyKeepsHistory(t *testing.T) {
	before, after := newFake(t, today), newFake(t, "2026-12-04")
	up := newUpstream(t, before)
	st := newStore(t, t.TempDir())
	c := newClock(saturday)
	s := newService(t, newSource(t, up.URL()), st, c)
	ctx := t.Context()

	h, err := s.History(ctx, "BHP.AU", sdk.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := before.Security("BHP.AU")
	if want := len(sec.Bars("", "", today)); len(h.Bars) != want || want < 2000 {
		t.Fatalf("first read: %d bars, want the fake's %d", len(h.Bars), want)
	}
	stored := len(h.Bars)

	// A week on, upstream has five new days but answers only three bars,
	// and the weekly full refresh is due: the reply is far shorter than
	// the stored history.
	up.use(after)
	up.truncate(3)
	c.set("2026-12-05T12:00:00Z")
	h, err = s.History(ctx, "BHP.AU", sdk.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Calls(fakeeodhd.EOD) != 1 {
		t.Fatalf("the stale history was not refreshed: %d EOD calls", after.Calls(fakeeodhd.EOD))
	}
	if q := after.Requests()[0].Query; q.Get("from") != "" {
		t.Errorf("a week on, the refresh should fetch the whole history; it asked from %s", q.Get("from"))
	}
	if len(h.Bars) != stored+3 {
		t.Fatalf("after a three-bar reply: %d bars, want the %d stored plus 3", len(h.Bars), stored)
	}
	if first, last := h.Bars[0].Date, h.Bars[len(h.Bars)-1].Date; first != fakeeodhd.FirstDate || last != "2026-12-04" {
		t.Errorf("history runs %s..%s", first, last)
	}
	d, ok := storedHistory(t, st, "BHP.AU")
	if !ok || len(d.Value.Bars) != stored+3 || d.Value.Newest != "2026-12-04" {
		t.Errorf("stored: %d bars up to %s (found %v)", len(d.Value.Bars), d.Value.Newest, ok)
	}
}

// TestEmptyReplyNotFresh: an empty history reply stores nothing and marks
// nothing fresh, for a cold ticker and for a stored one.
func TestEmptyReplyNotFresh(t *testing.T) {
	fake := newFake(t, today)
	up := newUpstream(t, fake)
	st := newStore(t, t.TempDir())
	c := newClock(saturday)
	s := newService(t, newSource(t, up.URL()), st, c)
	ctx := t.Context()

	up.truncate(0)
	for i := 1; i <= 2; i++ {
		h, err := s.History(ctx, "CSL.AU", sdk.HistoryQuery{})
		if err != nil || len(h.Bars) != 0 || !h.Stale || !h.Fetched.IsZero() {
			t.Fatalf("cold ticker, empty reply: %d bars, stale %v, fetched %v, %v", len(h.Bars), h.Stale, h.Fetched, err)
		}
		if got := fake.Calls(fakeeodhd.EOD); got != i {
			t.Fatalf("read %d of a ticker with only empty replies: %d EOD calls, want %d (never fresh)", i, got, i)
		}
	}
	if _, ok := storedHistory(t, st, "CSL.AU"); ok {
		t.Error("an empty reply was stored")
	}

	up.truncate(-1)
	h, err := s.History(ctx, "CSL.AU", sdk.HistoryQuery{})
	if err != nil || len(h.Bars) == 0 || h.Stale {
		t.Fatalf("real reply: %d bars, stale %v, %v", len(h.Bars), h.Stale, err)
	}
	fetched, stored := h.Fetched, len(h.Bars)

	// Next session: the history is due, and upstream answers nothing.
	up.truncate(0)
	c.set("2026-12-01T12:00:00Z")
	calls := fake.Calls(fakeeodhd.EOD)
	for i := 1; i <= 2; i++ {
		h, err = s.History(ctx, "CSL.AU", sdk.HistoryQuery{})
		if err != nil || len(h.Bars) != stored || !h.Stale || !h.Fetched.Equal(fetched) {
			t.Fatalf("stored ticker, empty reply: %d bars (want %d), stale %v, fetched %v (want %v), %v",
				len(h.Bars), stored, h.Stale, h.Fetched, fetched, err)
		}
		if got := fake.Calls(fakeeodhd.EOD) - calls; got != i {
			t.Fatalf("read %d after empty replies: %d EOD calls, want %d", i, got, i)
		}
	}
	d, _ := storedHistory(t, st, "CSL.AU")
	if !d.Fetched.Equal(fetched) || len(d.Value.Bars) != stored {
		t.Errorf("an empty reply changed the stored history: fetched %v, %d bars", d.Fetched, len(d.Value.Bars))
	}
}

// TestSuspectBar: the fake's bad bar is flagged, alone; a zero-volume day
// is not suspect and keeps its zero.
func TestSuspectBar(t *testing.T) {
	fake := newFake(t, today)
	s := newService(t, newSource(t, fake.URL), newStore(t, t.TempDir()), newClock(saturday))
	for _, ticker := range fake.Tickers() {
		h, err := s.History(t.Context(), ticker, sdk.HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var flagged []string
		for _, b := range h.Bars {
			if b.Suspect {
				flagged = append(flagged, b.Date)
			}
			if b.Date == fakeeodhd.ZeroVolumeDate && (b.Volume == nil || *b.Volume != 0) {
				t.Errorf("%s on %s: volume %v, want a real zero", ticker, b.Date, b.Volume)
			}
		}
		want := 0
		if ticker == fakeeodhd.BadBarTicker {
			want = 1
			if len(flagged) == 1 && flagged[0] != fakeeodhd.BadBarDate {
				t.Errorf("%s: flagged %v, want %s", ticker, flagged, fakeeodhd.BadBarDate)
			}
		}
		if len(flagged) != want {
			t.Errorf("%s: suspect bars %v, want %d", ticker, flagged, want)
		}
	}
	// The week holding the bad day is suspect too.
	w, err := s.History(t.Context(), fakeeodhd.BadBarTicker, sdk.HistoryQuery{From: "2021-03-01", To: "2021-03-31", Period: sdk.Weekly})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range w.Bars {
		if b.Suspect != (b.Date == "2021-03-15") {
			t.Errorf("weekly bar %s: suspect %v", b.Date, b.Suspect)
		}
	}
}

// TestFreshness follows one ticker through sessions: reads within a
// session are served from the cache; the next session's data falls due
// after the close, and the refresh then asks only for recent bars.
func TestFreshness(t *testing.T) {
	fake := newFake(t, "2026-11-26")
	up := newUpstream(t, fake)
	c := newClock("2026-11-26T10:00:00Z") // Thursday, after Sydney's close plus 3h (08:00 UTC)
	st := newStore(t, t.TempDir())
	s := newService(t, newSource(t, up.URL()), st, c)
	ctx := t.Context()
	read := func() HistoryResult {
		t.Helper()
		h, err := s.History(ctx, "WES.AU", sdk.HistoryQuery{From: "2026-11-01"})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	read()
	c.set("2026-11-26T23:00:00Z") // Friday 10:00 in Sydney: the session opens
	read()
	if got := fake.Calls(fakeeodhd.EOD); got != 1 {
		t.Fatalf("%d EOD calls within one session, want 1", got)
	}
	// A second instance on the same store finds it fresh too.
	other := newService(t, newSource(t, up.URL()), st, c)
	if _, err := other.History(ctx, "WES.AU", sdk.HistoryQuery{}); err != nil || fake.Calls(fakeeodhd.EOD) != 1 {
		t.Fatalf("second instance: %v, %d EOD calls", err, fake.Calls(fakeeodhd.EOD))
	}

	next := newFake(t, "2026-11-27")
	up.use(next)
	c.set("2026-11-27T07:59:00Z") // Friday's EOD is due at 08:00 UTC
	read()
	if next.Calls("") != 0 {
		t.Fatal("refreshed before the session's EOD data was due")
	}
	c.set("2026-11-27T08:01:00Z")
	h := read()
	if next.Calls(fakeeodhd.EOD) != 1 || h.Bars[len(h.Bars)-1].Date != "2026-11-27" {
		t.Fatalf("after the cutoff: %d EOD calls, newest %s", next.Calls(fakeeodhd.EOD), h.Bars[len(h.Bars)-1].Date)
	}
	if from := next.Requests()[0].Query.Get("from"); from != "2026-11-16" {
		t.Errorf("the daily refresh asked from %q, want ten days before the newest stored bar", from)
	}
}

// TestMissingSessionBar: a refresh after the cutoff that lacks the
// session's bar (a holiday, or upstream running late) is retried hourly
// for a while, then accepted.
func TestMissingSessionBar(t *testing.T) {
	fake := newFake(t, "2026-11-26") // Friday's bar never comes
	c := newClock("2026-11-27T08:30:00Z")
	s := newService(t, newSource(t, fake.URL), newStore(t, t.TempDir()), c)
	steps := []struct {
		advance time.Duration
		calls   int
	}{{0, 1}, {30 * time.Minute, 1}, {31 * time.Minute, 2}, {2 * time.Hour, 3}, {2 * time.Hour, 4}, {2 * time.Hour, 5}, {5 * time.Hour, 5}}
	for i, st := range steps {
		c.advance(st.advance)
		if _, err := s.History(t.Context(), "VAS.AU", sdk.HistoryQuery{}); err != nil {
			t.Fatal(err)
		}
		if got := fake.Calls(fakeeodhd.EOD); got != st.calls {
			t.Fatalf("step %d (%v): %d EOD calls, want %d", i, c.now().Format(time.RFC3339), got, st.calls)
		}
	}
}

// TestQuoteFreshness: a minute while the exchange trades; after the final
// delayed quote, until the next session.
func TestQuoteFreshness(t *testing.T) {
	fake := newFake(t, today)
	c := newClock("2026-11-27T15:00:00Z") // Friday 10:00 in New York
	s := newService(t, newSource(t, fake.URL), newStore(t, t.TempDir()), c)
	steps := []struct {
		at    string
		calls int
	}{
		{"2026-11-27T15:00:00Z", 1},
		{"2026-11-27T15:00:50Z", 1}, // within the minute
		{"2026-11-27T15:01:10Z", 2},
		{"2026-11-27T21:10:00Z", 3}, // closed at 21:00 UTC, the final quote is due at 21:20
		{"2026-11-27T21:10:30Z", 3},
		{"2026-11-27T21:25:00Z", 4}, // the final quote
		{"2026-11-28T12:00:00Z", 4}, // the weekend
		{"2026-11-30T14:29:00Z", 4}, // Monday, a minute before the open
		{"2026-11-30T14:31:00Z", 5},
	}
	for _, st := range steps {
		c.set(st.at)
		q, err := s.Quote(t.Context(), "MSFT.US")
		if err != nil || q.Quote.Last == nil || q.Quote.Ticker != "MSFT.US" {
			t.Fatalf("%s: %+v %v", st.at, q, err)
		}
		if got := fake.Calls(fakeeodhd.RealTime); got != st.calls {
			t.Fatalf("%s: %d real-time calls, want %d", st.at, got, st.calls)
		}
	}
}

// TestUpstreamFailures: errors keep their kinds for data nothing holds;
// stored data is served stale when the source fails.
func TestUpstreamFailures(t *testing.T) {
	fake := newFake(t, today)
	c := newClock(saturday)
	s := newService(t, newSource(t, fake.URL), newStore(t, t.TempDir()), c)
	ctx := t.Context()

	cases := []struct {
		status int
		kind   error
	}{{402, sdk.ErrQuotaExhausted}, {429, sdk.ErrRateLimited}, {404, sdk.ErrNotFound}, {503, sdk.ErrUnavailable}}
	for _, tc := range cases {
		fake.Inject(fakeeodhd.Fault{Endpoint: fakeeodhd.Fundamentals, Status: tc.status, RetryAfter: "7"})
		_, err := s.Fundamentals(ctx, "CBA.AU")
		fake.ClearFaults()
		if !errors.Is(err, tc.kind) {
			t.Errorf("HTTP %d: %v, want %v", tc.status, err, tc.kind)
		}
		if tc.status == 404 {
			// Remembered: the unknown ticker costs no second call.
			n := fake.Calls(fakeeodhd.Fundamentals)
			if _, err := s.Fundamentals(ctx, "CBA.AU"); !errors.Is(err, sdk.ErrNotFound) || fake.Calls(fakeeodhd.Fundamentals) != n {
				t.Errorf("second read of a not-found ticker: %v, %d calls", err, fake.Calls(fakeeodhd.Fundamentals)-n)
			}
			c.advance(notFoundTTL + time.Second)
		}
	}
	var rl *sdk.RateLimitError
	fake.Inject(fakeeodhd.Fault{Endpoint: fakeeodhd.RealTime, Status: 429, RetryAfter: "42", Times: 1})
	if _, err := s.Quote(ctx, "AAPL.US"); !errors.As(err, &rl) || rl.RetryAfter != 42*time.Second {
		t.Errorf("rate limit: %#v", err)
	}

	f, err := s.Fundamentals(ctx, "CBA.AU")
	if err != nil || f.Stale || f.Fundamentals.Name == "" {
		t.Fatalf("fundamentals: %+v %v", f, err)
	}
	c.advance(8 * 24 * time.Hour)
	fake.Inject(fakeeodhd.Fault{Status: 503})
	g, err := s.Fundamentals(ctx, "CBA.AU")
	if err != nil || !g.Stale || g.Fundamentals.Name != f.Fundamentals.Name || !g.Fetched.Equal(f.Fetched) {
		t.Errorf("source down: %+v, %v; want the stored fundamentals marked stale", g.Meta, err)
	}
	if _, err := s.History(ctx, "CBA.AU", sdk.HistoryQuery{}); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("source down, nothing stored: %v", err)
	}
}

// TestInvalidArguments: bad tickers, ranges and periods fail before any
// upstream call.
func TestInvalidArguments(t *testing.T) {
	fake := newFake(t, today)
	s := newService(t, newSource(t, fake.URL), newStore(t, t.TempDir()), newClock(saturday))
	ctx := t.Context()
	calls := []func() error{
		func() error { _, err := s.Quote(ctx, "BHP"); return err },
		func() error { _, err := s.Quote(ctx, "../x.AU"); return err },
		func() error { _, err := s.History(ctx, "BHP.AU", sdk.HistoryQuery{From: "2021-02-30"}); return err },
		func() error {
			_, err := s.History(ctx, "BHP.AU", sdk.HistoryQuery{From: "2022-01-01", To: "2021-01-01"})
			return err
		},
		func() error { _, err := s.History(ctx, "BHP.AU", sdk.HistoryQuery{Period: "y"}); return err },
		func() error { _, err := s.Dividends(ctx, "BHP.AU", "x", ""); return err },
		func() error { _, err := s.Fundamentals(ctx, "BHP.A U"); return err },
		func() error { _, err := s.Search(ctx, "  ", 5); return err },
		func() error { _, err := s.Quotes(ctx, []string{"BHP.AU", "nope"}); return err },
	}
	for i, call := range calls {
		if err := call(); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("call %d: %v, want ErrInvalidArgument", i, err)
		}
	}
	if n := fake.Calls(""); n != 0 {
		t.Errorf("invalid arguments cost %d upstream calls", n)
	}
}

// TestOtherKinds covers dividends, search, several quotes and a service
// without a source.
func TestOtherKinds(t *testing.T) {
	fake := newFake(t, today)
	c := newClock(saturday)
	st := newStore(t, t.TempDir())
	s := newService(t, newSource(t, fake.URL), st, c)
	ctx := t.Context()

	d, err := s.Dividends(ctx, "BHP.AU", "2021-01-01", "2021-12-31")
	if err != nil || len(d.Dividends) != 2 || d.Dividends[0].Date != "2021-03-10" {
		t.Fatalf("dividends: %+v %v", d, err)
	}
	if _, err := s.Dividends(ctx, "BHP.AU", "", ""); err != nil || fake.Calls(fakeeodhd.Dividends) != 1 {
		t.Errorf("a second range of the same ticker: %v, %d calls", err, fake.Calls(fakeeodhd.Dividends))
	}

	r, err := s.Search(ctx, "  Vanguard ", 0)
	if err != nil || len(r.Results) != 2 || r.Query != "vanguard" {
		t.Fatalf("search: %+v %v", r, err)
	}
	if _, err := s.Search(ctx, "VANGUARD", 0); err != nil || fake.Calls(fakeeodhd.Search) != 1 {
		t.Errorf("the same search again: %v, %d calls", err, fake.Calls(fakeeodhd.Search))
	}

	qs, err := s.Quotes(ctx, []string{"BHP.AU", "AAPL.US", "NOPE.AU", "bhp.au"})
	if err != nil || len(qs) != 2 || qs["AAPL.US"].Quote.Last == nil {
		t.Fatalf("quotes: %+v %v", qs, err)
	}

	none, err := New(Options{Store: st, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Quote(ctx, "BHP.AU"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("no source: %v", err)
	}
	// Another source's documents are ignored: no mixing of data sets.
	sample, err := New(Options{Source: newSource(t, fake.URL), SourceName: "sample", Store: st, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	before := fake.Calls(fakeeodhd.Dividends)
	if _, err := sample.Dividends(ctx, "BHP.AU", "", ""); err != nil || fake.Calls(fakeeodhd.Dividends) != before+1 {
		t.Errorf("a new source reused another source's dividends: %v", err)
	}
}
