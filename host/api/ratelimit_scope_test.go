package api

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vire-dev/vire/host/tenant"
)

// writesLimited is a key budget of 600 requests a minute with writes
// limited to 2 a minute of their own (burst min(60, 2) = 2), so nothing
// refills while a test runs.
var writesLimited = accessConfig{
	rate:   tenant.Rate{PerMinute: 600, Burst: 60},
	scopes: map[tenant.Scope]tenant.Rate{tenant.ScopeWrite: tenant.ScopeRate(2, 60)},
}

// TestScopeRateLimit: with writes limited to 2 a minute, a key's third
// write gets 429 naming the scope while its reads go on; another key
// writes as before.
func TestScopeRateLimit(t *testing.T) {
	e := newAccessEnv(t, writesLimited)
	k := e.newTenantKey(t, "alice", tenant.ScopeRead, tenant.ScopeWrite)
	other := e.newTenantKey(t, "bob", tenant.ScopeRead, tenant.ScopeWrite)
	for i := range 2 {
		r := e.call(t, "PUT", "/api/test/items/a", k.Key, nil)
		if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "2" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(1-i) {
			t.Fatalf("write %d: %d, limit %q, remaining %q", i, r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
	}
	r := e.call(t, "PUT", "/api/test/items/a", k.Key, nil)
	if r.status != 429 || r.errCode() != "rate_limited" {
		t.Fatalf("third write: %d %s", r.status, r.raw)
	}
	// One write every 30 s, and the burst of two is spent.
	if got := r.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}
	if r.header.Get("X-RateLimit-Limit") != "2" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("headers %v", r.header)
	}
	e429 := r.body["error"].(map[string]any)
	if msg := e429["message"]; msg != "write requests on this API key are limited to 2 a minute; retry in 30 s" {
		t.Errorf("message %q", msg)
	}
	details := e429["details"].(map[string]any)
	if len(details) != 2 || details["retry_after_seconds"] != float64(30) || details["limit_per_minute"] != float64(2) {
		t.Errorf("details %v", details)
	}

	// Reads, and requests that need no particular scope, spend the default
	// budget, which the writes left whole.
	for i := range 20 {
		r := e.call(t, "GET", "/api/test/items/a", k.Key, nil)
		if r.status != 200 || r.header.Get("X-RateLimit-Limit") != "600" || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(59-i) {
			t.Fatalf("read %d after the writes ran out: %d, limit %q, remaining %q", i, r.status, r.header.Get("X-RateLimit-Limit"), r.header.Get("X-RateLimit-Remaining"))
		}
	}
	if r := e.call(t, "GET", "/api/whoami", k.Key, nil); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "39" {
		t.Fatalf("whoami: %d, remaining %q", r.status, r.header.Get("X-RateLimit-Remaining"))
	}
	if r := e.call(t, "PUT", "/api/test/items/b", k.Key, nil); r.status != 429 {
		t.Fatalf("a write after the reads: %d", r.status)
	}

	// Another key has budgets of its own.
	for i := range 2 {
		if r := e.call(t, "PUT", "/api/test/items/a", other.Key, nil); r.status != 200 {
			t.Fatalf("another key's write %d: %d %s", i, r.status, r.raw)
		}
	}
}

// TestDefaultBudgetMessage: the key's default budget keeps its 429 wording,
// and a scope whose own rate is 0 is not limited at all.
func TestDefaultBudgetMessage(t *testing.T) {
	e := newAccessEnv(t, accessConfig{
		rate:   tenant.Rate{PerMinute: 60, Burst: 2},
		scopes: map[tenant.Scope]tenant.Rate{tenant.ScopeAdmin: tenant.ScopeRate(0, 2)},
	})
	k := e.newTenantKey(t, "alice", tenant.ScopeRead, tenant.ScopeAdmin)
	for range 2 {
		if r := e.call(t, "GET", "/api/test/items/a", k.Key, nil); r.status != 200 {
			t.Fatalf("read: %d", r.status)
		}
	}
	r := e.call(t, "GET", "/api/test/items/a", k.Key, nil)
	if r.status != 429 {
		t.Fatalf("third read: %d %s", r.status, r.raw)
	}
	if msg := r.body["error"].(map[string]any)["message"]; msg != "this API key made too many requests; retry in 1 s" {
		t.Errorf("message %q", msg)
	}
	for i := range 10 {
		r := e.call(t, "GET", "/api/admin/keys", k.Key, nil)
		if r.status != 200 {
			t.Fatalf("admin request %d: %d %s", i, r.status, r.raw)
		}
		if h := r.header.Get("X-RateLimit-Limit"); h != "" {
			t.Fatalf("an unlimited scope reported X-RateLimit-Limit %q", h)
		}
	}
}

// TestTwoServersShareOneWriteBudget: two server instances over one file
// store, each with its own shared limiter, give a key one write budget
// between them, and reads on either go on.
func TestTwoServersShareOneWriteBudget(t *testing.T) {
	dir := t.TempDir()
	c := writesLimited
	c.dir, c.shared = dir, true
	a := newAccessEnv(t, c)
	b := newAccessEnv(t, c)
	k := a.newTenantKey(t, "alice", tenant.ScopeRead, tenant.ScopeWrite)
	servers := []*accessEnv{a, b}
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			switch r := servers[i%2].call(t, "PUT", "/api/test/items/a", k.Key, nil); r.status {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
				if msg := r.body["error"].(map[string]any)["message"]; msg != "write requests on this API key are limited to 2 a minute; retry in 30 s" {
					t.Errorf("message %q", msg)
				}
			default:
				t.Errorf("status %d: %s", r.status, r.raw)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 2 || limited.Load() != 10 {
		t.Fatalf("%d writes served, %d limited; want 2 and 10 across both servers", ok.Load(), limited.Load())
	}
	for i := range 10 {
		if r := servers[i%2].call(t, "GET", "/api/test/items/a", k.Key, nil); r.status != 200 {
			t.Fatalf("read %d: %d %s", i, r.status, r.raw)
		}
	}
	if logs := a.logs.String() + b.logs.String(); strings.Contains(logs, "limiting in this instance only") {
		t.Fatalf("a limiter fell back to local limiting:\n%s", logs)
	}
}
