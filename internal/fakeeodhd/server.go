// Package fakeeodhd is a local HTTP server that speaks EOD Historical
// Data's API the way the real one does, for tests on machines that cannot
// reach eodhd.com. It reproduces the documented request and reply shapes,
// awkward parts included:
//
//   - api_token in the query is the only authentication; a wrong or
//     missing token answers the plain-text body "Unauthenticated" with 401
//     (or 403, configurable).
//   - Endpoints that default to CSV (eod, real-time, eod-bulk-last-day,
//     div, splits, exchange-symbol-list) answer CSV unless fmt=json is sent.
//   - The AU bulk endpoint sends prices and volumes as strings, and some
//     fields hold "N/A", "", null or "NaN".
//   - /real-time answers an object for one ticker and an array for several;
//     US codes come back without their exchange suffix, AU codes with it;
//     unknown tickers answer "NA" values.
//   - X-RateLimit-Limit and X-RateLimit-Remaining headers; more than
//     PerMinute requests in a minute answer 429 with Retry-After; a used-up
//     daily allowance (counted with EODHD's per-endpoint costs) answers 402.
//   - Faults (402, 429, 404, 5xx) can be injected per endpoint, and every
//     request is counted and recorded so tests can assert batching.
//
// Prices are generated deterministically: the same ticker and date always
// give the same bar. AAPL.US has a 4-for-1 split on 2020-08-31, before which
// closes are as traded and adjusted_close is split-adjusted.
package fakeeodhd

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Endpoint names, as the first path element under /api.
const (
	EOD          = "eod"
	RealTime     = "real-time"
	Bulk         = "eod-bulk-last-day"
	Fundamentals = "fundamentals"
	Dividends    = "div"
	Splits       = "splits"
	Search       = "search"
	Symbols      = "exchange-symbol-list"
	User         = "internal-user"
)

// csvDefault lists the endpoints that answer CSV unless asked for JSON.
var csvDefault = map[string]bool{EOD: true, RealTime: true, Bulk: true, Dividends: true, Splits: true, Symbols: true}

// Options configure a Server.
type Options struct {
	// Tokens are the accepted api_token values. At least one is required.
	Tokens []string
	// UnauthorizedStatus is the status of a bad-token reply: 401 (the
	// default) or 403.
	UnauthorizedStatus int
	// PerMinute is the per-minute request limit; 0 means EODHD's 1,000 and
	// a negative value disables it.
	PerMinute int
	// DailyLimit is the daily call allowance; 0 means 100,000.
	DailyLimit int
	// Today is the last date with data (YYYY-MM-DD); "" means the current
	// UTC date.
	Today string
	// ExtraTickers adds plain listings (CODE.AU or CODE.US) with generated
	// data to the built-in ones.
	ExtraTickers []string
	// Now is the clock of the per-minute window; nil means time.Now.
	Now func() time.Time
}

// Fault makes the server answer requests with an error status.
type Fault struct {
	// Endpoint limits the fault to one endpoint; "" hits every endpoint.
	Endpoint string
	// Status is the HTTP status to answer: 402, 404, 429, 500, 503 ...
	Status int
	// RetryAfter is sent as the Retry-After header when not "".
	RetryAfter string
	// Times is how many requests the fault answers; 0 means until
	// ClearFaults.
	Times int
}

// Request is one request the server received.
type Request struct {
	Endpoint string
	// Arg is the unescaped path element after the endpoint ("BHP.AU").
	Arg   string
	Query url.Values
}

// Server is a running fake EODHD.
type Server struct {
	// URL is the API root to configure as base_url (it ends in /api).
	URL string

	opts       Options
	srv        *httptest.Server
	today      string
	securities map[string]*Security // by upper-case ticker

	mu       sync.Mutex
	calls    map[string]int
	requests []Request
	faults   []*Fault
	used     int // daily allowance spent
	window   time.Time
	inWindow int
}

// New starts a server on loopback. Close it when done.
func New(o Options) *Server {
	if len(o.Tokens) == 0 {
		panic("fakeeodhd: Options.Tokens is empty")
	}
	if o.UnauthorizedStatus == 0 {
		o.UnauthorizedStatus = http.StatusUnauthorized
	}
	if o.PerMinute == 0 {
		o.PerMinute = 1000
	}
	if o.DailyLimit == 0 {
		o.DailyLimit = 100000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{opts: o, today: o.Today, securities: map[string]*Security{}, calls: map[string]int{}}
	if s.today == "" {
		s.today = o.Now().UTC().Format(time.DateOnly)
	}
	for _, sec := range builtinSecurities() {
		s.securities[strings.ToUpper(sec.Ticker())] = sec.prepare()
	}
	for _, t := range o.ExtraTickers {
		if _, ok := s.securities[strings.ToUpper(t)]; !ok {
			s.securities[strings.ToUpper(t)] = extraSecurity(t).prepare()
		}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/api"
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Today is the last date with data.
func (s *Server) Today() string { return s.today }

// Security returns a known listing, for tests that compare replies with
// the server's data.
func (s *Server) Security(ticker string) (*Security, bool) {
	sec, ok := s.securities[strings.ToUpper(ticker)]
	return sec, ok
}

// Tickers lists every known ticker, sorted.
func (s *Server) Tickers() []string {
	var out []string
	for _, sec := range sortedSecurities(s.securities) {
		out = append(out, sec.Ticker())
	}
	return out
}

// Inject adds a fault. Faults are checked in the order added.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Calls returns how many requests reached an endpoint ("" for all).
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if endpoint == "" {
		n := 0
		for _, c := range s.calls {
			n += c
		}
		return n
	}
	return s.calls[endpoint]
}

// Requests returns every request received, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ResetCounts forgets the requests counted so far (not the allowance used).
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.requests = nil
}

// SetUsed sets how much of the daily allowance is spent.
func (s *Server) SetUsed(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = n
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok || r.Method != http.MethodGet {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	endpoint, arg, _ := strings.Cut(rest, "/")
	q := r.URL.Query()
	s.mu.Lock()
	s.calls[endpoint]++
	s.requests = append(s.requests, Request{Endpoint: endpoint, Arg: arg, Query: q})
	fault := s.takeFault(endpoint)
	s.mu.Unlock()

	if !slices.Contains(s.opts.Tokens, q.Get("api_token")) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(s.opts.UnauthorizedStatus)
		fmt.Fprint(w, "Unauthenticated")
		return
	}
	if fault != nil {
		s.writeFault(w, *fault)
		return
	}
	if !s.admit(w, endpoint, q) {
		return
	}
	h, known := s.handlers()[endpoint]
	if !known {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	reply, status := h(arg, q)
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, reply)
		return
	}
	if csvDefault[endpoint] && q.Get("fmt") != "json" {
		w.Header().Set("Content-Type", "text/csv")
		writeCSV(w, reply)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, reply)
}

// takeFault returns the first fault for endpoint, spending one of its
// uses. s.mu is held.
func (s *Server) takeFault(endpoint string) *Fault {
	for i, f := range s.faults {
		if f.Endpoint != "" && f.Endpoint != endpoint {
			continue
		}
		out := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return &out
	}
	return nil
}

func (s *Server) writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := map[int]string{
		http.StatusPaymentRequired:     "Payment Required: you have exceeded your daily API requests limit",
		http.StatusNotFound:            "Ticker Not Found.",
		http.StatusTooManyRequests:     "Too Many Requests",
		http.StatusInternalServerError: "Internal Server Error",
		http.StatusBadGateway:          "<html><body><h1>502 Bad Gateway</h1></body></html>",
		http.StatusServiceUnavailable:  "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
	}[f.Status]
	if body == "" {
		body = http.StatusText(f.Status)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(f.Status)
	fmt.Fprint(w, body)
}

// cost is what a request spends of the daily allowance.
func cost(endpoint string, q url.Values) int {
	switch endpoint {
	case Fundamentals:
		return 10
	case Bulk:
		if s := q.Get("symbols"); s != "" {
			return 100 + len(strings.Split(s, ","))
		}
		return 100
	case RealTime:
		n := 1
		if s := q.Get("s"); s != "" {
			n += len(strings.Split(s, ","))
		}
		return n
	}
	return 1
}

// admit applies the per-minute and daily limits and sets the rate-limit
// headers. It answers the request itself when it refuses it.
func (s *Server) admit(w http.ResponseWriter, endpoint string, q url.Values) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if now.Sub(s.window) >= time.Minute {
		s.window, s.inWindow = now, 0
	}
	if s.opts.PerMinute > 0 {
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.opts.PerMinute))
		if s.inWindow >= s.opts.PerMinute {
			w.Header().Set("X-RateLimit-Remaining", "0")
			wait := s.window.Add(time.Minute).Sub(now)
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, "Too Many Requests")
			return false
		}
		s.inWindow++
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(s.opts.PerMinute-s.inWindow))
	}
	c := cost(endpoint, q)
	if s.used+c > s.opts.DailyLimit {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusPaymentRequired)
		fmt.Fprint(w, "Payment Required: you have exceeded your daily API requests limit")
		return false
	}
	s.used += c
	return true
}

// Used reports how much of the daily allowance is spent.
func (s *Server) Used() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}
