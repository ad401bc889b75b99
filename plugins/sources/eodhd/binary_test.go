package eodhd_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/sdk"
)

// syncBuilder collects log output written from several goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuilder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuilder) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestBinary runs vire-plugin-eodhd as the host does and checks that data
// and error kinds, RateLimitError's RetryAfter included, cross the process
// boundary.
func TestBinary(t *testing.T) {
	const key, tenant = "bin-operator-key-42", "bin-tenant-key-17"
	fake := fakeeodhd.New(fakeeodhd.Options{Tokens: []string{key, tenant}, Today: "2026-11-27"})
	defer fake.Close()

	logs := &syncBuilder{}
	h := pluginhost.New(pluginhost.Options{
		Logger:         hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Trace}),
		HealthInterval: -1,
	})
	defer h.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p, err := h.Start(ctx, pluginhost.Spec{Name: "eodhd", Path: testbuild.Binary(t, "./cmd/vire-plugin-eodhd")})
	if err != nil {
		t.Fatal(err)
	}
	// Bad configuration comes back as ConfigErrors naming the attribute.
	_, _, err = p.Source(ctx, sdk.ConfigValue{"base_url": fake.URL, "timeout": "never"})
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || ce[0].Attribute != "timeout" {
		t.Fatalf("bad config: %v", err)
	}
	md, ps, err := p.Source(ctx, sdk.ConfigValue{"api_key": key, "base_url": fake.URL, "max_retries": 1})
	if err != nil {
		t.Fatal(err)
	}
	if md == nil || ps != nil {
		t.Fatalf("eodhd serves market data only: %v %v", md, ps)
	}
	if err := md.Health(ctx); err != nil {
		t.Fatal(err)
	}

	quotes, err := md.Quotes(ctx, sdk.Credentials{}, []string{"BHP.AU", "AAPL.US"})
	if err != nil || len(quotes) != 2 || quotes[1].Ticker != "AAPL.US" || quotes[1].Last == nil {
		t.Fatalf("quotes: %+v %v", quotes, err)
	}
	bulk, err := md.BulkLastDay(ctx, sdk.Credentials{}, "AU", "2026-11-26", nil)
	if err != nil || len(bulk) != 5 {
		t.Fatalf("bulk: %v %v", bulk, err)
	}
	for _, b := range bulk {
		if b.Ticker == "CBA.AU" && (b.Open != nil || b.Close == nil) {
			t.Errorf("junk must stay missing across the wire: %+v", b)
		}
	}

	fake.Inject(fakeeodhd.Fault{Endpoint: fakeeodhd.EOD, Status: 429, RetryAfter: "42", Times: 1})
	_, err = md.History(ctx, sdk.Credentials{}, "BHP.AU", sdk.HistoryQuery{})
	var rl *sdk.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 42*time.Second || !errors.Is(err, sdk.ErrRateLimited) {
		t.Fatalf("429 across the boundary: %#v", err)
	}
	kinds := []struct {
		status int
		kind   error
	}{{402, sdk.ErrQuotaExhausted}, {404, sdk.ErrNotFound}, {503, sdk.ErrUnavailable}}
	for _, k := range kinds {
		fake.Inject(fakeeodhd.Fault{Endpoint: fakeeodhd.Dividends, Status: k.status, Times: 2})
		if _, err := md.Dividends(ctx, sdk.Credentials{}, "BHP.AU", "", ""); !errors.Is(err, k.kind) {
			t.Errorf("HTTP %d: %v, want %v", k.status, err, k.kind)
		}
		fake.ClearFaults()
	}
	if _, err := md.Fundamentals(ctx, sdk.Credentials{}, "not a ticker"); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Errorf("bad ticker: %v", err)
	}
	if _, err := md.Usage(ctx, sdk.Credentials{APIKey: "wrong"}); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("wrong tenant key: %v", err)
	}
	if _, err := md.Splits(ctx, sdk.Credentials{APIKey: tenant}, "AAPL.US", "", ""); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if got := reqs[len(reqs)-1].Query.Get("api_token"); got != tenant {
		t.Errorf("the tenant's key did not reach EODHD (got a different key)")
	}
	h.Close()
	if !strings.Contains(logs.String(), "/real-time/BHP.AU") {
		t.Fatalf("the plugin's request log did not reach the host log:\n%s", logs.String())
	}
	for _, s := range []string{key, tenant} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("host log holds a key")
		}
	}
}
