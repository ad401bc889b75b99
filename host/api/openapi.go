package api

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
)

// The OpenAPI 3.1 description of the REST API, served at /api/openapi.json,
// is built from the operation tables below. TestOpenAPICoversRouter walks
// the router and fails when a route has no operation or an operation no
// route: whoever registers a route documents it here, by adding an operation
// to an existing table or a new table to allOperations.

// operation documents one method on one path.
type operation struct {
	Method string
	// Path is the full mux path template, e.g. /api/portfolios/{name}/plan.
	Path        string
	ID          string
	Tag         string
	Summary     string
	Description string
	// Scope is the API-key scope required; "" for a public endpoint.
	Scope string
	// Body names the request body's schema; BodyType overrides its media
	// types (default application/json).
	Body     string
	BodyType []string
	// Conditional: the operation honours If-Match / If-None-Match.
	Conditional bool
	// Responses maps a status to its schema name ("" for no body).
	Responses map[int]string
	// ETag: successful responses carry an ETag header.
	ETag bool
}

// allOperations lists every documented operation.
func allOperations() []operation {
	return slices.Concat(operationalOperations, portfolioOperations())
}

var operationalOperations = []operation{
	{Method: http.MethodGet, Path: "/api/health", ID: "getHealth", Tag: "operations", Summary: "Liveness: the server answers",
		Responses: map[int]string{200: "Health"}},
	{Method: http.MethodHead, Path: "/api/health", ID: "headHealth", Tag: "operations", Summary: "Liveness, headers only",
		Responses: map[int]string{200: ""}},
	{Method: http.MethodGet, Path: "/api/ready", ID: "getReady", Tag: "operations", Summary: "Readiness: every plugin is healthy",
		Responses: map[int]string{200: "Ready", 503: "Error"}},
	{Method: http.MethodHead, Path: "/api/ready", ID: "headReady", Tag: "operations", Summary: "Readiness, headers only",
		Responses: map[int]string{200: "", 503: ""}},
	{Method: http.MethodGet, Path: "/api/plugins", ID: "listPlugins", Tag: "operations", Summary: "The plugin processes and their state",
		Responses: map[int]string{200: "Plugins"}},
	{Method: http.MethodGet, Path: "/api/openapi.json", ID: "getOpenAPI", Tag: "operations", Summary: "This OpenAPI document",
		Responses: map[int]string{200: "OpenAPIDocument"}},
}

// docKind describes one portfolio document kind for the generated operations.
type docKind struct {
	path, title, schema string
}

func portfolioOperations() []operation {
	const base = "/api/portfolios/{name}"
	var ops []operation
	add := func(op operation) {
		if op.Tag == "" {
			op.Tag = "portfolios"
		}
		ops = append(ops, op)
	}
	read := func(m map[int]string) map[int]string { return withErrors(m, 400, 401, 403, 404, 503) }
	write := func(m map[int]string, extra ...int) map[int]string {
		return withErrors(m, append([]int{400, 401, 403, 404, 412, 413, 415, 503}, extra...)...)
	}

	add(operation{Method: http.MethodGet, Path: base + "/strategy", ID: "getStrategy", Scope: ScopeRead, ETag: true,
		Summary: "The portfolio's strategy", Responses: read(map[int]string{200: "StrategyDocument"})})
	add(operation{Method: http.MethodPut, Path: base + "/strategy", ID: "putStrategy", Scope: ScopeWrite, ETag: true, Conditional: true,
		Summary:     "Create or merge-update the strategy",
		Description: "A JSON merge patch (RFC 7396): fields present replace, absent fields keep their value, null clears. Lists are replaced whole; target_allocation merges key by key (a null value removes the key). Creates the strategy when there is none (201).",
		Body:        "StrategyPatch", BodyType: []string{"application/json", "application/merge-patch+json"},
		Responses: write(map[int]string{200: "StrategyDocument", 201: "StrategyDocument"})})

	add(operation{Method: http.MethodGet, Path: base + "/plan", ID: "getPlan", Scope: ScopeRead, ETag: true,
		Summary: "The portfolio's plan", Responses: read(map[int]string{200: "PlanDocument"})})
	add(operation{Method: http.MethodPost, Path: base + "/plan/items", ID: "addPlanItem", Scope: ScopeWrite, ETag: true, Conditional: true,
		Summary:     "Add a plan item",
		Description: "The server assigns the id. An item needs an action, a ticker and a target_price, target_date or trigger; status defaults to pending. An open item with the same action, ticker, targets and trigger is a duplicate (409). Creates the plan when there is none.",
		Body:        "PlanItemInput", Responses: write(map[int]string{201: "PlanItem"}, 409)})
	add(operation{Method: http.MethodGet, Path: base + "/plan/items/{id}", ID: "getPlanItem", Scope: ScopeRead, ETag: true,
		Summary: "One plan item (the ETag is the plan's)", Responses: read(map[int]string{200: "PlanItem"})})
	add(operation{Method: http.MethodPatch, Path: base + "/plan/items/{id}", ID: "patchPlanItem", Scope: ScopeWrite, ETag: true, Conditional: true,
		Summary:     "Merge-update a plan item",
		Description: "A JSON merge patch. Status changes follow pending→triggered|completed|expired|cancelled, triggered→pending|completed|expired|cancelled, expired→pending|cancelled; completed and cancelled are final (409 invalid_transition).",
		Body:        "PlanItemInput", BodyType: []string{"application/json", "application/merge-patch+json"},
		Responses: write(map[int]string{200: "PlanItem"}, 409)})
	add(operation{Method: http.MethodDelete, Path: base + "/plan/items/{id}", ID: "deletePlanItem", Scope: ScopeWrite, ETag: true, Conditional: true,
		Summary: "Remove a plan item", Responses: write(map[int]string{204: ""})})

	add(operation{Method: http.MethodGet, Path: base + "/watchlist", ID: "getWatchlist", Scope: ScopeRead, ETag: true,
		Summary: "The portfolio's watchlist", Responses: read(map[int]string{200: "WatchlistDocument"})})
	add(operation{Method: http.MethodGet, Path: base + "/watchlist/items/{ticker}", ID: "getWatchItem", Scope: ScopeRead, ETag: true,
		Summary: "One watched ticker (the ETag is the watchlist's)", Responses: read(map[int]string{200: "WatchItem"})})
	add(operation{Method: http.MethodPut, Path: base + "/watchlist/items/{ticker}", ID: "putWatchItem", Scope: ScopeWrite, ETag: true, Conditional: true,
		Summary:     "Add or merge-update a watched ticker",
		Description: "A JSON merge patch; creates the item (201) and the watchlist when missing.",
		Body:        "WatchItemInput", BodyType: []string{"application/json", "application/merge-patch+json"},
		Responses: write(map[int]string{200: "WatchItem", 201: "WatchItem"}, 409)})
	add(operation{Method: http.MethodDelete, Path: base + "/watchlist/items/{ticker}", ID: "deleteWatchItem", Scope: ScopeWrite, ETag: true, Conditional: true,
		Summary: "Stop watching a ticker", Responses: write(map[int]string{204: ""})})

	for _, k := range []docKind{{"strategy", "Strategy", "StrategyDocument"}, {"plan", "Plan", "PlanDocument"}, {"watchlist", "Watchlist", "WatchlistDocument"}} {
		p := base + "/" + k.path
		add(operation{Method: http.MethodDelete, Path: p, ID: "delete" + k.title, Scope: ScopeWrite, ETag: true, Conditional: true,
			Summary:     "Delete the " + k.path,
			Description: "Records a deletion version; the history stays and a restore brings the " + k.path + " back.",
			Responses:   write(map[int]string{204: ""})})
		add(operation{Method: http.MethodGet, Path: p + "/history", ID: "get" + k.title + "History", Scope: ScopeRead,
			Summary:   "The retained versions of the " + k.path + ", newest first",
			Responses: read(map[int]string{200: "History"})})
		add(operation{Method: http.MethodGet, Path: p + "/history/{version}", ID: "get" + k.title + "Version", Scope: ScopeRead,
			Summary: "The content of one retained version", Responses: withErrors(map[int]string{200: k.title + "Version"}, 400, 401, 403, 404, 409, 503)})
		add(operation{Method: http.MethodPost, Path: p + "/restore", ID: "restore" + k.title, Scope: ScopeWrite, ETag: true, Conditional: true,
			Summary:     "Bring back an earlier version, as a new version",
			Description: "Restoring a deletion version is refused (409 deleted_version); restoring the current content writes nothing.",
			Body:        "RestoreRequest", Responses: write(map[int]string{200: k.schema}, 409)})
	}
	return ops
}

func withErrors(m map[int]string, statuses ...int) map[int]string {
	for _, s := range statuses {
		m[s] = "Error"
	}
	return m
}

var paramDocs = map[string]string{
	"name":    "Portfolio name: up to 180 bytes of UTF-8 without '/', '\\' or control characters.",
	"id":      "Plan item id, as returned when the item was added.",
	"ticker":  "Ticker as CODE.EXCHANGE, e.g. BHP.AU (case-insensitive).",
	"version": "Version number from the history.",
}

var pathParam = regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)

// openAPIPath turns a mux template into an OpenAPI path (drops regexps).
func openAPIPath(tpl string) string { return pathParam.ReplaceAllString(tpl, "{$1}") }

// OpenAPI returns the OpenAPI 3.1 document of the REST API.
func OpenAPI(version string) map[string]any {
	if version == "" {
		version = "dev"
	}
	paths := map[string]map[string]any{}
	for _, op := range allOperations() {
		p := openAPIPath(op.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(op.Method)] = op.render()
	}
	out := map[string]any{}
	for p, v := range paths {
		out[p] = v
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Vire REST API",
			"version":     version,
			"description": "Portfolio documents (strategy, plan, watchlist) with history and undo, and the server's operational endpoints. Every error answers {\"error\": {\"code\", \"message\", \"details\"}}.",
		},
		"tags": []any{
			map[string]any{"name": "operations", "description": "Health, readiness, plugins, this document."},
			map[string]any{"name": "portfolios", "description": "A portfolio's strategy, plan and watchlist."},
		},
		"paths": out,
		"components": map[string]any{
			"schemas": schemas(),
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key sent as `Authorization: Bearer <key>`. Scopes: read for GET, write for changes. Personal mode needs no key."},
			},
			"headers": map[string]any{
				"ETag": map[string]any{"description": "The document's current ETag, for If-Match.", "schema": map[string]any{"type": "string"}},
			},
		},
	}
}

func (op operation) render() map[string]any {
	o := map[string]any{"operationId": op.ID, "summary": op.Summary, "tags": []string{op.Tag}}
	if op.Description != "" {
		o["description"] = op.Description
	}
	var params []any
	for _, m := range pathParam.FindAllStringSubmatch(op.Path, -1) {
		s := map[string]any{"type": "string"}
		if m[1] == "version" {
			s = map[string]any{"type": "integer", "minimum": 1}
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "description": paramDocs[m[1]], "schema": s})
	}
	if op.Conditional {
		params = append(params,
			map[string]any{"name": "If-Match", "in": "header", "description": "Write only if the document's ETag is this one (412 otherwise); * requires that it exists.", "schema": map[string]any{"type": "string"}},
			map[string]any{"name": "If-None-Match", "in": "header", "description": "* : write only if the document does not exist yet (412 otherwise).", "schema": map[string]any{"type": "string", "enum": []string{"*"}}})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.Scope != "" {
		o["security"] = []any{map[string]any{"apiKey": []string{op.Scope}}}
		o["x-vire-scope"] = op.Scope
	} else {
		o["security"] = []any{}
	}
	if op.Body != "" {
		types := op.BodyType
		if len(types) == 0 {
			types = []string{"application/json"}
		}
		content := map[string]any{}
		for _, t := range types {
			content[t] = map[string]any{"schema": ref(op.Body)}
		}
		o["requestBody"] = map[string]any{"required": true, "content": content,
			"description": fmt.Sprintf("At most %d bytes; unknown fields are refused.", MaxBodyBytes)}
	}
	statuses := make([]int, 0, len(op.Responses))
	for s := range op.Responses {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	resp := map[string]any{}
	for _, s := range statuses {
		r := map[string]any{"description": statusText(s)}
		if name := op.Responses[s]; name != "" {
			r["content"] = map[string]any{"application/json": map[string]any{"schema": ref(name)}}
		}
		if op.ETag && s < 300 {
			r["headers"] = map[string]any{"ETag": map[string]any{"$ref": "#/components/headers/ETag"}}
		}
		resp[strconv.Itoa(s)] = r
	}
	o["responses"] = resp
	return o
}

func statusText(s int) string {
	switch s {
	case 400:
		return "Invalid input: details lists [{field, message}] for field errors"
	case 404:
		return "The portfolio's document, the item or the version does not exist"
	case 409:
		return "Conflicts with the current state (invalid_transition, duplicate, limit_reached, deleted_version)"
	case 412:
		return "If-Match or If-None-Match did not hold"
	}
	return http.StatusText(s)
}

func registerOpenAPI(api *mux.Router, o Options) {
	api.HandleFunc("/openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, OpenAPI(o.Version))
	}).Methods(http.MethodGet)
}
