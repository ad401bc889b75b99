package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/sdk"
)

// Authenticator turns a bearer token into a principal; *tenant.Service is
// one.
type Authenticator interface {
	Authenticate(ctx context.Context, bearer string) (tenant.Principal, error)
}

// DefaultPublicRoutes are served without authentication: a load balancer
// probes them without a key.
var DefaultPublicRoutes = []string{"/api/health", "/api/ready"}

// AnyScope, as a route's required scope, admits every authenticated
// principal whatever its scopes.
const AnyScope tenant.Scope = ""

// defaultRouteScopes are the routes whose scope is not the method's.
var defaultRouteScopes = map[string]tenant.Scope{"/api/whoami": AnyScope}

// AccessOptions configure Protect.
type AccessOptions struct {
	// Personal turns authentication off: every request acts for the one
	// implicit tenant (PersonalTenant, store.DefaultPersonalTenant when
	// empty) with every scope.
	Personal       bool
	PersonalTenant string
	// Auth authenticates bearer tokens; required unless Personal.
	Auth Authenticator
	// Limiter, when set, limits each API key's request rate; each request
	// counts against the budget of the scope it needs (see RequiredScope
	// and Scopes).
	Limiter tenant.Limiter
	// Audit, when set, records every authenticated request.
	Audit *tenant.AuditLog
	// Public lists route templates served without authentication;
	// DefaultPublicRoutes when nil.
	Public []string
	// Scopes maps route templates to the scope they require, overriding
	// the rule (see RequiredScope); an MCP endpoint, all POSTs, might map to
	// tenant.ScopeRead and check write per tool.
	Scopes map[string]tenant.Scope
	// ResourceMetadata, when set, is the URL of the RFC 9728 protected
	// resource metadata, named in every Bearer challenge as MCP clients
	// expect.
	ResourceMetadata string
	Logger           hclog.Logger
}

// accessKey keys the request context values set here; unexported, so no
// other package can set or replace them.
type accessKey int

const (
	ctxPrincipal accessKey = iota
	ctxRequestID
)

// PrincipalFrom returns the principal the request was authenticated as.
// It is the only way a handler learns the request's tenant: no header,
// query parameter or body field selects a tenant.
func PrincipalFrom(ctx context.Context) (tenant.Principal, bool) {
	p, ok := ctx.Value(ctxPrincipal).(tenant.Principal)
	return p, ok
}

// RequestIDFrom returns the request's id, also sent as X-Request-ID.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}

// RequiredScope is the scope a request needs: admin for everything under
// /api/admin, read for GET, HEAD and OPTIONS, write for every other method.
// Deciding by route and method means no handler can forget the check.
func RequiredScope(method, template string) tenant.Scope {
	if template == "/api/admin" || strings.HasPrefix(template, "/api/admin/") {
		return tenant.ScopeAdmin
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return tenant.ScopeRead
	}
	return tenant.ScopeWrite
}

type access struct {
	o      AccessOptions
	public map[string]bool
	scopes map[string]tenant.Scope
	log    hclog.Logger
}

// Protect puts authentication, scope checks, per-key rate limits and the
// audit log in front of every route of r, and returns the handler to serve,
// which also gives every response an X-Request-ID header. Call it after
// all routes are registered or before: the checks run for each matched
// route (unmatched paths answer 404 without them).
func Protect(r *mux.Router, o AccessOptions) (http.Handler, error) {
	if !o.Personal && o.Auth == nil {
		return nil, errors.New("api: AccessOptions.Auth is required unless Personal")
	}
	if o.PersonalTenant == "" {
		o.PersonalTenant = store.DefaultPersonalTenant
	}
	if o.Public == nil {
		o.Public = DefaultPublicRoutes
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	a := &access{o: o, public: map[string]bool{}, scopes: map[string]tenant.Scope{}, log: o.Logger.Named("access")}
	for _, p := range o.Public {
		a.public[p] = true
	}
	for k, v := range defaultRouteScopes {
		a.scopes[k] = v
	}
	for k, v := range o.Scopes {
		a.scopes[k] = v
	}
	r.Use(a.middleware)
	return requestIDs(r), nil
}

// requestIDs gives each request a fresh random id, in its context and in
// the X-Request-ID response header. A client's own X-Request-ID is not
// trusted: the id must identify the request in the audit log.
func requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxRequestID, id)))
	})
}

// challenge sets WWW-Authenticate: a Bearer challenge with the realm, the
// resource metadata URL when configured, and params.
func (a *access) challenge(w http.ResponseWriter, params string) {
	c := `Bearer realm="vire"`
	if a.o.ResourceMetadata != "" {
		c += fmt.Sprintf(`, resource_metadata=%q`, a.o.ResourceMetadata)
	}
	if params != "" {
		c += ", " + params
	}
	w.Header().Set("WWW-Authenticate", c)
}

func (a *access) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tmpl := ""
		if route := mux.CurrentRoute(r); route != nil {
			tmpl, _ = route.GetPathTemplate()
		}
		if a.public[tmpl] {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		p, ok := a.authenticate(w, r, tmpl)
		if !ok {
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxPrincipal, p))
		if a.o.Audit != nil {
			if err := a.o.Audit.Admit(p.TenantID); err != nil {
				a.log.Error("refusing a request: its audit record could not be kept", "tenant", p.TenantID, "error", err)
				w.Header().Set("Retry-After", "5")
				WriteError(w, http.StatusServiceUnavailable, "audit_unavailable", "the audit log cannot be written at the moment; try again shortly", nil)
				return
			}
		}
		rec := &statusRecorder{ResponseWriter: w}
		if a.o.Audit != nil {
			// Deferred so that a handler that panics (net/http recovers it)
			// is audited too, as a 500.
			defer func() {
				v := recover()
				a.record(r, p, tmpl, start, rec.status, v != nil)
				if v != nil {
					panic(v)
				}
			}()
		}
		a.authorize(rec, r, p, tmpl, next)
	})
}

// record appends the request's audit record.
func (a *access) record(r *http.Request, p tenant.Principal, tmpl string, start time.Time, status int, panicked bool) {
	switch {
	case panicked:
		status = http.StatusInternalServerError
	case status == 0:
		status = http.StatusOK
	}
	err := a.o.Audit.Append(r.Context(), p.TenantID, tenant.Record{
		Time: start.UTC(), KeyID: p.KeyID, Method: r.Method, Route: tmpl, Status: status,
		LatencyUS: time.Since(start).Microseconds(), RequestID: RequestIDFrom(r.Context()),
	})
	if err != nil {
		a.log.Error("audit record not written", "tenant", p.TenantID, "request_id", RequestIDFrom(r.Context()), "error", err)
	}
}

// authenticate answers 401 or 403 itself when the request has no valid
// principal.
func (a *access) authenticate(w http.ResponseWriter, r *http.Request, tmpl string) (tenant.Principal, bool) {
	if a.o.Personal {
		return tenant.Principal{TenantID: a.o.PersonalTenant, Scopes: slices.Clone(tenant.AllScopes)}, true
	}
	token, present := bearer(r)
	p, err := a.o.Auth.Authenticate(r.Context(), token)
	if err == nil {
		return p, true
	}
	reqID := RequestIDFrom(r.Context())
	var ae *tenant.AuthError
	switch {
	case errors.As(err, &ae):
		a.log.Debug("unauthenticated request", "route", tmpl, "reason", ae.Reason, "request_id", reqID)
		if !present {
			a.challenge(w, "")
			WriteError(w, http.StatusUnauthorized, "unauthenticated", "this endpoint needs an API key: send Authorization: Bearer <key>", nil)
		} else {
			a.challenge(w, fmt.Sprintf(`error="invalid_token", error_description=%q`, ae.Reason))
			WriteError(w, http.StatusUnauthorized, "invalid_token", strings.TrimPrefix(ae.Message, "tenant: "), map[string]string{"reason": ae.Reason})
		}
	case errors.Is(err, tenant.ErrSuspended):
		a.log.Info("request of a suspended tenant", "route", tmpl, "request_id", reqID)
		WriteError(w, http.StatusForbidden, "tenant_suspended", "the tenant of this API key is suspended; ask the operator", nil)
	default:
		a.log.Error("cannot authenticate a request", "route", tmpl, "request_id", reqID, "error", err)
		w.Header().Set("Retry-After", "5")
		WriteError(w, http.StatusServiceUnavailable, "auth_unavailable", "API keys cannot be checked at the moment; try again shortly", nil)
	}
	return tenant.Principal{}, false
}

// bearer returns the token of an "Authorization: Bearer <token>" header
// and whether an Authorization header was sent at all. A header of another
// scheme yields a token that will not parse.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "-", true
	}
	token = strings.TrimSpace(token)
	if token == "" {
		token = "-"
	}
	return token, true
}

// authorize checks the scope and the rate limit, then serves.
func (a *access) authorize(w http.ResponseWriter, r *http.Request, p tenant.Principal, tmpl string, next http.Handler) {
	need, ok := a.scopes[tmpl]
	if !ok {
		need = RequiredScope(r.Method, tmpl)
	}
	if need != AnyScope && !p.Has(need) {
		a.challenge(w, fmt.Sprintf(`error="insufficient_scope", scope=%q`, need))
		WriteError(w, http.StatusForbidden, "insufficient_scope", fmt.Sprintf("this API key lacks the %q scope this request needs", need), map[string]any{"required_scope": need, "scopes": p.Scopes})
		return
	}
	if a.o.Limiter != nil && p.KeyID != "" {
		d, err := a.o.Limiter.Allow(r.Context(), p.KeyID, need)
		switch {
		case err != nil:
			a.log.Warn("rate limit not checked", "key_id", p.KeyID, "error", err)
		case !d.Allowed:
			secs := max(1, int(math.Ceil(d.RetryAfter.Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
			w.Header().Set("X-RateLimit-Remaining", "0")
			WriteError(w, http.StatusTooManyRequests, "rate_limited", limitedMessage(d, secs), map[string]any{"retry_after_seconds": secs, "limit_per_minute": d.Limit})
			return
		case d.Limit > 0: // an unlimited budget has nothing to report
			w.Header().Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
			w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
		}
	}
	next.ServeHTTP(w, r)
}

// limitedMessage words a 429: a scope with a budget of its own is named,
// so the client knows that other requests may still go ahead.
func limitedMessage(d tenant.Decision, secs int) string {
	if d.Scope != "" {
		return fmt.Sprintf("%s requests on this API key are limited to %d a minute; retry in %d s", d.Scope, d.Limit, secs)
	}
	return fmt.Sprintf("this API key made too many requests; retry in %d s", secs)
}

// statusRecorder notes the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (server-sent events) flush through.
func (s *statusRecorder) Flush() {
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// serviceError answers with the status a service error calls for. Errors
// of unknown kind are logged and answered without detail.
func serviceError(w http.ResponseWriter, r *http.Request, log hclog.Logger, err error) {
	msg := strings.TrimPrefix(err.Error(), "tenant: ")
	switch {
	case errors.Is(err, tenant.ErrForbidden):
		WriteError(w, http.StatusForbidden, "forbidden", msg, nil)
	case errors.Is(err, sdk.ErrNotFound):
		WriteError(w, http.StatusNotFound, "not_found", msg, nil)
	case errors.Is(err, sdk.ErrInvalidArgument):
		WriteError(w, http.StatusBadRequest, "invalid_argument", msg, nil)
	case errors.Is(err, tenant.ErrExists), errors.Is(err, sdk.ErrPrecondition):
		WriteError(w, http.StatusConflict, "conflict", msg, nil)
	case errors.Is(err, sdk.ErrUnsupported):
		WriteError(w, http.StatusBadRequest, "unsupported", msg, nil)
	case errors.Is(err, sdk.ErrUnavailable):
		log.Error("request failed", "request_id", RequestIDFrom(r.Context()), "error", err)
		w.Header().Set("Retry-After", "5")
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "a component is unavailable; try again shortly", nil)
	default:
		log.Error("request failed", "request_id", RequestIDFrom(r.Context()), "error", err)
		WriteError(w, http.StatusInternalServerError, "internal", "internal error; the server log has details under request id "+RequestIDFrom(r.Context()), nil)
	}
}
