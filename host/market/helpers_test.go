package market

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/plugins/sources/eodhd"
	"github.com/vire-dev/vire/sdk"
)

const testKey = "market.test.key.51c"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(rfc3339 string) *clock {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		panic(err)
	}
	return &clock{t: t}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(rfc3339 string) {
	t, err := time.Parse(time.RFC3339, rfc3339)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// upstream is a reverse proxy in front of fake EODHD servers that can
// switch servers and misbehave the way EODHD sometimes does: answer a
// history with only its last bars, or with none.
type upstream struct {
	srv *httptest.Server

	mu     sync.Mutex
	target *fakeeodhd.Server
	keep   int // < 0: pass histories through; ≥ 0: keep only the last keep bars
}

func newUpstream(t *testing.T, target *fakeeodhd.Server) *upstream {
	u := &upstream{target: target, keep: -1}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

// URL is the API root to configure as base_url.
func (u *upstream) URL() string { return u.srv.URL + "/api" }

func (u *upstream) use(target *fakeeodhd.Server) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.target = target
}

// truncate makes history replies hold only their last n bars; -1 stops it.
func (u *upstream) truncate(n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.keep = n
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	target, keep := u.target, u.keep
	u.mu.Unlock()
	resp, err := http.Get(target.URL + strings.TrimPrefix(r.URL.Path, "/api") + "?" + r.URL.RawQuery)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if keep >= 0 && resp.StatusCode == http.StatusOK && strings.HasPrefix(r.URL.Path, "/api/eod/") {
		var bars []json.RawMessage
		if json.Unmarshal(body, &bars) == nil {
			bars = bars[max(0, len(bars)-keep):]
			body, _ = json.Marshal(bars)
		}
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body)
}

func newFake(t *testing.T, today string, extra ...string) *fakeeodhd.Server {
	f := fakeeodhd.New(fakeeodhd.Options{Tokens: []string{testKey}, Today: today, ExtraTickers: extra})
	t.Cleanup(f.Close)
	return f
}

// newSource returns the eodhd plugin, in-process, pointed at baseURL.
func newSource(t testing.TB, baseURL string) sdk.MarketData {
	src := eodhd.New(hclog.NewNullLogger())
	cfg, err := src.Schema().Complete(sdk.ConfigValue{"api_key": testKey, "base_url": baseURL, "max_retries": 0})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Configure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	return src
}

// newStore returns a document store over the file backend in dir.
func newStore(t testing.TB, dir string) *store.Store {
	b := file.New(nil)
	cfg, err := b.Schema().Complete(sdk.ConfigValue{"root": dir, "versions": 0, "fsync": false})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Configure(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	st, err := store.New(store.Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newService(t testing.TB, src sdk.MarketData, st *store.Store, c *clock) *Service {
	s, err := New(Options{Source: src, SourceName: "eodhd", Store: st, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storedHistory reads a ticker's history document straight from the store.
func storedHistory(t *testing.T, st *store.Store, ticker string) (doc[historyValue], bool) {
	t.Helper()
	var d doc[historyValue]
	_, err := st.Market().Get(t.Context(), kindEOD, ticker, &d)
	if err != nil {
		return d, false
	}
	return d, true
}
