package plugintest

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

func (m *marketSuite) history(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	for _, k := range m.h.Known {
		daily, err := s.History(ctx, noCreds, k, sdk.HistoryQuery{From: m.h.From, To: m.h.To, Period: sdk.Daily})
		noErr(t, err, "History of "+k)
		checkBars(t, k, "d", daily, m.h.From, m.h.To)
		// Two months hold about 40 weekdays; a few holidays aside, each
		// must have its bar.
		if least := weekdays(m.h.From, m.h.To) * 8 / 10; len(daily) < least {
			t.Errorf("History(%s, %s..%s): %d bars, want at least %d", k, m.h.From, m.h.To, len(daily), least)
		}
		closes := 0
		for _, b := range daily {
			if b.Close != nil {
				closes++
			}
		}
		if closes < len(daily)/2 {
			t.Errorf("History(%s): only %d of %d bars have a close", k, closes, len(daily))
		}

		// The default period is daily.
		dflt, err := s.History(ctx, noCreds, k, sdk.HistoryQuery{From: m.h.From, To: m.h.To})
		noErr(t, err, "History with the default period")
		if !sameDates(dflt, daily) {
			t.Errorf("History(%s) without a period: %d bars, with period d: %d", k, len(dflt), len(daily))
		}

		// Each open end is an honest bound: From..To is exactly what the
		// open-ended replies hold between those dates.
		fromOnly, err := s.History(ctx, noCreds, k, sdk.HistoryQuery{From: m.h.From})
		noErr(t, err, "History with only From")
		checkBars(t, k, "d", fromOnly, m.h.From, "")
		toOnly, err := s.History(ctx, noCreds, k, sdk.HistoryQuery{To: m.h.To})
		noErr(t, err, "History with only To")
		checkBars(t, k, "d", toOnly, "", m.h.To)
		if got := between(fromOnly, "", m.h.To); !sameDates(got, daily) {
			t.Errorf("History(%s, from %s) holds %d bars up to %s; From..To holds %d", k, m.h.From, len(got), m.h.To, len(daily))
		}
		if got := between(toOnly, m.h.From, ""); !sameDates(got, daily) {
			t.Errorf("History(%s, to %s) holds %d bars from %s; From..To holds %d", k, m.h.To, len(got), m.h.From, len(daily))
		}
	}

	k0 := m.h.Known[0]
	sat := firstSaturday(m.h.From)
	sun := addDays(sat, 1)
	weekend, err := s.History(ctx, noCreds, k0, sdk.HistoryQuery{From: sat, To: sun})
	if err != nil || len(weekend) != 0 {
		t.Errorf("History(%s, %s..%s) over a weekend: %d bars, error %v; want none and no error", k0, sat, sun, len(weekend), err)
	}
	one, err := s.History(ctx, noCreds, k0, sdk.HistoryQuery{From: m.h.To, To: m.h.To})
	noErr(t, err, "History of one day")
	checkBars(t, k0, "d", one, m.h.To, m.h.To)
}

// periods checks that weekly and monthly bars are coarser than daily ones.
func (m *marketSuite) periods(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	for _, k := range m.h.Known {
		q := sdk.HistoryQuery{From: m.h.From, To: m.h.To}
		daily, err := s.History(ctx, noCreds, k, q)
		noErr(t, err, "History (d) of "+k)
		q.Period = sdk.Weekly
		weekly, err := s.History(ctx, noCreds, k, q)
		noErr(t, err, "History (w) of "+k)
		q.Period = sdk.Monthly
		monthly, err := s.History(ctx, noCreds, k, q)
		noErr(t, err, "History (m) of "+k)

		checkBars(t, k, "w", weekly, m.h.From, m.h.To)
		checkBars(t, k, "m", monthly, m.h.From, m.h.To)
		if !(len(monthly) > 0 && len(monthly) < len(weekly) && len(weekly) < len(daily)) {
			t.Errorf("History(%s): %d monthly, %d weekly, %d daily bars; want fewer the coarser the period, none empty",
				k, len(monthly), len(weekly), len(daily))
		}
		onePer(t, k, "ISO week", weekly, func(d time.Time) string { y, w := d.ISOWeek(); return fmt.Sprint(y, "-W", w) })
		onePer(t, k, "month", monthly, func(d time.Time) string { return d.Format("2006-01") })
	}
}

func onePer(t *testing.T, ticker, unit string, bars []sdk.Bar, key func(time.Time) string) {
	t.Helper()
	seen := map[string]string{}
	for _, b := range bars {
		d, err := time.Parse(time.DateOnly, b.Date)
		if err != nil {
			continue // checkBars reports it
		}
		k := key(d)
		if prev, ok := seen[k]; ok {
			t.Errorf("History(%s): bars on %s and %s fall in one %s", ticker, prev, b.Date, unit)
			return
		}
		seen[k] = b.Date
	}
}

// checkBars checks one History reply: real dates in ascending order, none
// twice, within from..to ("" is open), and prices that are either missing
// (nil) or positive.
func checkBars(t *testing.T, ticker, period string, bars []sdk.Bar, from, to string) {
	t.Helper()
	failures := 0
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("History(%s, period %s): "+format, append([]any{ticker, period}, args...)...)
		tooMany(t, &failures, false)
	}
	prev := ""
	for _, b := range bars {
		switch {
		case !isDate(b.Date):
			fail("bar date %q is not YYYY-MM-DD", b.Date)
			continue
		case prev != "" && b.Date <= prev:
			fail("bar %s follows %s: dates must ascend with no duplicates", b.Date, prev)
		case from != "" && b.Date < from, to != "" && b.Date > to:
			fail("bar %s is outside %s..%s", b.Date, from, to)
		}
		prev = b.Date
		if b.Ticker != "" && !strings.EqualFold(b.Ticker, ticker) {
			fail("bar %s names ticker %q", b.Date, b.Ticker)
		}
		prices := []struct {
			name string
			v    *float64
		}{{"open", b.Open}, {"high", b.High}, {"low", b.Low}, {"close", b.Close}, {"adjusted_close", b.AdjustedClose}}
		for _, p := range prices {
			if p.v != nil && !(*p.v > 0 && !math.IsInf(*p.v, 0)) {
				fail("bar %s: %s = %v; a price is positive, and a missing one is nil, not zero", b.Date, p.name, *p.v)
			}
		}
		if b.Volume != nil && !(*b.Volume >= 0 && !math.IsInf(*b.Volume, 0)) {
			fail("bar %s: volume %v", b.Date, *b.Volume)
		}
		if b.High != nil && b.Low != nil && *b.High < *b.Low {
			fail("bar %s: high %v below low %v", b.Date, *b.High, *b.Low)
		}
	}
}

func (m *marketSuite) dividends(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	k := m.h.Dividends
	all, err := s.Dividends(ctx, noCreds, k, "", "")
	noErr(t, err, "Dividends of "+k)
	if k != m.h.Known[0] && len(all) == 0 {
		t.Fatalf("Dividends(%s): none, but the harness names it as a payer", k)
	}
	currency := regexp.MustCompile(`^[A-Z]{3}$`)
	prev := ""
	for _, d := range all {
		if !isDate(d.Date) {
			t.Errorf("Dividends(%s): ex-date %q is not YYYY-MM-DD", k, d.Date)
			continue
		}
		if d.Date <= prev {
			t.Errorf("Dividends(%s): %s follows %s: dates must ascend with no duplicates", k, d.Date, prev)
		}
		prev = d.Date
		if d.Value == nil || !(*d.Value > 0 && !math.IsInf(*d.Value, 0)) {
			t.Errorf("Dividends(%s) on %s: value %s, want a positive amount", k, d.Date, showPrice(d.Value))
		}
		if d.UnadjustedValue != nil && !(*d.UnadjustedValue > 0) {
			t.Errorf("Dividends(%s) on %s: unadjusted value %v; a missing one is nil", k, d.Date, *d.UnadjustedValue)
		}
		dates := []struct {
			name, v string
			after   bool
		}{{"declaration", d.DeclarationDate, false}, {"record", d.RecordDate, true}, {"payment", d.PaymentDate, true}}
		for _, x := range dates {
			switch {
			case x.v == "":
			case !isDate(x.v):
				t.Errorf("Dividends(%s) on %s: %s date %q is not YYYY-MM-DD", k, d.Date, x.name, x.v)
			case x.after && x.v < d.Date, !x.after && x.v > d.Date:
				t.Errorf("Dividends(%s) on %s: %s date %s is on the wrong side of the ex-date", k, d.Date, x.name, x.v)
			}
		}
		if d.Currency != "" && !currency.MatchString(d.Currency) {
			t.Errorf("Dividends(%s) on %s: currency %q is not an ISO 4217 code", k, d.Date, d.Currency)
		}
	}
	if len(all) == 0 {
		return
	}
	mid := all[len(all)/2].Date
	for _, r := range [][2]string{{mid, mid}, {mid, ""}, {"", mid}, {addDays(mid, 1), ""}} {
		got, err := s.Dividends(ctx, noCreds, k, r[0], r[1])
		noErr(t, err, fmt.Sprintf("Dividends(%s, %q, %q)", k, r[0], r[1]))
		var want []string
		for _, d := range all {
			if (r[0] == "" || d.Date >= r[0]) && (r[1] == "" || d.Date <= r[1]) {
				want = append(want, d.Date)
			}
		}
		var dates []string
		for _, d := range got {
			dates = append(dates, d.Date)
		}
		if strings.Join(dates, ",") != strings.Join(want, ",") {
			t.Errorf("Dividends(%s, %q..%q): %v, want %v", k, r[0], r[1], dates, want)
		}
	}
}

func (m *marketSuite) splits(t *testing.T) {
	s, ctx := m.open(t), ctxFor(t)
	k := m.h.Splits
	all, err := s.Splits(ctx, noCreds, k, "", "")
	noErr(t, err, "Splits of "+k)
	if k != m.h.Known[0] && len(all) == 0 {
		t.Fatalf("Splits(%s): none, but the harness names it as having split", k)
	}
	prev := ""
	for _, sp := range all {
		switch {
		case !isDate(sp.Date):
			t.Errorf("Splits(%s): date %q is not YYYY-MM-DD", k, sp.Date)
		case sp.Date <= prev:
			t.Errorf("Splits(%s): %s follows %s: dates must ascend with no duplicates", k, sp.Date, prev)
		}
		prev = sp.Date
		if !(sp.New > 0 && sp.Old > 0) || math.IsInf(sp.New, 0) || math.IsInf(sp.Old, 0) || sp.New == sp.Old {
			t.Errorf("Splits(%s) on %s: %v for %v is not a split", k, sp.Date, sp.New, sp.Old)
		}
	}
	if len(all) == 0 {
		return
	}
	first := all[0].Date
	got, err := s.Splits(ctx, noCreds, k, first, first)
	noErr(t, err, "Splits on one day")
	if len(got) != 1 || got[0].Date != first || got[0].New != all[0].New || got[0].Old != all[0].Old {
		t.Errorf("Splits(%s, %s..%s): %+v, want %+v", k, first, first, got, all[0])
	}
	got, err = s.Splits(ctx, noCreds, k, "", addDays(first, -1))
	noErr(t, err, "Splits before the first")
	if len(got) != 0 {
		t.Errorf("Splits(%s) up to the day before the first split: %+v", k, got)
	}
}

func sameDates(a, b []sdk.Bar) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Date != b[i].Date {
			return false
		}
	}
	return true
}

// between returns the bars within from..to ("" is open).
func between(bars []sdk.Bar, from, to string) []sdk.Bar {
	var out []sdk.Bar
	for _, b := range bars {
		if (from == "" || b.Date >= from) && (to == "" || b.Date <= to) {
			out = append(out, b)
		}
	}
	return out
}

func addDays(date string, n int) string {
	d, _ := time.Parse(time.DateOnly, date)
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}

func firstSaturday(date string) string {
	d, _ := time.Parse(time.DateOnly, date)
	for d.Weekday() != time.Saturday {
		d = d.AddDate(0, 0, 1)
	}
	return d.Format(time.DateOnly)
}

func weekdays(from, to string) int {
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	n := 0
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return n
}
