package market

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/sdk"
)

// track stores the history of every ticker through s (one read each).
func track(t *testing.T, s *Service, tickers []string) {
	t.Helper()
	for _, tk := range tickers {
		if _, err := s.History(t.Context(), tk, sdk.HistoryQuery{}); err != nil {
			t.Fatal(err)
		}
	}
}

func extraTickers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("X%03d.AU", i)
	}
	return out
}

// seed stores a ticker's history from the fake, from November to through,
// as a full refresh at fetched would have left it.
func seed(t *testing.T, st *store.Store, fake *fakeeodhd.Server, ticker, through string, fetched time.Time) {
	t.Helper()
	sec, ok := fake.Security(ticker)
	if !ok {
		t.Fatalf("the fake lacks %s", ticker)
	}
	var bars []sdk.Bar
	for _, b := range sec.Bars("2026-11-01", through, through) {
		bars = append(bars, sdk.Bar{Date: b.Date, Open: f(b.Open), High: f(b.High), Low: f(b.Low), Close: f(b.Close),
			AdjustedClose: f(b.AdjustedClose), Volume: f(b.Volume)})
	}
	v := mergeHistory(historyValue{}, historyValue{Bars: bars, Full: fetched})
	if _, err := st.Market().Put(t.Context(), kindEOD, ticker, doc[historyValue]{Source: "eodhd", Fetched: fetched, Value: v}, store.PutOpts{}); err != nil {
		t.Fatal(err)
	}
}

// TestDailyRefreshPerTicker: a few due tickers cost a call each, which is
// cheaper than a bulk call.
func TestDailyRefreshPerTicker(t *testing.T) {
	thu, fri := newFake(t, "2026-11-26"), newFake(t, "2026-11-27")
	up := newUpstream(t, thu)
	c := newClock("2026-11-26T12:00:00Z")
	st := newStore(t, t.TempDir())
	s := newService(t, newSource(t, up.URL()), st, c)
	track(t, s, []string{"BHP.AU", "CBA.AU", "CSL.AU", "AAPL.US"})

	up.use(fri)
	c.set("2026-11-27T12:00:00Z") // Friday's AU data is due; US is not yet
	reps, err := s.RefreshDaily(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byEx := map[string]RefreshReport{}
	for _, r := range reps {
		byEx[r.Exchange] = r
	}
	// AAPL.US was read on Thursday before New York's close: Thursday's
	// bar is due for it.
	au, us := byEx["AU"], byEx["US"]
	if au.Tracked != 3 || au.Due != 3 || au.Bulk || au.PerTicker != 3 || au.Calls != 3 || au.Updated != 3 || au.Session != "2026-11-27" {
		t.Errorf("AU: %+v", au)
	}
	if us.Due != 1 || us.Calls != 1 || us.Updated != 1 || us.Session != "2026-11-26" {
		t.Errorf("US: %+v", us)
	}
	if fri.Calls(fakeeodhd.EOD) != 4 || fri.Calls(fakeeodhd.Bulk) != 0 {
		t.Errorf("upstream saw %d EOD and %d bulk calls", fri.Calls(fakeeodhd.EOD), fri.Calls(fakeeodhd.Bulk))
	}
	// The refreshed histories are fresh: reading them costs nothing.
	h, err := s.History(t.Context(), "CBA.AU", sdk.HistoryQuery{From: "2026-11-20"})
	if err != nil || h.Bars[len(h.Bars)-1].Date != "2026-11-27" || fri.Calls("") != 4 {
		t.Errorf("after the refresh: %v, %d calls", err, fri.Calls(""))
	}
	// Running again, here or on another instance, finds nothing due.
	other := newService(t, newSource(t, up.URL()), st, c)
	for _, svc := range []*Service{s, other} {
		reps, err := svc.RefreshDaily(t.Context())
		if err != nil || len(reps) != 2 || reps[0].Due+reps[1].Due != 0 || fri.Calls("") != 4 {
			t.Errorf("second run: %+v %v", reps, err)
		}
	}
}

// TestDailyRefreshBulk: when more tickers of an exchange are due than a
// bulk call costs, one bulk call serves them; a history with a gap gets a
// call of its own.
func TestDailyRefreshBulk(t *testing.T) {
	many := extraTickers(costBulk + 20)
	fri := newFake(t, "2026-11-27", append(many, "GAP.AU")...)
	c := newClock("2026-11-26T12:00:00Z")
	st := newStore(t, t.TempDir())
	s := newService(t, newSource(t, fri.URL), st, c)
	// Histories as Thursday's reads left them (stored directly: a full
	// fetch of 121 histories would only slow the test); GAP.AU was last
	// read a week before.
	seed(t, st, fri, "GAP.AU", "2026-11-20", c.now())
	for _, tk := range many {
		seed(t, st, fri, tk, "2026-11-26", c.now())
	}

	c.set("2026-11-27T12:00:00Z")
	reps, err := s.RefreshDaily(t.Context())
	if err != nil || len(reps) != 1 {
		t.Fatalf("%+v %v", reps, err)
	}
	r := reps[0]
	if r.Due != len(many)+1 || !r.Bulk || r.PerTicker != 1 || r.Calls != costBulk+1 || r.Updated != len(many)+1 || r.Failed != 0 {
		t.Errorf("report: %+v", r)
	}
	if fri.Calls(fakeeodhd.Bulk) != 1 || fri.Calls(fakeeodhd.EOD) != 1 || fri.Requests()[0].Endpoint != fakeeodhd.Bulk || fri.Requests()[1].Arg != "GAP.AU" {
		t.Errorf("upstream saw %d bulk and %d EOD calls: %+v", fri.Calls(fakeeodhd.Bulk), fri.Calls(fakeeodhd.EOD), fri.Requests())
	}
	// Every history now ends on Friday and reads without a call.
	for _, tk := range append([]string{"GAP.AU"}, many[:5]...) {
		h, err := s.History(t.Context(), tk, sdk.HistoryQuery{From: "2026-11-16"})
		if err != nil || h.Stale || h.Bars[len(h.Bars)-1].Date != "2026-11-27" {
			t.Fatalf("%s after the refresh: %v stale=%v", tk, err, h.Stale)
		}
	}
	gap, _ := storedHistory(t, st, "GAP.AU")
	if between(gap.Value.Bars, "2026-11-23", "2026-11-26") == nil {
		t.Error("the gapped history's missing days were not filled")
	}
	if fri.Calls("") != 2 {
		t.Errorf("reads after the refresh cost %d calls", fri.Calls("")-2)
	}
	// The bulk bar is the same bar a history call gives.
	d, _ := storedHistory(t, st, many[7])
	sec, _ := fri.Security(many[7])
	want := sec.Bars("2026-11-27", "2026-11-27", "2026-11-27")[0]
	if got := d.Value.Bars[len(d.Value.Bars)-1]; got.Date != want.Date || *got.Close != want.Close {
		t.Errorf("bulk bar %+v, want %+v", got, want)
	}
}

// TestRefreshLease: while one instance holds an exchange's lease for a
// session, another does not refresh it; a finished lease stays finished.
func TestRefreshLease(t *testing.T) {
	thu, fri := newFake(t, "2026-11-26"), newFake(t, "2026-11-27")
	up := newUpstream(t, thu)
	c := newClock("2026-11-26T12:00:00Z")
	st := newStore(t, t.TempDir())
	a := newService(t, newSource(t, up.URL()), st, c)
	b := newService(t, newSource(t, up.URL()), st, c)
	track(t, a, []string{"WES.AU"})
	up.use(fri)
	c.set("2026-11-27T12:00:00Z")

	if held, err := a.claim(t.Context(), "AU", "2026-11-27"); err != nil || held != "" {
		t.Fatalf("claim: %q %v", held, err)
	}
	reps, err := b.RefreshDaily(t.Context())
	if err != nil || len(reps) != 1 || !strings.Contains(reps[0].Skipped, a.instance) || fri.Calls("") != 0 {
		t.Fatalf("while a holds the lease, b: %+v %v", reps, err)
	}
	// A lease past its time is taken over.
	c.advance(leaseTTL + 1)
	reps, err = b.RefreshDaily(t.Context())
	if err != nil || reps[0].Updated != 1 || fri.Calls(fakeeodhd.EOD) != 1 {
		t.Fatalf("after the lease expired, b: %+v %v", reps, err)
	}
}
