package eodhd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/sdk"
)

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		name       string
		fault      fakeeodhd.Fault
		retries    float64
		kind       error
		retryAfter time.Duration // for 429
		calls      int           // requests the server sees
	}{
		{"402 quota", fakeeodhd.Fault{Status: 402}, 2, sdk.ErrQuotaExhausted, 0, 1},
		{"429 with Retry-After", fakeeodhd.Fault{Status: 429, RetryAfter: "7"}, 2, sdk.ErrRateLimited, 7 * time.Second, 1},
		{"429 without Retry-After", fakeeodhd.Fault{Status: 429}, 2, sdk.ErrRateLimited, 60 * time.Second, 1},
		{"404", fakeeodhd.Fault{Status: 404}, 2, sdk.ErrNotFound, 0, 1},
		{"500 always", fakeeodhd.Fault{Status: 500}, 2, sdk.ErrUnavailable, 0, 3},
		{"503 always, no retries", fakeeodhd.Fault{Status: 503}, 0, sdk.ErrUnavailable, 0, 1},
		{"502 always, five retries", fakeeodhd.Fault{Status: 502}, 5, sdk.ErrUnavailable, 0, 6},
		{"503 twice then fine", fakeeodhd.Fault{Status: 503, Times: 2}, 2, nil, 0, 3},
		{"500 three times, two retries", fakeeodhd.Fault{Status: 500, Times: 3}, 2, sdk.ErrUnavailable, 0, 3},
		{"400", fakeeodhd.Fault{Status: 400}, 2, sdk.ErrInvalidArgument, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, fakeeodhd.Options{Today: today}, map[string]any{"max_retries": c.retries})
			c.fault.Endpoint = fakeeodhd.EOD
			h.fake.Inject(c.fault)
			bars, err := h.src.History(t.Context(), noCreds, "BHP.AU", sdk.HistoryQuery{From: "2026-11-02", To: "2026-11-06"})
			if n := h.fake.Calls(fakeeodhd.EOD); n != c.calls {
				t.Errorf("server saw %d requests, want %d", n, c.calls)
			}
			if c.kind == nil {
				if err != nil || len(bars) != 5 {
					t.Fatalf("got %d bars, %v", len(bars), err)
				}
				return
			}
			if !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			if sdk.Kind(err) != c.kind {
				t.Errorf("kind = %v, want %v", sdk.Kind(err), c.kind)
			}
			var rl *sdk.RateLimitError
			if errors.As(err, &rl) != (c.kind == sdk.ErrRateLimited) {
				t.Fatalf("errors.As RateLimitError = %v for %v", !(c.kind == sdk.ErrRateLimited), err)
			}
			if rl != nil && rl.RetryAfter != c.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", rl.RetryAfter, c.retryAfter)
			}
		})
	}
}

func TestUnauthenticated(t *testing.T) {
	for _, status := range []int{401, 403} {
		h := newHarness(t, fakeeodhd.Options{Today: today, Tokens: []string{"something-else"}, UnauthorizedStatus: status}, nil)
		_, err := h.src.Fundamentals(t.Context(), noCreds, "BHP.AU")
		if !errors.Is(err, sdk.ErrUnauthorized) || !strings.Contains(err.Error(), "configured api_key") {
			t.Fatalf("status %d: %v", status, err)
		}
		_, err = h.src.Fundamentals(t.Context(), sdk.Credentials{APIKey: tenantKey}, "BHP.AU")
		if !errors.Is(err, sdk.ErrUnauthorized) || !strings.Contains(err.Error(), "tenant's") {
			t.Fatalf("status %d, tenant key: %v", status, err)
		}
		if n := h.fake.Calls(""); n != 2 {
			t.Errorf("a rejected key is not retried: %d calls", n)
		}
	}
}

func TestNoKeyAnywhere(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, map[string]any{"api_key": nil})
	_, err := h.src.Quotes(t.Context(), noCreds, []string{"BHP.AU"})
	if !errors.Is(err, sdk.ErrUnauthorized) || !strings.Contains(err.Error(), "set api_key") {
		t.Fatalf("err = %v", err)
	}
	if n := h.fake.Calls(""); n != 0 {
		t.Fatalf("a call without a key reached the server %d times", n)
	}
	// A tenant key alone is enough.
	if _, err := h.src.Quotes(t.Context(), sdk.Credentials{APIKey: tenantKey}, []string{"BHP.AU"}); err != nil {
		t.Fatal(err)
	}
}

func TestTenantKeyOverridesConfiguredKey(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()
	if _, err := h.src.Splits(ctx, sdk.Credentials{APIKey: tenantKey}, "AAPL.US", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.src.Splits(ctx, noCreds, "AAPL.US", "", ""); err != nil {
		t.Fatal(err)
	}
	reqs := h.fake.Requests()
	if len(reqs) != 2 || reqs[0].Query.Get("api_token") != tenantKey || reqs[1].Query.Get("api_token") != operatorKey {
		t.Fatalf("keys seen: %q then %q", reqs[0].Query.Get("api_token"), reqs[1].Query.Get("api_token"))
	}
}

func TestInvalidArguments(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	ctx := t.Context()
	calls := map[string]func() error{
		"no exchange": func() error { _, err := h.src.History(ctx, noCreds, "BHP", sdk.HistoryQuery{}); return err },
		"two dots":    func() error { _, err := h.src.History(ctx, noCreds, "BRK.B.US", sdk.HistoryQuery{}); return err },
		"slash":       func() error { _, err := h.src.Fundamentals(ctx, noCreds, "../x.AU"); return err },
		"query chars": func() error { _, err := h.src.Dividends(ctx, noCreds, "BHP.AU?x=1", "", ""); return err },
		"space":       func() error { _, err := h.src.Splits(ctx, noCreds, "BHP .AU", "", ""); return err },
		"empty code":  func() error { _, err := h.src.Quotes(ctx, noCreds, []string{".AU"}); return err },
		"one bad in a batch": func() error {
			_, err := h.src.Quotes(ctx, noCreds, []string{"BHP.AU", "CBA.AU", "bad ticker"})
			return err
		},
		"bad date": func() error {
			_, err := h.src.History(ctx, noCreds, "BHP.AU", sdk.HistoryQuery{From: "2021-02-30"})
			return err
		},
		"reversed": func() error {
			_, err := h.src.Dividends(ctx, noCreds, "BHP.AU", "2022-01-01", "2021-01-01")
			return err
		},
		"bad period": func() error {
			_, err := h.src.History(ctx, noCreds, "BHP.AU", sdk.HistoryQuery{Period: "y"})
			return err
		},
		"bad exchange":  func() error { _, err := h.src.ExchangeSymbols(ctx, noCreds, "A/U"); return err },
		"bulk symbol":   func() error { _, err := h.src.BulkLastDay(ctx, noCreds, "AU", "", []string{"BHP,CBA"}); return err },
		"bulk date":     func() error { _, err := h.src.BulkLastDay(ctx, noCreds, "AU", "yesterday", nil); return err },
		"empty search":  func() error { _, err := h.src.Search(ctx, noCreds, "  ", 5); return err },
		"control chars": func() error { _, err := h.src.Search(ctx, noCreds, "a\nb", 5); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if n := h.fake.Calls(""); n != 0 {
		t.Fatalf("malformed arguments reached the server %d times", n)
	}
}

func TestCancellation(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, map[string]any{"max_retries": 10})
	h.src.backoff = time.Hour
	h.fake.Inject(fakeeodhd.Fault{Status: 503})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.src.Fundamentals(ctx, noCreds, "BHP.AU")
		done <- err
	}()
	for h.fake.Calls("") == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestKeyNeverLeaks drives every failure path with keys that need URL
// escaping and checks that neither errors nor logs contain them.
func TestKeyNeverLeaks(t *testing.T) {
	const oddKey = "ten/ant+key=1 z"
	h := newHarness(t, fakeeodhd.Options{Today: today, Tokens: []string{operatorKey, tenantKey, oddKey}},
		map[string]any{"timeout": "300ms", "max_retries": 1})
	ctx := t.Context()
	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	for _, creds := range []sdk.Credentials{noCreds, {APIKey: tenantKey}, {APIKey: oddKey}, {APIKey: "wrong-" + tenantKey}} {
		for _, status := range []int{402, 404, 429, 500, 400, 418} {
			h.fake.Inject(fakeeodhd.Fault{Status: status, Times: 2})
			collect(h.src.Fundamentals(ctx, creds, "BHP.AU"))
			h.fake.ClearFaults()
		}
		collect(h.src.Quotes(ctx, creds, []string{"BHP.AU", "AAPL.US"}))
	}

	// A server that echoes the query into its error body.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad request "+r.URL.String(), http.StatusBadRequest)
	}))
	defer echo.Close()
	// A server that never answers in time.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	// An address nothing listens on: net/http's *url.Error quotes the full
	// URL, api_token included.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/api"
	l.Close()
	for _, base := range []string{echo.URL, slow.URL, refused} {
		other := New(h.src.log)
		other.backoff = time.Millisecond
		cfg, _ := other.Schema().Complete(sdk.ConfigValue{"api_key": operatorKey, "base_url": base, "timeout": "200ms", "max_retries": 1})
		if err := other.Configure(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		for _, creds := range []sdk.Credentials{noCreds, {APIKey: oddKey}} {
			collect(other.History(ctx, creds, "BHP.AU", sdk.HistoryQuery{}))
		}
	}

	secrets := []string{operatorKey, tenantKey, oddKey, "ten%2Fant", "ant+key", "ant%2Bkey"}
	failures := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		failures++
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error leaks a key: %v", err)
			}
		}
	}
	if failures < 30 {
		t.Fatalf("only %d calls failed; the test did not exercise the error paths", failures)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "/fundamentals/BHP.AU") {
		t.Fatalf("logs do not show request paths; is debug logging on?\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs leak %q", s)
		}
	}
	if strings.Contains(logs, "api_token") {
		t.Errorf("logs mention api_token")
	}
}

func TestConfigure(t *testing.T) {
	cases := []struct {
		name string
		cfg  sdk.ConfigValue
		attr string
	}{
		{"bad url", sdk.ConfigValue{"base_url": "eodhd.com/api"}, "base_url"},
		{"ftp url", sdk.ConfigValue{"base_url": "ftp://eodhd.com/api"}, "base_url"},
		{"url with query", sdk.ConfigValue{"base_url": "https://eodhd.com/api?api_token=x"}, "base_url"},
		{"bad timeout", sdk.ConfigValue{"timeout": "soon"}, "timeout"},
		{"zero timeout", sdk.ConfigValue{"timeout": "0s"}, "timeout"},
		{"zero rate", sdk.ConfigValue{"requests_per_minute": 0}, "requests_per_minute"},
		{"rate above EODHD's", sdk.ConfigValue{"requests_per_minute": 1500}, "requests_per_minute"},
		{"negative retries", sdk.ConfigValue{"max_retries": -1}, "max_retries"},
		{"fractional retries", sdk.ConfigValue{"max_retries": 1.5}, "max_retries"},
		{"key with spaces", sdk.ConfigValue{"api_key": " secret-key-value "}, "api_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(nil)
			full, err := s.Schema().Complete(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Configure(t.Context(), full)
			var ce sdk.ConfigErrors
			if !errors.As(err, &ce) || len(ce) != 1 || ce[0].Attribute != c.attr {
				t.Fatalf("err = %v, want one error on %s", err, c.attr)
			}
			if strings.Contains(err.Error(), "secret-key-value") {
				t.Errorf("error quotes the key: %v", err)
			}
			if s.Health(t.Context()) == nil {
				t.Errorf("a rejected configuration must leave the source unhealthy")
			}
		})
	}
	s := New(nil)
	if err := s.Schema().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(t.Context()); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("unconfigured health: %v", err)
	}
	full, _ := s.Schema().Complete(sdk.ConfigValue{})
	if err := s.Configure(t.Context(), full); err != nil {
		t.Fatalf("defaults alone must configure: %v", err)
	}
	st := s.cfg.Load()
	if st.baseURL != DefaultBaseURL || st.client.Timeout != 30*time.Second || st.maxRetries != 2 || st.limiter.rate != 15 {
		t.Fatalf("defaults: %+v", st)
	}
	if s.Health(t.Context()) != nil {
		t.Fatal("configured source is unhealthy")
	}
}

// TestLimiterSeesEveryAttempt checks that retries, too, take a token.
func TestLimiterSeesEveryAttempt(t *testing.T) {
	h := newHarness(t, fakeeodhd.Options{Today: today}, nil)
	h.fake.Inject(fakeeodhd.Fault{Endpoint: fakeeodhd.Splits, Status: 503, Times: 2})
	ctx := t.Context()
	h.src.Splits(ctx, noCreds, "AAPL.US", "", "")
	h.src.Quotes(ctx, noCreds, []string{"BHP.AU", "CBA.AU"})
	h.src.Usage(ctx, noCreds)
	if got, want := h.src.cfg.Load().limiter.granted(), int64(h.fake.Calls("")); got != want || want != 5 {
		t.Fatalf("limiter granted %d tokens for %d requests (want 5)", got, want)
	}
}
