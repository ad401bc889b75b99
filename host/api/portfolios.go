package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/sdk"
)

// MaxBodyBytes bounds every request body of the portfolio endpoints.
const MaxBodyBytes = 1 << 20

// portfolios serves a portfolio's strategy, plan and watchlist.
type portfolios struct {
	svc *documents.Service
	log hclog.Logger
}

// registerPortfolioRoutes adds the /api/portfolios/{name}/... endpoints.
// Without Options.Documents they answer 503.
func registerPortfolioRoutes(api *mux.Router, o Options) {
	svc := o.Documents
	if svc == nil {
		svc = documents.New(nil, documents.Options{})
	}
	h := &portfolios{svc: svc, log: o.Logger.Named("portfolios")}
	const (
		get, put, post, patch, del = http.MethodGet, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete
	)
	route := func(path, method string, fn handlerFunc) {
		api.Handle("/portfolios/{name}"+path, h.handle(RequiredScope(method, "/api/portfolios/{name}"+path), fn)).Methods(method)
	}

	st := h.svc.Strategies
	route("/strategy", get, getDoc(st.Get, strategyMeta))
	route("/strategy", put, withBody(nil, h.putStrategy))
	route("/strategy", del, deleteDoc(st.Delete))
	historyRoutes(route, "/strategy", st, strategyMeta)

	pl := h.svc.Plans
	route("/plan", get, getDoc(pl.Get, planMeta))
	route("/plan", del, deleteDoc(pl.Delete))
	route("/plan/items", post, withBody(documents.PlanItemReadOnly, h.addPlanItem))
	route("/plan/items/{id}", get, getItem("id", pl.GetItem))
	route("/plan/items/{id}", patch, withBody(documents.PlanItemReadOnly, h.patchPlanItem))
	route("/plan/items/{id}", del, deleteItem("id", pl.DeleteItem))
	historyRoutes(route, "/plan", pl, planMeta)

	wl := h.svc.Watchlists
	route("/watchlist", get, getDoc(wl.Get, watchlistMeta))
	route("/watchlist", del, deleteDoc(wl.Delete))
	route("/watchlist/items/{ticker}", get, getItem("ticker", wl.GetItem))
	route("/watchlist/items/{ticker}", put, withBody(documents.WatchItemReadOnly, h.putWatchItem))
	route("/watchlist/items/{ticker}", del, deleteItem("ticker", wl.DeleteItem))
	historyRoutes(route, "/watchlist", wl, watchlistMeta)
}

// The documents embed their Meta; generic handlers reach it through these.
func strategyMeta(d documents.StrategyDoc) documents.Meta   { return d.Meta }
func planMeta(d documents.PlanDoc) documents.Meta           { return d.Meta }
func watchlistMeta(d documents.WatchlistDoc) documents.Meta { return d.Meta }

// handlerFunc serves one request for an authenticated caller; a returned
// error becomes the error response.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c documents.Caller) error

// handle runs fn for the request's principal. Protect authenticates and
// checks scopes before any handler runs; the checks here make a handler
// fail closed if it is ever served without Protect (401) or under a scope
// configuration that would let a key without the scope through (403).
func (h *portfolios) handle(scope tenant.Scope, fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p, ok := PrincipalFrom(r.Context())
		if !ok || p.TenantID == "" {
			WriteError(w, http.StatusUnauthorized, "unauthenticated", "authentication required", nil)
			return
		}
		if !p.Has(scope) {
			WriteError(w, http.StatusForbidden, "insufficient_scope", fmt.Sprintf("this API key lacks the %q scope this request needs", scope), map[string]any{"required_scope": scope, "scopes": p.Scopes})
			return
		}
		if err := fn(w, r, documents.Caller{Tenant: p.TenantID, KeyID: p.KeyID}); err != nil {
			h.writeErr(w, r, err)
		}
	})
}

// apiError is an error response decided by the REST layer itself.
type apiError struct {
	status        int
	code, message string
	details       any
}

func (e *apiError) Error() string { return e.message }

func badRequest(code, message string, details any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: message, details: details}
}

func fieldError(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return badRequest("validation_failed", field+": "+msg, []documents.FieldError{{Field: field, Message: msg}})
}

// writeErr maps service errors to statuses: validation 400, not found 404,
// conflicts 409, lost conditions 412.
func (h *portfolios) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var ve *documents.ValidationError
	var ce *documents.ConflictError
	switch {
	case errors.As(err, &ae):
		WriteError(w, ae.status, ae.code, ae.message, ae.details)
	case errors.As(err, &ve):
		WriteError(w, http.StatusBadRequest, "validation_failed", ve.Error(), ve.Fields)
	case errors.As(err, &ce):
		WriteError(w, http.StatusConflict, ce.Code, ce.Message, ce.Details)
	case errors.Is(err, sdk.ErrNotFound):
		WriteError(w, http.StatusNotFound, "not_found", trimKind(err, sdk.ErrNotFound), nil)
	case errors.Is(err, sdk.ErrPrecondition):
		WriteError(w, http.StatusPreconditionFailed, "precondition_failed", trimKind(err, sdk.ErrPrecondition), nil)
	case errors.Is(err, sdk.ErrUnauthorized):
		WriteError(w, http.StatusUnauthorized, "unauthenticated", "authentication required", nil)
	case errors.Is(err, sdk.ErrInvalidArgument):
		WriteError(w, http.StatusBadRequest, "invalid_request", err.Error(), nil)
	case errors.Is(err, sdk.ErrUnavailable):
		h.log.Warn("storage unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
		WriteError(w, http.StatusServiceUnavailable, "unavailable", "the document store is unavailable; retry later", nil)
	default:
		h.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		WriteError(w, http.StatusInternalServerError, "internal", "internal error", nil)
	}
}

// trimKind drops the sentinel's text from the end of a message.
func trimKind(err, kind error) string {
	return strings.TrimSuffix(err.Error(), ": "+kind.Error())
}

// decodeBody reads a JSON object into dst (a patch struct): at most
// MaxBodyBytes, no unknown fields, nothing after the object. readOnly names
// fields the server sets, refused with their own message.
func decodeBody(w http.ResponseWriter, r *http.Request, dst any, readOnly []string) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			return &apiError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
				message: fmt.Sprintf("send application/json or application/merge-patch+json, not %q", ct)}
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: "payload_too_large",
			message: fmt.Sprintf("the request body is over the %d-byte limit", MaxBodyBytes)}
	}
	if err != nil {
		return badRequest("invalid_request", "reading the request body failed", nil)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return badRequest("invalid_json", "the request body is empty; send a JSON object", nil)
	}
	if trimmed[0] != '{' {
		return badRequest("invalid_json", "the request body must be a JSON object", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, readOnly)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid_json", "the request body holds more than one JSON value", nil)
	}
	return nil
}

func jsonError(err error, readOnly []string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest("invalid_json", fmt.Sprintf("malformed JSON at byte %d: %v", syn.Offset, syn), map[string]int64{"offset": syn.Offset})
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return fieldError(field, "want %s, got %s", jsonTypeName(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid_json", "the JSON body ends too early", nil)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, err := strconv.Unquote(name); err == nil {
			if slices.Contains(readOnly, f) {
				return fieldError(f, "is set by the server and cannot be changed")
			}
			return fieldError(f, "unknown field")
		}
	}
	return badRequest("invalid_json", err.Error(), nil)
}

// jsonTypeName names a Go type as the JSON a client should send.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "another type"
}

// writeOpts reads If-Match and If-None-Match. Only "*" or a single ETag is
// supported; a weak ETag never matches (If-Match compares strongly).
func writeOpts(r *http.Request) (documents.WriteOpts, error) {
	var o documents.WriteOpts
	for _, hd := range []struct {
		name string
		dst  *string
	}{{"If-Match", &o.IfMatch}, {"If-None-Match", &o.IfNoneMatch}} {
		v := strings.TrimSpace(r.Header.Get(hd.name))
		if v == "" {
			continue
		}
		if strings.Contains(v, ",") {
			return o, fieldError(hd.name, "send a single ETag or *")
		}
		if v != "*" && !strings.HasPrefix(v, "W/") {
			v = strings.Trim(v, `"`)
		}
		*hd.dst = v
	}
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return o, fieldError("If-None-Match", `only "*" is supported`)
	}
	return o, nil
}

func setETag(w http.ResponseWriter, m documents.Meta) {
	if m.ETag != "" {
		w.Header().Set("ETag", strconv.Quote(m.ETag))
	}
}

func name(r *http.Request) string { return mux.Vars(r)["name"] }

func itemURL(r *http.Request, kind, id string) string {
	return "/api/portfolios/" + url.PathEscape(name(r)) + "/" + kind + "/items/" + url.PathEscape(id)
}

func statusFor(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// respond writes v as JSON with status and the ETag of the version m.
func respond(w http.ResponseWriter, m documents.Meta, status int, v any) error {
	setETag(w, m)
	WriteJSON(w, status, v)
	return nil
}

// getDoc: GET of a whole document, with its ETag.
func getDoc[D any](get func(ctx context.Context, c documents.Caller, portfolio string) (D, error), meta func(D) documents.Meta) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c documents.Caller) error {
		d, err := get(r.Context(), c, name(r))
		if err != nil {
			return err
		}
		return respond(w, meta(d), http.StatusOK, d)
	}
}

// getItem: GET of one item, named by the path variable key, with its
// document's ETag.
func getItem[T any](key string, get func(ctx context.Context, c documents.Caller, portfolio, id string) (T, documents.Meta, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c documents.Caller) error {
		it, m, err := get(r.Context(), c, name(r), mux.Vars(r)[key])
		if err != nil {
			return err
		}
		return respond(w, m, http.StatusOK, it)
	}
}

// writeFunc serves a write once its preconditions and body p are read.
type writeFunc[P any] func(w http.ResponseWriter, r *http.Request, c documents.Caller, p P, o documents.WriteOpts) error

// withBody reads If-Match/If-None-Match, then the JSON body (readOnly as
// for decodeBody), before fn runs; either failing answers first.
func withBody[P any](readOnly []string, fn writeFunc[P]) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c documents.Caller) error {
		o, err := writeOpts(r)
		if err != nil {
			return err
		}
		var p P
		if err := decodeBody(w, r, &p, readOnly); err != nil {
			return err
		}
		return fn(w, r, c, p, o)
	}
}

// deleted answers a DELETE: 204 with the deletion version's ETag.
func deleted(del func(r *http.Request, c documents.Caller, o documents.WriteOpts) (documents.Meta, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c documents.Caller) error {
		o, err := writeOpts(r)
		if err != nil {
			return err
		}
		m, err := del(r, c, o)
		if err != nil {
			return err
		}
		setETag(w, m)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// deleteDoc: DELETE of a whole document.
func deleteDoc(del func(ctx context.Context, c documents.Caller, portfolio string, o documents.WriteOpts) (documents.Meta, error)) handlerFunc {
	return deleted(func(r *http.Request, c documents.Caller, o documents.WriteOpts) (documents.Meta, error) {
		return del(r.Context(), c, name(r), o)
	})
}

// deleteItem: DELETE of one item, named by the path variable key.
func deleteItem(key string, del func(ctx context.Context, c documents.Caller, portfolio, id string, o documents.WriteOpts) (documents.Meta, error)) handlerFunc {
	return deleted(func(r *http.Request, c documents.Caller, o documents.WriteOpts) (documents.Meta, error) {
		return del(r.Context(), c, name(r), mux.Vars(r)[key], o)
	})
}

// versioned is what a document service offers for its history; D is the
// document, V one retained version.
type versioned[D, V any] interface {
	History(ctx context.Context, c documents.Caller, portfolio string) (documents.History, error)
	Version(ctx context.Context, c documents.Caller, portfolio string, version int) (V, error)
	Restore(ctx context.Context, c documents.Caller, portfolio string, version int, o documents.WriteOpts) (D, error)
}

// historyRoutes adds <doc>/history, <doc>/history/{version} and
// <doc>/restore.
func historyRoutes[D, V any](route func(path, method string, fn handlerFunc), doc string, s versioned[D, V], meta func(D) documents.Meta) {
	route(doc+"/history", http.MethodGet, func(w http.ResponseWriter, r *http.Request, c documents.Caller) error {
		out, err := s.History(r.Context(), c, name(r))
		if err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, out)
		return nil
	})
	route(doc+"/history/{version}", http.MethodGet, func(w http.ResponseWriter, r *http.Request, c documents.Caller) error {
		v, err := strconv.Atoi(mux.Vars(r)["version"])
		if err != nil || v < 1 {
			return fieldError("version", "want a version number from the history (1 or more)")
		}
		out, err := s.Version(r.Context(), c, name(r), v)
		if err != nil {
			return err
		}
		WriteJSON(w, http.StatusOK, out)
		return nil
	})
	type restoreBody struct {
		Version *int `json:"version"`
	}
	route(doc+"/restore", http.MethodPost, withBody(nil, func(w http.ResponseWriter, r *http.Request, c documents.Caller, body restoreBody, o documents.WriteOpts) error {
		if body.Version == nil {
			return fieldError("version", "required: the version number to bring back")
		}
		d, err := s.Restore(r.Context(), c, name(r), *body.Version, o)
		if err != nil {
			return err
		}
		return respond(w, meta(d), http.StatusOK, d)
	}))
}

// putStrategy: PUT /api/portfolios/{name}/strategy, a merge patch.
func (h *portfolios) putStrategy(w http.ResponseWriter, r *http.Request, c documents.Caller, p documents.StrategyPatch, o documents.WriteOpts) error {
	d, created, err := h.svc.Strategies.Update(r.Context(), c, name(r), p, o)
	if err != nil {
		return err
	}
	return respond(w, d.Meta, statusFor(created), d)
}

// addPlanItem: POST /api/portfolios/{name}/plan/items; 201 with Location.
func (h *portfolios) addPlanItem(w http.ResponseWriter, r *http.Request, c documents.Caller, p documents.PlanItemPatch, o documents.WriteOpts) error {
	it, m, err := h.svc.Plans.AddItem(r.Context(), c, name(r), p, o)
	if err != nil {
		return err
	}
	w.Header().Set("Location", itemURL(r, "plan", it.ID))
	return respond(w, m, http.StatusCreated, it)
}

// patchPlanItem: PATCH /api/portfolios/{name}/plan/items/{id}, a merge patch.
func (h *portfolios) patchPlanItem(w http.ResponseWriter, r *http.Request, c documents.Caller, p documents.PlanItemPatch, o documents.WriteOpts) error {
	it, m, err := h.svc.Plans.UpdateItem(r.Context(), c, name(r), mux.Vars(r)["id"], p, o)
	if err != nil {
		return err
	}
	return respond(w, m, http.StatusOK, it)
}

// putWatchItem: PUT /api/portfolios/{name}/watchlist/items/{ticker}, a
// merge patch that creates the item when missing (201).
func (h *portfolios) putWatchItem(w http.ResponseWriter, r *http.Request, c documents.Caller, p documents.WatchItemPatch, o documents.WriteOpts) error {
	it, m, created, err := h.svc.Watchlists.PutItem(r.Context(), c, name(r), mux.Vars(r)["ticker"], p, o)
	if err != nil {
		return err
	}
	if created {
		w.Header().Set("Location", itemURL(r, "watchlist", it.Ticker))
	}
	return respond(w, m, statusFor(created), it)
}
