package eodhd

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestLenientNumbers(t *testing.T) {
	cases := []struct {
		raw  string
		want *float64
	}{
		{`12.34`, f64(12.34)},
		{`0`, f64(0)},
		{`-1.5e3`, f64(-1500)},
		{`"12.34"`, f64(12.34)},
		{`" 7 "`, f64(7)},
		{`"0"`, f64(0)},
		{`"-0.25"`, f64(-0.25)},
		{`"1e-3"`, f64(0.001)},
		{`"N/A"`, nil},
		{`"NA"`, nil},
		{`""`, nil},
		{`"  "`, nil},
		{`null`, nil},
		{`"NaN"`, nil},
		{`"nan"`, nil},
		{`"Inf"`, nil},
		{`"-Infinity"`, nil},
		{`"-"`, nil},
		{`"."`, nil},
		{`"0x1p3"`, nil},
		{`"1_000"`, nil},
		{`"1,234.5"`, nil},
		{`"12.3.4"`, nil},
		{`"None"`, nil},
		{`1e999`, nil},
		{`"1e999"`, nil},
		{`true`, nil},
		{`{}`, nil},
		{`[1]`, nil},
		{`"\u0031\u0032"`, f64(12)},
	}
	for _, c := range cases {
		var n number
		if err := json.Unmarshal([]byte(c.raw), &n); err != nil {
			t.Errorf("%s: decoding failed: %v", c.raw, err)
			continue
		}
		if got := n.ptr(); !eqPtr(got, c.want) {
			t.Errorf("%s = %s, want %s", c.raw, show(got), show(c.want))
		}
	}
	// Inside a reply, junk in one field leaves the others intact.
	var bar wireBar
	if err := json.Unmarshal([]byte(`{"date":"2024-01-02","open":"N/A","high":null,"low":"","close":"10.5","adjusted_close":10.4,"volume":"NaN"}`), &bar); err != nil {
		t.Fatal(err)
	}
	b := bar.bar("X.AU")
	if b.Open != nil || b.High != nil || b.Low != nil || b.Volume != nil || *b.Close != 10.5 || *b.AdjustedClose != 10.4 {
		t.Fatalf("bar = %+v", b)
	}
}

func TestDecodeQuotesMapping(t *testing.T) {
	// EODHD may drop the exchange suffix; with BHP.AU and BHP.US in one
	// batch the reply's order decides.
	body := `[{"code":"BHP","timestamp":1700000000,"close":"45.1"},{"code":"BHP","timestamp":1700000000,"close":30.2},
		{"code":"aapl.us","timestamp":"NA","close":"NA"},{"code":"ZZZ","close":1}]`
	quotes, err := decodeQuotes([]byte(body), []string{"BHP.AU", "BHP.US", "AAPL.US"})
	if err != nil {
		t.Fatal(err)
	}
	if len(quotes) != 2 || quotes[0].Ticker != "BHP.AU" || *quotes[0].Last != 45.1 || quotes[1].Ticker != "BHP.US" || *quotes[1].Last != 30.2 {
		t.Fatalf("quotes = %+v", quotes)
	}
	if !quotes[0].Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("time = %v", quotes[0].Time)
	}
	// Reversed order in the reply with full codes still maps correctly.
	body = `[{"code":"BHP.US","close":30.2,"timestamp":1},{"code":"BHP.AU","close":45.1,"timestamp":1}]`
	quotes, _ = decodeQuotes([]byte(body), []string{"BHP.AU", "BHP.US"})
	if len(quotes) != 2 || quotes[0].Ticker != "BHP.US" || *quotes[0].Last != 30.2 {
		t.Fatalf("quotes = %+v", quotes)
	}
}

func TestDecodeSplitsAndFundamentalsEdges(t *testing.T) {
	splits, err := decodeSplits([]byte(`[{"date":"2020-08-31","split":"4.000000/1.000000"},{"date":"2014-06-09","split":"7:1"},
		{"date":"2010-01-01","split":"N/A"},{"date":"2011-01-01","split":"1/0"},{"date":"junk","split":"2/1"},{"date":"2012-05-05","split":"1.000000/10.000000"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(splits) != 3 || splits[1].New != 7 || splits[2].New != 1 || splits[2].Old != 10 {
		t.Fatalf("splits = %+v", splits)
	}
	for _, body := range []string{`[]`, `{}`, ` [] `} {
		if _, err := decodeFundamentals([]byte(body), "AUDUSD.FOREX"); err == nil {
			t.Errorf("%s: want not found", body)
		}
	}
	f, err := decodeFundamentals([]byte(`{"General":{"Name":"X","Currency":"EUR"},"Highlights":null,"Technicals":[],"Holders":{"a":1}}`), "X.F")
	if err != nil || f.Name != "X" || f.Currency != "EUR" || f.Beta != nil || f.Sections["Holders"]["a"] != 1.0 {
		t.Fatalf("%+v %v", f, err)
	}
}

// FuzzParseNumber: never panics, and what it accepts is finite.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{`1`, `"2.5"`, `"N/A"`, `null`, `"NaN"`, `1e999`, `""`, `"-"`, `{"a":1}`, `"\u00"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, ok := parseNumber(raw)
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("%q accepted as %v", raw, v)
		}
		if !ok && v != 0 {
			t.Fatalf("%q rejected but returned %v", raw, v)
		}
		var n number
		if err := json.Unmarshal(raw, &n); err == nil && n.ok != ok && json.Valid(raw) {
			t.Fatalf("%q: Unmarshal and parseNumber disagree", raw)
		}
	})
}

// FuzzDecoders: no reply body, however malformed, panics a decoder, and
// every decoded bar or quote keeps its numbers finite.
func FuzzDecoders(f *testing.F) {
	seeds := []string{
		`[{"date":"2024-01-02","open":"1","close":2,"volume":"N/A"}]`,
		`{"code":"BHP.AU","timestamp":1,"close":"3"}`,
		`[{"code":"BHP","close":"NA"},{"code":"X","timestamp":"x"}]`,
		`[{"code":"BHP","exchange_short_name":"AU","date":"2024-01-02","close":"1.5"}]`,
		`{"General":{"Name":"X"},"Highlights":{"PERatio":"NaN"},"Technicals":{"52WeekHigh":"1"}}`,
		`[{"date":"2020-01-01","split":"2/1"}]`,
		`[{"Code":"A","Exchange":"US","previousClose":"1"}]`,
		`{"apiRequests":"12","dailyRateLimit":1e30}`,
		`[]`, `{}`, `null`, ``, `Unauthenticated`, `[null]`, `[{"date":null}]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(ps ...*float64) {
			for _, p := range ps {
				if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
					t.Fatalf("non-finite number from %q", body)
				}
			}
		}
		if bars, err := decodeBars(body, "T.AU"); err == nil {
			for _, b := range bars {
				check(b.Open, b.High, b.Low, b.Close, b.AdjustedClose, b.Volume)
				if !validDate(b.Date) {
					t.Fatalf("bar without a date from %q", body)
				}
			}
		}
		if bars, err := decodeBulk(body, "AU"); err == nil {
			for _, b := range bars {
				check(b.Open, b.High, b.Low, b.Close, b.AdjustedClose, b.Volume)
			}
		}
		requested := []string{"BHP.AU", "BHP.US", "X.AU"}
		if quotes, err := decodeQuotes(body, requested); err == nil {
			seen := map[string]bool{}
			for _, q := range quotes {
				if seen[q.Ticker] {
					t.Fatalf("two quotes for %s from %q", q.Ticker, body)
				}
				seen[q.Ticker] = true
				check(q.Open, q.High, q.Low, q.Last, q.PreviousClose, q.Change, q.ChangePercent, q.Volume)
			}
		}
		decodeDividends(body)
		if splits, err := decodeSplits(body); err == nil {
			for _, s := range splits {
				if !(s.New > 0 && s.Old > 0) || math.IsInf(s.New, 0) || math.IsInf(s.Old, 0) {
					t.Fatalf("bad split %+v from %q", s, body)
				}
			}
		}
		decodeSearch(body)
		decodeSymbols(body, "US")
		decodeUsage(body)
		if fd, err := decodeFundamentals(body, "T.AU"); err == nil {
			check(fd.MarketCap, fd.PERatio, fd.DividendYield, fd.EPS, fd.Beta, fd.High52Week, fd.Low52Week)
			if _, err := json.Marshal(fd); err != nil {
				t.Fatalf("fundamentals from %q cannot cross the wire: %v", body, err)
			}
		}
	})
}
