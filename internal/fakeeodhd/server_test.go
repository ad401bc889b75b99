package fakeeodhd

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestAuthAndFormat(t *testing.T) {
	for _, status := range []int{401, 403} {
		s := New(Options{Tokens: []string{"k"}, UnauthorizedStatus: status, Today: "2026-11-27"})
		code, h, body := get(t, s.URL+"/eod/BHP.AU?api_token=wrong&fmt=json")
		if code != status || body != "Unauthenticated" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
			t.Errorf("bad token: %d %q %q", code, body, h.Get("Content-Type"))
		}
		if code, _, _ := get(t, s.URL+"/eod/BHP.AU?fmt=json"); code != status {
			t.Errorf("no token: %d", code)
		}
		s.Close()
	}
	s := New(Options{Tokens: []string{"k"}, Today: "2026-11-27"})
	defer s.Close()
	code, h, body := get(t, s.URL+"/eod/BHP.AU?api_token=k&from=2026-11-23&to=2026-11-27")
	if code != 200 || h.Get("Content-Type") != "text/csv" || !strings.HasPrefix(body, "Date,Open,High,Low,Close,Adjusted_close,Volume\n2026-11-23,") {
		t.Errorf("without fmt=json the answer is CSV: %d %q\n%s", code, h.Get("Content-Type"), body)
	}
	code, h, body = get(t, s.URL+"/eod/BHP.AU?api_token=k&from=2026-11-23&to=2026-11-27&fmt=json")
	var bars []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &bars) != nil || len(bars) != 5 || h.Get("X-RateLimit-Limit") != "1000" || h.Get("X-RateLimit-Remaining") != "998" {
		t.Errorf("JSON: %d %v %s", code, h, body)
	}
	// Fundamentals are JSON whatever fmt says.
	if _, h, _ := get(t, s.URL+"/fundamentals/BHP.AU?api_token=k"); h.Get("Content-Type") != "application/json" {
		t.Errorf("fundamentals: %q", h.Get("Content-Type"))
	}
}

func TestRealTimeShapes(t *testing.T) {
	s := New(Options{Tokens: []string{"k"}, Today: "2026-11-27"})
	defer s.Close()
	_, _, one := get(t, s.URL+"/real-time/AAPL.US?api_token=k&fmt=json")
	if !strings.HasPrefix(one, `{"code":"AAPL",`) {
		t.Errorf("one ticker: %s", one)
	}
	_, _, many := get(t, s.URL+"/real-time/BHP.AU?s=AAPL.US,NOPE.AU&api_token=k&fmt=json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(many), &rows); err != nil || len(rows) != 3 {
		t.Fatalf("several: %s", many)
	}
	if rows[0]["code"] != "BHP.AU" || rows[1]["code"] != "AAPL" || rows[2]["close"] != "NA" {
		t.Errorf("rows: %v", rows)
	}
	if s.Used() != 4 {
		t.Errorf("real-time costs one call per ticker: used %d", s.Used())
	}
}

func TestBulkStrings(t *testing.T) {
	s := New(Options{Tokens: []string{"k"}, Today: "2026-11-27"})
	defer s.Close()
	_, _, body := get(t, s.URL+"/eod-bulk-last-day/AU?api_token=k&fmt=json&date=2026-11-26")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(body), &rows); err != nil || len(rows) != 5 {
		t.Fatalf("%s", body)
	}
	for _, r := range rows {
		if _, isString := r["close"].(string); !isString || r["exchange_short_name"] != "AU" {
			t.Errorf("AU row: %v", r)
		}
	}
	if rows[1]["code"] != "CBA" || rows[1]["open"] != "N/A" || rows[1]["volume"] != "" || rows[2]["high"] != nil || rows[3]["low"] != "NaN" {
		t.Errorf("junk: %v", rows)
	}
	_, _, body = get(t, s.URL+"/eod-bulk-last-day/US?api_token=k&fmt=json&symbols=MSFT")
	if !strings.Contains(body, `"exchange_short":"US"`) || strings.Contains(body, "AAPL") {
		t.Errorf("US: %s", body)
	}
}

func TestLimitsAndFaults(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s := New(Options{Tokens: []string{"k"}, Today: "2026-11-27", PerMinute: 3, DailyLimit: 25, Now: func() time.Time { return now }})
	defer s.Close()
	u := s.URL + "/splits/AAPL.US?api_token=k&fmt=json"
	for i := range 3 {
		if code, _, _ := get(t, u); code != 200 {
			t.Fatalf("call %d: %d", i, code)
		}
	}
	code, h, _ := get(t, u)
	if code != 429 || h.Get("Retry-After") != "60" || h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("4th call in a minute: %d %v", code, h)
	}
	now = now.Add(61 * time.Second)
	for range 2 {
		if code, _, _ := get(t, s.URL+"/fundamentals/AAPL.US?api_token=k"); code != 200 {
			t.Fatalf("after a minute: %d", code)
		}
	}
	if code, _, _ := get(t, s.URL+"/fundamentals/AAPL.US?api_token=k"); code != 402 || s.Used() != 23 {
		t.Fatalf("3 + 10 + 10 + 10 > 25 must be 402, got %d (used %d)", code, s.Used())
	}

	s.Inject(Fault{Endpoint: Splits, Status: 503, Times: 2})
	now = now.Add(time.Hour)
	s.SetUsed(0)
	for i, want := range []int{503, 503, 200} {
		if code, _, _ := get(t, u); code != want {
			t.Fatalf("splits call %d: %d, want %d", i, code, want)
		}
	}
	s.Inject(Fault{Status: 429, RetryAfter: "9", Times: 1})
	if code, h, _ := get(t, s.URL+"/div/AAPL.US?api_token=k&fmt=json"); code != 429 || h.Get("Retry-After") != "9" {
		t.Fatalf("any-endpoint fault: %d", code)
	}
	if s.Calls(Splits) != 7 || s.Calls(Dividends) != 1 || s.Calls("") != 11 {
		t.Fatalf("counts: splits %d div %d all %d", s.Calls(Splits), s.Calls(Dividends), s.Calls(""))
	}
}

func TestDeterministic(t *testing.T) {
	a := New(Options{Tokens: []string{"k"}, Today: "2026-11-27"})
	defer a.Close()
	b := New(Options{Tokens: []string{"k"}, Today: "2026-11-27"})
	defer b.Close()
	for _, path := range []string{"/eod/CSL.AU?from=2019-01-01", "/fundamentals/MSFT.US?x=1", "/div/VAS.AU?x=1"} {
		_, _, x := get(t, a.URL+path+"&api_token=k&fmt=json")
		_, _, y := get(t, b.URL+path+"&api_token=k&fmt=json")
		if x != y || len(x) < 100 {
			t.Errorf("%s differs between servers", path)
		}
	}
}
