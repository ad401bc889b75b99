package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/internal/tenanttest"
	"github.com/vire-dev/vire/plugins/sources/eodhd"
	"github.com/vire-dev/vire/sdk"
)

const (
	marketKey   = "operator.eodhd.key.9f2"
	marketToday = "2026-11-27"
)

// marketSaturday is the service's clock: the fake's last day is fresh.
var marketSaturday = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type marketEnv struct {
	*testServer
	fake *fakeeodhd.Server
}

// newMarketEnv serves the market endpoints behind the real access layer,
// over the eodhd plugin (in-process) against a fake EODHD, with a market
// service on an encrypted store on the file backend. The plugin uses
// sourceKey, which the fake accepts only when it is marketKey. Keys:
// alice-ro (read), bob (read, write) and writer (write only).
func newMarketEnv(t testing.TB, sourceKey string) *marketEnv {
	t.Helper()
	ctx := context.Background()
	fake := fakeeodhd.New(fakeeodhd.Options{Tokens: []string{marketKey}, Today: marketToday})
	t.Cleanup(fake.Close)
	src := eodhd.New(nil)
	if err := sdk.Configure(ctx, src, sdk.ConfigValue{"api_key": sourceKey, "base_url": fake.URL, "max_retries": 0}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := encryptedStore(t, dir)
	svc, err := market.New(market.Options{Source: src, SourceName: "eodhd", Store: st, Now: func() time.Time { return marketSaturday }})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := tenant.New(tenant.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{dir: dir}
	s.issueKeys(t, ts, map[string]tenanttest.Principal{
		"alice-ro": {Tenant: "alice", Scopes: []tenant.Scope{tenant.ScopeRead}},
		"bob":      {Tenant: "bob", Scopes: []tenant.Scope{tenant.ScopeRead, tenant.ScopeWrite}},
		"writer":   {Tenant: "bob", Scopes: []tenant.Scope{tenant.ScopeWrite}},
	})
	s.start(t, Options{Market: svc}, AccessOptions{Auth: ts}, ts)
	return &marketEnv{testServer: s, fake: fake}
}

// openAPIDoc returns the served document's paths and components.
func openAPIDoc(t *testing.T, s *testServer) (paths, comps map[string]any) {
	t.Helper()
	var doc map[string]any
	s.do(t, "alice-ro", "GET", "/api/openapi.json", "").decode(t, &doc)
	return doc["paths"].(map[string]any), doc["components"].(map[string]any)
}

// conforms fails unless the response's status and body are what the
// OpenAPI document says for the operation.
func conforms(t *testing.T, paths, comps map[string]any, template string, r response) {
	t.Helper()
	op, ok := paths[template].(map[string]any)["get"].(map[string]any)
	if !ok {
		t.Fatalf("GET %s is not in the OpenAPI document", template)
	}
	rd, ok := op["responses"].(map[string]any)[strconv.Itoa(r.status)].(map[string]any)
	if !ok {
		t.Fatalf("status %d of GET %s is not documented (%s)", r.status, template, r.body)
	}
	var v any
	r.decode(t, &v)
	sch := rd["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
	if err := validate(sch, v, comps, "$"); err != nil {
		t.Fatalf("GET %s (%d): %v\n%s", template, r.status, err, r.body)
	}
}

func TestMarketEndpoints(t *testing.T) {
	e := newMarketEnv(t, marketKey)
	paths, comps := openAPIDoc(t, e.testServer)
	cases := []struct {
		path, template string
		check          func(t *testing.T, r response)
	}{
		{"/api/market/quote/bhp.au", "/api/market/quote/{ticker}", func(t *testing.T, r response) {
			var q market.QuoteResult
			r.decode(t, &q)
			if q.Quote.Ticker != "BHP.AU" || q.Quote.Last == nil || q.Source != "eodhd" || q.Fetched.IsZero() {
				t.Errorf("quote: %s", r.body)
			}
		}},
		{"/api/market/history/BHP.AU?from=2021-03-01&to=2021-03-31", "/api/market/history/{ticker}", func(t *testing.T, r response) {
			var h market.HistoryResult
			r.decode(t, &h)
			suspect := 0
			for _, b := range h.Bars {
				if b.Suspect {
					suspect++
				}
			}
			if len(h.Bars) != 23 || h.Bars[0].Date != "2021-03-01" || h.Period != "d" || suspect != 1 {
				t.Errorf("history: %d bars from %s, %d suspect", len(h.Bars), h.Bars[0].Date, suspect)
			}
		}},
		{"/api/market/history/AAPL.US?from=2020-01-01&to=2020-12-31&period=m", "/api/market/history/{ticker}", func(t *testing.T, r response) {
			var h market.HistoryResult
			r.decode(t, &h)
			if len(h.Bars) != 12 || h.Period != "m" {
				t.Errorf("monthly: %d bars", len(h.Bars))
			}
		}},
		{"/api/market/fundamentals/CBA.AU", "/api/market/fundamentals/{ticker}", func(t *testing.T, r response) {
			var f market.FundamentalsResult
			r.decode(t, &f)
			if f.Fundamentals.Name != "Commonwealth Bank of Australia" || f.Fundamentals.PERatio == nil {
				t.Errorf("fundamentals: %s", r.body)
			}
		}},
		{"/api/market/dividends/BHP.AU?from=2021-01-01&to=2021-12-31", "/api/market/dividends/{ticker}", func(t *testing.T, r response) {
			var d market.DividendsResult
			r.decode(t, &d)
			if len(d.Dividends) != 2 || d.Ticker != "BHP.AU" {
				t.Errorf("dividends: %s", r.body)
			}
		}},
		{"/api/market/search?q=vanguard&limit=5", "/api/market/search", func(t *testing.T, r response) {
			var s market.SearchResults
			r.decode(t, &s)
			if len(s.Results) != 2 || s.Results[0].Ticker == "" {
				t.Errorf("search: %s", r.body)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			r := e.do(t, "alice-ro", "GET", c.path, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			conforms(t, paths, comps, c.template, r)
			c.check(t, r)
			// Market data is the same for every tenant, and the second
			// tenant's read costs no upstream call.
			calls := e.fake.Calls("")
			if other := e.do(t, "bob", "GET", c.path, ""); other.status != 200 || !bytes.Equal(other.body, r.body) {
				t.Errorf("another tenant got %d %s", other.status, other.body)
			}
			if e.fake.Calls("") != calls {
				t.Errorf("the second tenant's read went upstream")
			}
			// The read scope is required, and so is a key.
			if r := e.do(t, "writer", "GET", c.path, ""); r.status != http.StatusForbidden || r.errorBody(t).Code != "insufficient_scope" {
				t.Errorf("a write-only key: %d %s", r.status, r.body)
			}
			if r := e.do(t, "", "GET", c.path, ""); r.status != http.StatusUnauthorized {
				t.Errorf("no key: %d %s", r.status, r.body)
			}
		})
	}
}

// TestMarketErrors: the client's mistakes are 400 and 404 with a clear
// message; the upstream's trouble is 503 with Retry-After, or 502 for the
// operator's key, never 401 or 500.
func TestMarketErrors(t *testing.T) {
	e := newMarketEnv(t, marketKey)
	paths, comps := openAPIDoc(t, e.testServer)
	cases := []struct {
		name, path, template string
		fault                *fakeeodhd.Fault
		status               int
		code, message        string
		retryMin, retryMax   int
	}{
		{name: "no exchange", path: "/api/market/quote/BHP", status: 400, code: "invalid_argument", message: "CODE.EXCHANGE"},
		{name: "path characters", path: "/api/market/quote/BH%20P.AU", status: 400, code: "invalid_argument", message: "ticker"},
		{name: "bad date", path: "/api/market/history/BHP.AU?from=2021-02-30", status: 400, code: "invalid_argument", message: "YYYY-MM-DD"},
		{name: "from after to", path: "/api/market/history/BHP.AU?from=2022-01-01&to=2021-01-01", status: 400, code: "invalid_argument", message: "after"},
		{name: "bad period", path: "/api/market/history/BHP.AU?period=y", status: 400, code: "invalid_argument", message: "period"},
		{name: "misspelt parameter", path: "/api/market/history/BHP.AU?form=2021-01-01", status: 400, code: "invalid_argument", message: "form"},
		{name: "repeated parameter", path: "/api/market/dividends/BHP.AU?to=2021-01-01&to=2022-01-01", status: 400, code: "invalid_argument", message: "2 times"},
		{name: "empty search", path: "/api/market/search?q=%20", status: 400, code: "invalid_argument", message: "empty"},
		{name: "search limit", path: "/api/market/search?q=bhp&limit=0", status: 400, code: "invalid_argument", message: "limit"},
		{name: "unknown ticker", path: "/api/market/quote/NOPE.AU", status: 404, code: "not_found", message: "NOPE.AU"},
		{name: "unknown history", path: "/api/market/history/NOPE.US", status: 404, code: "not_found"},
		{name: "quota", path: "/api/market/fundamentals/CSL.AU", fault: &fakeeodhd.Fault{Endpoint: fakeeodhd.Fundamentals, Status: 402},
			status: 503, code: "upstream_quota_exhausted", message: "allowance", retryMin: 60, retryMax: 86400},
		{name: "rate limit", path: "/api/market/history/CSL.AU", fault: &fakeeodhd.Fault{Endpoint: fakeeodhd.EOD, Status: 429, RetryAfter: "42"},
			status: 503, code: "upstream_rate_limited", retryMin: 42, retryMax: 42},
		{name: "rate limit without a time", path: "/api/market/dividends/CSL.AU", fault: &fakeeodhd.Fault{Endpoint: fakeeodhd.Dividends, Status: 429},
			status: 503, code: "upstream_rate_limited", retryMin: 1, retryMax: 120},
		{name: "maintenance", path: "/api/market/quote/CSL.AU", fault: &fakeeodhd.Fault{Endpoint: fakeeodhd.RealTime, Status: 503},
			status: 503, code: "upstream_unavailable", retryMin: 30, retryMax: 30},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.fault != nil {
				e.fake.Inject(*c.fault)
				defer e.fake.ClearFaults()
			}
			calls := e.fake.Calls("")
			r := e.do(t, "alice-ro", "GET", c.path, "")
			if r.status != c.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, c.status)
			}
			eb := r.errorBody(t)
			if eb.Code != c.code || !strings.Contains(eb.Message, c.message) {
				t.Errorf("error %q %q, want code %q and a message mentioning %q", eb.Code, eb.Message, c.code, c.message)
			}
			if strings.Contains(string(r.body), marketKey) {
				t.Error("the response holds the operator's key")
			}
			ra := r.header.Get("Retry-After")
			if c.retryMax == 0 && ra != "" {
				t.Errorf("Retry-After %q on a client error", ra)
			}
			if c.retryMax > 0 {
				n, err := strconv.Atoi(ra)
				if err != nil || n < c.retryMin || n > c.retryMax {
					t.Errorf("Retry-After %q, want %d to %d seconds", ra, c.retryMin, c.retryMax)
				}
			}
			if c.status == 400 && e.fake.Calls("") != calls {
				t.Error("a bad request reached upstream")
			}
			template := c.path
			if i := strings.IndexByte(template, '?'); i >= 0 {
				template = template[:i]
			}
			if i := strings.LastIndex(template, "/"); !strings.HasSuffix(template, "/search") {
				template = template[:i] + "/{ticker}"
			}
			conforms(t, paths, comps, template, r)
		})
	}
}

// TestMarketOperatorKeyRefused: EODHD refusing the server's own key is the
// operator's problem: 502 with a message for the operator, not 401.
func TestMarketOperatorKeyRefused(t *testing.T) {
	e := newMarketEnv(t, "wrong.operator.key")
	r := e.do(t, "alice-ro", "GET", "/api/market/quote/BHP.AU", "")
	eb := r.errorBody(t)
	if r.status != http.StatusBadGateway || eb.Code != "upstream_unauthorized" || !strings.Contains(eb.Message, "operator") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if strings.Contains(string(r.body), "wrong.operator.key") {
		t.Error("the response quotes the key")
	}
	paths, comps := openAPIDoc(t, e.testServer)
	conforms(t, paths, comps, "/api/market/quote/{ticker}", r)
}

// TestMarketWithoutSource: with no market source configured the routes
// answer 503 and say how to configure one.
func TestMarketWithoutSource(t *testing.T) {
	s := &testServer{}
	s.start(t, Options{}, AccessOptions{Personal: true})
	r := s.do(t, "", "GET", "/api/market/quote/BHP.AU", "")
	if eb := r.errorBody(t); r.status != 503 || eb.Code != "upstream_unavailable" || !strings.Contains(eb.Message, `source "sample"`) {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestMarketColdTickerREST: a hundred concurrent requests for one ticker
// nothing holds yet make one call to EODHD, counted at the fake server.
func TestMarketColdTickerREST(t *testing.T) {
	e := newMarketEnv(t, marketKey)
	const n = 100
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	for i := range n {
		wg.Go(func() {
			<-start
			who := []string{"alice-ro", "bob"}[i%2]
			r := e.do(t, who, "GET", "/api/market/history/WES.AU?from=2024-01-01", "")
			statuses[i], bodies[i] = r.status, r.body
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if statuses[i] != 200 || !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("request %d: %d, body differs: %v", i, statuses[i], !bytes.Equal(bodies[i], bodies[0]))
		}
	}
	if got := e.fake.Calls(fakeeodhd.EOD); got != 1 {
		t.Errorf("%d concurrent requests made %d EOD calls, want 1", n, got)
	}
	if got := e.fake.Calls(""); got != 1 {
		t.Errorf("%d upstream calls in all, want 1", got)
	}
}

// TestMarketDataNotEncrypted: with encryption on, market documents are
// stored as plain JSON under market/ and hold nothing of the tenant that
// asked.
func TestMarketDataNotEncrypted(t *testing.T) {
	e := newMarketEnv(t, marketKey)
	for _, p := range []string{"/api/market/quote/VAS.AU", "/api/market/history/VAS.AU?from=2026-01-01", "/api/market/fundamentals/VAS.AU",
		"/api/market/dividends/VAS.AU", "/api/market/search?q=vas"} {
		if r := e.do(t, "alice-ro", "GET", p, ""); r.status != 200 {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
	raw := file.New(nil)
	if err := sdk.Configure(t.Context(), raw, sdk.ConfigValue{"root": e.dir, "fsync": false}); err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	page, err := raw.List(t.Context(), sdk.ListOptions{Prefix: "market/"})
	if err != nil || len(page.Items) != 5 {
		t.Fatalf("market blobs: %+v %v", page.Items, err)
	}
	for _, it := range page.Items {
		data, _, err := raw.Get(t.Context(), it.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte(`{"source":"eodhd"`)) {
			t.Errorf("%s is not plain JSON: %.40q", it.Key, data)
		}
		for _, secret := range []string{"alice", e.keyIDs["alice-ro"], marketKey} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q", it.Key, secret)
			}
		}
	}
}

// benchEnv serves the market endpoints in personal mode over a warm cache:
// the real router and access layer, a real store on the file backend.
func benchEnv(b *testing.B) *testServer {
	ctx := context.Background()
	fake := fakeeodhd.New(fakeeodhd.Options{Tokens: []string{marketKey}, Today: marketToday})
	b.Cleanup(fake.Close)
	src := eodhd.New(nil)
	if err := sdk.Configure(ctx, src, sdk.ConfigValue{"api_key": marketKey, "base_url": fake.URL}); err != nil {
		b.Fatal(err)
	}
	blobs := file.New(nil)
	if err := sdk.Configure(ctx, blobs, sdk.ConfigValue{"root": b.TempDir(), "fsync": false}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { blobs.Close() })
	st, err := store.New(store.Options{Backend: blobs, Layout: store.Layout{Personal: true}})
	if err != nil {
		b.Fatal(err)
	}
	svc, err := market.New(market.Options{Source: src, SourceName: "eodhd", Store: st, Now: func() time.Time { return marketSaturday }})
	if err != nil {
		b.Fatal(err)
	}
	s := &testServer{}
	s.start(b, Options{Market: svc}, AccessOptions{Personal: true})
	return s
}

func benchGet(b *testing.B, s *testServer, path string) {
	if r := s.do(b, "", "GET", path, ""); r.status != 200 {
		b.Fatalf("%d %s", r.status, r.body)
	}
	b.ResetTimer()
	var size int
	for b.Loop() {
		r := s.do(b, "", "GET", path, "")
		if r.status != 200 {
			b.Fatalf("%d %s", r.status, r.body)
		}
		size = len(r.body)
	}
	b.ReportMetric(float64(size), "resp-bytes")
}

// BenchmarkMarketQuoteWarm reads a cached quote through REST.
func BenchmarkMarketQuoteWarm(b *testing.B) {
	benchGet(b, benchEnv(b), "/api/market/quote/BHP.AU")
}

// BenchmarkMarketHistory5YWarm reads five years of cached daily bars
// through REST.
func BenchmarkMarketHistory5YWarm(b *testing.B) {
	s := benchEnv(b)
	to := marketToday
	from := fmt.Sprint(marketSaturday.Year()-5) + to[4:]
	benchGet(b, s, "/api/market/history/BHP.AU?from="+from+"&to="+to)
}

// TestMarketSchemasMatchTypes checks the market schemas against the JSON
// fields of the Go types the endpoints write.
func TestMarketSchemasMatchTypes(t *testing.T) {
	all := marketSchemas()
	for _, c := range []struct {
		schema string
		typ    any
	}{
		{"MarketQuote", market.QuoteResult{}}, {"Quote", sdk.Quote{}},
		{"MarketHistory", market.HistoryResult{}}, {"Bar", market.Bar{}},
		{"MarketFundamentals", market.FundamentalsResult{}}, {"Fundamentals", sdk.Fundamentals{}},
		{"MarketDividends", market.DividendsResult{}}, {"Dividend", sdk.Dividend{}},
		{"MarketSearch", market.SearchResults{}}, {"SearchResult", sdk.SearchResult{}},
	} {
		s := all[c.schema].(schema)
		fields, always := jsonFields(reflect.TypeOf(c.typ))
		if props := sortedKeys(s["properties"].(schema)); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, the Go type %T has %v", c.schema, props, c.typ, fields)
		}
		req, _ := s["required"].([]string)
		if req = slices.Sorted(slices.Values(req)); !slices.Equal(req, always) {
			t.Errorf("schema %s requires %v, the Go type always writes %v", c.schema, req, always)
		}
	}
}
