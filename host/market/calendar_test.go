package market

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestExchangeHours(t *testing.T) {
	cal, err := NewCalendar()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ex, at string
		open   bool
		closed string // the last session that closed by then
		eod    string // the last session whose EOD data is due by then
	}{
		// Sydney in summer time (UTC+11): 10:00–16:00 is 23:00–05:00 UTC.
		{"AU", "2026-11-26T22:59:00Z", false, "2026-11-26", "2026-11-26"},
		{"AU", "2026-11-26T23:00:00Z", true, "2026-11-26", "2026-11-26"},
		{"AU", "2026-11-27T04:59:00Z", true, "2026-11-26", "2026-11-26"},
		{"AU", "2026-11-27T05:00:00Z", false, "2026-11-27", "2026-11-26"},
		{"AU", "2026-11-27T08:00:00Z", false, "2026-11-27", "2026-11-27"},
		{"AU", "2026-11-29T12:00:00Z", false, "2026-11-27", "2026-11-27"}, // Sunday night in Sydney
		// Sydney in winter (UTC+10) after daylight saving ends on 5 April.
		{"AU", "2026-04-06T00:30:00Z", true, "2026-04-03", "2026-04-03"},
		{"AU", "2026-04-06T06:00:00Z", false, "2026-04-06", "2026-04-03"},
		// New York: EST (UTC-5) in November, EDT (UTC-4) after 8 March.
		{"US", "2026-11-27T14:29:00Z", false, "2026-11-26", "2026-11-26"},
		{"US", "2026-11-27T14:30:00Z", true, "2026-11-26", "2026-11-26"},
		{"US", "2026-11-27T21:00:00Z", false, "2026-11-27", "2026-11-26"},
		{"US", "2026-11-27T21:30:00Z", false, "2026-11-27", "2026-11-27"},
		{"US", "2026-03-09T13:30:00Z", true, "2026-03-06", "2026-03-06"},
		{"US", "2026-11-30T02:00:00Z", false, "2026-11-27", "2026-11-27"}, // Sunday evening
		// London: 08:00–16:30, GMT in winter.
		{"LSE", "2026-12-01T08:00:00Z", true, "2026-11-30", "2026-11-30"},
		{"LSE", "2026-12-01T16:30:00Z", false, "2026-12-01", "2026-11-30"},
		// Around the clock on weekdays (UTC); unknown exchanges alike.
		{"FOREX", "2026-12-01T03:00:00Z", true, "2026-11-30", "2026-11-30"},
		{"INDX", "2026-11-28T03:00:00Z", false, "2026-11-27", "2026-11-27"},
		{"XETRA", "2026-11-27T02:59:00Z", true, "2026-11-26", "2026-11-25"},
	}
	for _, tc := range cases {
		ex := cal.Exchange(tc.ex)
		now := at(tc.at)
		if got := ex.IsOpen(now); got != tc.open {
			t.Errorf("%s at %s: open %v, want %v", tc.ex, tc.at, got, tc.open)
		}
		if got, when := ex.LastClose(now); got != tc.closed || when.After(now) {
			t.Errorf("%s at %s: last close %s (%v), want %s", tc.ex, tc.at, got, when, tc.closed)
		}
		if got, when := ex.EODCutoff(now); got != tc.eod || when.After(now) {
			t.Errorf("%s at %s: EOD due for %s (%v), want %s", tc.ex, tc.at, got, when, tc.eod)
		}
	}
	if cal.ForTicker("bhp.au").Code != "AU" || cal.ForTicker("SAP.XETRA").Code != "XETRA" {
		t.Error("ForTicker picked the wrong exchange")
	}
}

func TestPreviousSession(t *testing.T) {
	for in, want := range map[string]string{"2026-11-30": "2026-11-27", "2026-11-27": "2026-11-26", "2026-11-29": "2026-11-27", "x": ""} {
		if got := previousSession(in); got != want {
			t.Errorf("previousSession(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeTicker(t *testing.T) {
	good := map[string]string{"bhp.au": "BHP.AU", "BRK-B.US": "BRK-B.US", "AUDUSD.FOREX": "AUDUSD.FOREX", "M&G.LSE": "M&G.LSE", "0700.HK": "0700.HK"}
	for in, want := range good {
		if got, err := NormalizeTicker(in); err != nil || got != want {
			t.Errorf("NormalizeTicker(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "BHP", "BHP.", ".AU", "BHP.AU.X", "-BHP.AU", "BH P.AU", "BHP.A-U", "BH/P.AU",
		"BHP.AU\x00", "ÄBC.AU", "ABCDEFGHIJKLMNOPQRSTUVWXYZ.AU", "BHP.ABCDEFGHIJKLM"} {
		if got, err := NormalizeTicker(bad); err == nil {
			t.Errorf("NormalizeTicker(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzNormalizeTicker(f *testing.F) {
	for _, s := range []string{"BHP.AU", "brk-b.us", "../x.AU", "A.B.C", "M&G.LSE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeTicker(in)
		if err != nil {
			return
		}
		// An accepted ticker is a safe store name and normalises to itself.
		if again, err := NormalizeTicker(out); err != nil || again != out {
			t.Fatalf("%q → %q → %q, %v", in, out, again, err)
		}
		for _, r := range out {
			if r == '/' || r == '\\' || r < 0x21 || r > 0x7e {
				t.Fatalf("%q accepted with %q", in, r)
			}
		}
	})
}
