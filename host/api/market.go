package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/sdk"
)

// Retry-After values for upstream trouble that says nothing more precise.
const (
	retryUnavailable = 30 * time.Second
	retryRateLimited = 60 * time.Second
)

// marketAPI serves /api/market: data every tenant shares, so handlers need
// the principal only for the read scope.
type marketAPI struct {
	svc *market.Service
	log hclog.Logger
	now func() time.Time
}

// registerMarketRoutes adds the /api/market endpoints. Without
// Options.Market they answer 503.
func registerMarketRoutes(api *mux.Router, o Options) {
	svc := o.Market
	if svc == nil {
		// A service without a source answers every call with
		// ErrUnavailable, saying how to configure one.
		svc, _ = market.New(market.Options{})
	}
	h := &marketAPI{svc: svc, log: o.Logger.Named("market"), now: time.Now}
	get := func(path string, fn func(*http.Request) (any, error)) {
		api.Handle("/market"+path, h.handle(fn)).Methods(http.MethodGet)
	}
	get("/quote/{ticker}", h.quote)
	get("/history/{ticker}", h.history)
	get("/fundamentals/{ticker}", h.fundamentals)
	get("/dividends/{ticker}", h.dividends)
	get("/search", h.search)
}

// handle checks the read scope (Protect has checked it already; this makes
// the handler fail closed without Protect) and writes fn's result or error.
func (h *marketAPI) handle(fn func(*http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFrom(r.Context())
		if !ok || p.TenantID == "" {
			WriteError(w, http.StatusUnauthorized, "unauthenticated", "authentication required", nil)
			return
		}
		if !p.Has(tenant.ScopeRead) {
			WriteError(w, http.StatusForbidden, "insufficient_scope", "this API key lacks the \"read\" scope this request needs",
				map[string]any{"required_scope": tenant.ScopeRead, "scopes": p.Scopes})
			return
		}
		v, err := fn(r)
		if err != nil {
			h.writeErr(w, r, err)
			return
		}
		// Shared data: caches may keep it briefly, but not across users.
		w.Header().Set("Cache-Control", "private, max-age=30")
		WriteJSON(w, http.StatusOK, v)
	})
}

func (h *marketAPI) quote(r *http.Request) (any, error) {
	return h.svc.Quote(r.Context(), mux.Vars(r)["ticker"])
}

func (h *marketAPI) history(r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "from", "to", "period"); err != nil {
		return nil, err
	}
	return h.svc.History(r.Context(), mux.Vars(r)["ticker"],
		sdk.HistoryQuery{From: q.Get("from"), To: q.Get("to"), Period: sdk.Period(q.Get("period"))})
}

func (h *marketAPI) fundamentals(r *http.Request) (any, error) {
	if err := onlyParams(r.URL.Query()); err != nil {
		return nil, err
	}
	return h.svc.Fundamentals(r.Context(), mux.Vars(r)["ticker"])
}

func (h *marketAPI) dividends(r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "from", "to"); err != nil {
		return nil, err
	}
	return h.svc.Dividends(r.Context(), mux.Vars(r)["ticker"], q.Get("from"), q.Get("to"))
}

func (h *marketAPI) search(r *http.Request) (any, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "q", "limit"); err != nil {
		return nil, err
	}
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > market.MaxSearchLimit {
			return nil, fmt.Errorf("%w: limit %q must be a whole number from 1 to %d", sdk.ErrInvalidArgument, clipText(s), market.MaxSearchLimit)
		}
		limit = n
	}
	return h.svc.Search(r.Context(), q.Get("q"), limit)
}

// onlyParams refuses query parameters a route does not take, and any
// given twice: a misspelt "form=" must not silently widen a range.
func onlyParams(q map[string][]string, allowed ...string) error {
	for k, v := range q {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		switch {
		case !known:
			return fmt.Errorf("%w: unknown query parameter %q (this endpoint takes %s)", sdk.ErrInvalidArgument, clipText(k), listOr(allowed))
		case len(v) > 1:
			return fmt.Errorf("%w: query parameter %q is given %d times", sdk.ErrInvalidArgument, k, len(v))
		}
	}
	return nil
}

func listOr(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// writeErr maps market errors to statuses. The client's mistakes are 400
// and 404; trouble with the upstream source is never the client's fault:
// quota and rate limits are 503 with Retry-After, a refused operator key
// is 502 with a message for the operator, never 401.
func (h *marketAPI) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var rl *sdk.RateLimitError
	logUpstream := func(level hclog.Level) {
		h.log.Log(level, "market data request failed", "path", r.URL.Path, "request_id", RequestIDFrom(r.Context()), "error", err)
	}
	switch {
	case errors.Is(err, sdk.ErrInvalidArgument):
		WriteError(w, http.StatusBadRequest, "invalid_argument", plainMessage(err, sdk.ErrInvalidArgument), nil)
	case errors.Is(err, sdk.ErrNotFound):
		WriteError(w, http.StatusNotFound, "not_found", plainMessage(err, sdk.ErrNotFound), nil)
	case errors.As(err, &rl), errors.Is(err, sdk.ErrRateLimited):
		logUpstream(hclog.Warn)
		wait := retryRateLimited
		if rl != nil && rl.RetryAfter > 0 {
			wait = rl.RetryAfter
		}
		retryAfter(w, wait)
		WriteError(w, http.StatusServiceUnavailable, "upstream_rate_limited",
			"the market data source is rate limiting this server; retry after the time in Retry-After", nil)
	case errors.Is(err, sdk.ErrQuotaExhausted):
		logUpstream(hclog.Warn)
		retryAfter(w, untilUTCMidnight(h.now()))
		WriteError(w, http.StatusServiceUnavailable, "upstream_quota_exhausted",
			"the market data source's daily allowance is used up; it renews daily (Retry-After estimates when)", nil)
	case errors.Is(err, sdk.ErrUnauthorized):
		logUpstream(hclog.Error)
		WriteError(w, http.StatusBadGateway, "upstream_unauthorized",
			"the market data source refused this server's credentials; the server's operator must check the api_key of the market source block", nil)
	case errors.Is(err, sdk.ErrUnavailable):
		logUpstream(hclog.Warn)
		retryAfter(w, retryUnavailable)
		WriteError(w, http.StatusServiceUnavailable, "upstream_unavailable",
			"market data is unavailable at the moment: "+plainMessage(err, sdk.ErrUnavailable), nil)
	case errors.Is(err, context.DeadlineExceeded):
		logUpstream(hclog.Warn)
		WriteError(w, http.StatusGatewayTimeout, "upstream_timeout", "the market data source did not answer in time", nil)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this.
		WriteError(w, http.StatusServiceUnavailable, "canceled", "request canceled", nil)
	default:
		logUpstream(hclog.Error)
		WriteError(w, http.StatusInternalServerError, "internal",
			"internal error; the server log has details under request id "+RequestIDFrom(r.Context()), nil)
	}
}

// plainMessage is err's text without its kind's name, which the error code
// already says, at either end.
func plainMessage(err, kind error) string {
	msg := strings.TrimSuffix(err.Error(), ": "+kind.Error())
	return strings.TrimPrefix(msg, kind.Error()+": ")
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(max(d, time.Second).Seconds()))))
}

// untilUTCMidnight estimates when a daily allowance renews: at the next
// midnight UTC.
func untilUTCMidnight(now time.Time) time.Duration {
	u := now.UTC()
	next := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
	return max(next.Sub(u), time.Minute)
}
