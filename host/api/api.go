// Package api is Vire's REST layer: thin gorilla/mux handlers over the host's
// services. Handlers decode, call a service and encode; they hold no business
// logic. Every error answers with one JSON shape:
// {"error": {"code": "...", "message": "...", "details": ...}}.
package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/host/pluginhost"
)

// Runtime is what the operational endpoints need from the running server.
type Runtime interface {
	// Ready returns nil when every configured plugin is healthy.
	Ready(ctx context.Context) error
	Statuses() []pluginhost.Status
}

// Options configure the router.
type Options struct {
	Logger  hclog.Logger
	Version string
	// ReadyTimeout bounds the health checks behind /api/ready; 0 means 5s.
	ReadyTimeout time.Duration

	// Documents serves the portfolio strategy, plan and watchlist
	// endpoints; nil makes them answer 503.
	Documents *documents.Service

	// Market serves the /api/market endpoints; nil makes them answer 503.
	Market *market.Service
}

// NewRouter returns the REST handler.
func NewRouter(rt Runtime, o Options) *mux.Router {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 5 * time.Second
	}
	h := &ops{rt: rt, o: o}
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, http.StatusNotFound, "not_found", "no such endpoint", nil)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint", nil)
	})
	api := r.PathPrefix("/api").Subrouter()
	api.HandleFunc("/health", h.health).Methods(http.MethodGet, http.MethodHead)
	api.HandleFunc("/ready", h.ready).Methods(http.MethodGet, http.MethodHead)
	api.HandleFunc("/plugins", h.plugins).Methods(http.MethodGet)

	// Portfolio documents and the API description (portfolios.go, openapi.go).
	registerPortfolioRoutes(api, o)
	registerOpenAPI(api, o)

	// Shared market data (market.go).
	registerMarketRoutes(api, o)
	return r
}

type ops struct {
	rt Runtime
	o  Options
}

func (h *ops) health(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": h.o.Version})
}

func (h *ops) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.o.ReadyTimeout)
	defer cancel()
	if err := h.rt.Ready(ctx); err != nil {
		h.o.Logger.Warn("not ready", "error", err)
		WriteError(w, http.StatusServiceUnavailable, "not_ready", err.Error(), h.rt.Statuses())
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"status": "ready", "plugins": h.rt.Statuses()})
}

func (h *ops) plugins(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"plugins": h.rt.Statuses()})
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ErrorBody is the one error shape every endpoint uses.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong and what to fix.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

// WriteError writes the standard error body.
func WriteError(w http.ResponseWriter, status int, code, message string, details any) {
	WriteJSON(w, status, ErrorBody{Error: ErrorDetail{Code: code, Message: message, Details: details}})
}
