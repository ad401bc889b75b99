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

	"github.com/vire-dev/vire/host/tenant"
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
	// Body names the request body's schema; BodyType overrides its media
	// types (default application/json). BodyOptional: it may be left out.
	Body         string
	BodyType     []string
	BodyOptional bool
	// Hosted: served only by a hosted server (MountAdmin).
	Hosted bool
	// Conditional: the operation honours If-Match / If-None-Match.
	Conditional bool
	// Responses maps a status to its schema name ("" for no body).
	Responses map[int]string
	// ETag: successful responses carry an ETag header.
	ETag bool
	// Query documents the query parameters.
	Query []queryParam
}

// queryParam documents one query parameter.
type queryParam struct {
	Name, Description string
	Required          bool
	Schema            schema
}

// allOperations lists every documented operation. The scope each needs is
// not written here: it is what Protect enforces by default (docScope).
func allOperations() []operation {
	return slices.Concat(operationalOperations, portfolioOperations(), adminOperations(), marketOperations())
}

// docScope is the scope Protect requires for a route by default: public
// for DefaultPublicRoutes, any authenticated key for the routes of
// defaultRouteScopes that say AnyScope, otherwise RequiredScope.
func docScope(method, path string) (scope tenant.Scope, public bool) {
	if slices.Contains(DefaultPublicRoutes, path) {
		return "", true
	}
	if sc, ok := defaultRouteScopes[path]; ok {
		return sc, false
	}
	return RequiredScope(method, path), false
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

	add(operation{Method: http.MethodGet, Path: base + "/strategy", ID: "getStrategy", ETag: true,
		Summary: "The portfolio's strategy", Responses: read(map[int]string{200: "StrategyDocument"})})
	add(operation{Method: http.MethodPut, Path: base + "/strategy", ID: "putStrategy", ETag: true, Conditional: true,
		Summary:     "Create or merge-update the strategy",
		Description: "A JSON merge patch (RFC 7396): fields present replace, absent fields keep their value, null clears. Lists are replaced whole; target_allocation merges key by key (a null value removes the key). Creates the strategy when there is none (201).",
		Body:        "StrategyPatch", BodyType: []string{"application/json", "application/merge-patch+json"},
		Responses: write(map[int]string{200: "StrategyDocument", 201: "StrategyDocument"})})

	add(operation{Method: http.MethodGet, Path: base + "/plan", ID: "getPlan", ETag: true,
		Summary: "The portfolio's plan", Responses: read(map[int]string{200: "PlanDocument"})})
	add(operation{Method: http.MethodPost, Path: base + "/plan/items", ID: "addPlanItem", ETag: true, Conditional: true,
		Summary:     "Add a plan item",
		Description: "The server assigns the id. An item needs an action, a ticker and a target_price, target_date or trigger; status defaults to pending. An open item with the same action, ticker, targets and trigger is a duplicate (409). Creates the plan when there is none.",
		Body:        "PlanItemInput", Responses: write(map[int]string{201: "PlanItem"}, 409)})
	add(operation{Method: http.MethodGet, Path: base + "/plan/items/{id}", ID: "getPlanItem", ETag: true,
		Summary: "One plan item (the ETag is the plan's)", Responses: read(map[int]string{200: "PlanItem"})})
	add(operation{Method: http.MethodPatch, Path: base + "/plan/items/{id}", ID: "patchPlanItem", ETag: true, Conditional: true,
		Summary:     "Merge-update a plan item",
		Description: "A JSON merge patch. Status changes follow pending→triggered|completed|expired|cancelled, triggered→pending|completed|expired|cancelled, expired→pending|cancelled; completed and cancelled are final (409 invalid_transition).",
		Body:        "PlanItemInput", BodyType: []string{"application/json", "application/merge-patch+json"},
		Responses: write(map[int]string{200: "PlanItem"}, 409)})
	add(operation{Method: http.MethodDelete, Path: base + "/plan/items/{id}", ID: "deletePlanItem", ETag: true, Conditional: true,
		Summary: "Remove a plan item", Responses: write(map[int]string{204: ""})})

	add(operation{Method: http.MethodGet, Path: base + "/watchlist", ID: "getWatchlist", ETag: true,
		Summary: "The portfolio's watchlist", Responses: read(map[int]string{200: "WatchlistDocument"})})
	add(operation{Method: http.MethodGet, Path: base + "/watchlist/items/{ticker}", ID: "getWatchItem", ETag: true,
		Summary: "One watched ticker (the ETag is the watchlist's)", Responses: read(map[int]string{200: "WatchItem"})})
	add(operation{Method: http.MethodPut, Path: base + "/watchlist/items/{ticker}", ID: "putWatchItem", ETag: true, Conditional: true,
		Summary:     "Add or merge-update a watched ticker",
		Description: "A JSON merge patch; creates the item (201) and the watchlist when missing.",
		Body:        "WatchItemInput", BodyType: []string{"application/json", "application/merge-patch+json"},
		Responses: write(map[int]string{200: "WatchItem", 201: "WatchItem"}, 409)})
	add(operation{Method: http.MethodDelete, Path: base + "/watchlist/items/{ticker}", ID: "deleteWatchItem", ETag: true, Conditional: true,
		Summary: "Stop watching a ticker", Responses: write(map[int]string{204: ""})})

	for _, k := range []docKind{{"strategy", "Strategy", "StrategyDocument"}, {"plan", "Plan", "PlanDocument"}, {"watchlist", "Watchlist", "WatchlistDocument"}} {
		p := base + "/" + k.path
		add(operation{Method: http.MethodDelete, Path: p, ID: "delete" + k.title, ETag: true, Conditional: true,
			Summary:     "Delete the " + k.path,
			Description: "Records a deletion version; the history stays and a restore brings the " + k.path + " back.",
			Responses:   write(map[int]string{204: ""})})
		add(operation{Method: http.MethodGet, Path: p + "/history", ID: "get" + k.title + "History",
			Summary:   "The retained versions of the " + k.path + ", newest first",
			Responses: read(map[int]string{200: "History"})})
		add(operation{Method: http.MethodGet, Path: p + "/history/{version}", ID: "get" + k.title + "Version",
			Summary: "The content of one retained version", Responses: withErrors(map[int]string{200: k.title + "Version"}, 400, 401, 403, 404, 409, 503)})
		add(operation{Method: http.MethodPost, Path: p + "/restore", ID: "restore" + k.title, ETag: true, Conditional: true,
			Summary:     "Bring back an earlier version, as a new version",
			Description: "Restoring a deletion version is refused (409 deleted_version); restoring the current content writes nothing.",
			Body:        "RestoreRequest", Responses: write(map[int]string{200: k.schema}, 409)})
	}
	return ops
}

// adminOperations documents MountAdmin's routes.
func adminOperations() []operation {
	ops := []operation{
		{Method: http.MethodGet, Path: "/api/whoami", ID: "whoami", Tag: "admin", Summary: "The principal the request authenticated as",
			Responses: map[int]string{200: "Principal"}},
	}
	errs := func(m map[int]string) map[int]string { return withErrors(m, 400, 404, 409) }
	tenantOps := []operation{
		{Method: http.MethodGet, Path: "/api/admin/tenants", ID: "listTenants", Summary: "List tenants (operator)", Responses: errs(map[int]string{200: "TenantList"})},
		{Method: http.MethodPost, Path: "/api/admin/tenants", ID: "createTenant", Summary: "Create a tenant (operator)", Body: "TenantCreate", Responses: errs(map[int]string{201: "Tenant"})},
		{Method: http.MethodGet, Path: "/api/admin/tenants/{tenant}", ID: "getTenant", Summary: "One tenant", Responses: errs(map[int]string{200: "Tenant"})},
		{Method: http.MethodDelete, Path: "/api/admin/tenants/{tenant}", ID: "deleteTenant", Summary: "Delete a tenant, its keys and all its data (operator)", Responses: errs(map[int]string{200: "DeleteReport"})},
		{Method: http.MethodPost, Path: "/api/admin/tenants/{tenant}/suspend", ID: "suspendTenant", Summary: "Suspend a tenant: its keys stop working (operator)", Responses: errs(map[int]string{200: "Tenant"})},
		{Method: http.MethodPost, Path: "/api/admin/tenants/{tenant}/resume", ID: "resumeTenant", Summary: "Resume a suspended tenant (operator)", Responses: errs(map[int]string{200: "Tenant"})},
	}
	ops = append(ops, tenantOps...)
	for _, k := range []struct{ prefix, id, whose string }{
		{"/api/admin/tenants/{tenant}/keys", "TenantKey", "a tenant's"},
		{"/api/admin/keys", "OwnKey", "the caller's own tenant's"},
	} {
		ops = append(ops,
			operation{Method: http.MethodGet, Path: k.prefix, ID: "list" + k.id + "s", Summary: "List " + k.whose + " API keys", Responses: errs(map[int]string{200: "KeyList"})},
			operation{Method: http.MethodPost, Path: k.prefix, ID: "create" + k.id, Summary: "Create an API key for " + k.whose[:len(k.whose)-2] + "; the key is shown only in this response",
				Body: "KeyCreate", BodyOptional: true, Responses: errs(map[int]string{201: "NewKey"})},
			operation{Method: http.MethodGet, Path: k.prefix + "/{key}", ID: "get" + k.id, Summary: "One API key (never the secret)", Responses: errs(map[int]string{200: "Key"})},
			operation{Method: http.MethodDelete, Path: k.prefix + "/{key}", ID: "revoke" + k.id, Summary: "Revoke an API key", Responses: errs(map[int]string{200: "Key"})},
			operation{Method: http.MethodPost, Path: k.prefix + "/{key}/rotate", ID: "rotate" + k.id, Summary: "Rotate an API key: a new key with the same scopes; the old one works until revoked or its grace ends",
				Body: "KeyRotate", BodyOptional: true, Responses: errs(map[int]string{201: "NewKey"})},
		)
	}
	for i := range ops {
		ops[i].Hosted = true
		if ops[i].Tag == "" {
			ops[i].Tag = "admin"
		}
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
	"tenant":  "Tenant id.",
	"key":     "API key id (never the key itself).",
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
			"description": "Portfolio documents (strategy, plan, watchlist) with history and undo, shared market data, and the server's operational endpoints. Every error answers {\"error\": {\"code\", \"message\", \"details\"}}.",
		},
		"tags": []any{
			map[string]any{"name": "operations", "description": "Health, readiness, plugins, this document."},
			map[string]any{"name": "portfolios", "description": "A portfolio's strategy, plan and watchlist."},
			map[string]any{"name": "admin", "description": "Tenants and API keys; hosted servers only."},
			map[string]any{"name": "market", "description": "Quotes, price history, fundamentals, dividends and search: shared market data, the same for every tenant."},
		},
		"paths": out,
		"components": map[string]any{
			"schemas": withSchemas(schemas(), marketSchemas()),
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{"type": "http", "scheme": "bearer", "description": "An API key sent as `Authorization: Bearer <key>`. Scopes: read for GET and HEAD, write for other methods, admin for /api/admin. Personal mode needs no key."},
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
	for _, q := range op.Query {
		params = append(params, map[string]any{"name": q.Name, "in": "query", "required": q.Required, "description": q.Description, "schema": q.Schema})
	}
	if op.Conditional {
		params = append(params,
			map[string]any{"name": "If-Match", "in": "header", "description": "Write only if the document's ETag is this one (412 otherwise); * requires that it exists.", "schema": map[string]any{"type": "string"}},
			map[string]any{"name": "If-None-Match", "in": "header", "description": "* : write only if the document does not exist yet (412 otherwise).", "schema": map[string]any{"type": "string", "enum": []string{"*"}}})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	scope, public := docScope(op.Method, op.Path)
	switch {
	case public:
		o["security"] = []any{}
	case scope == AnyScope:
		o["security"] = []any{map[string]any{"apiKey": []string{}}}
	default:
		o["security"] = []any{map[string]any{"apiKey": []string{string(scope)}}}
		o["x-vire-scope"] = scope
	}
	if op.Hosted {
		o["x-vire-hosted-only"] = true
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
		o["requestBody"] = map[string]any{"required": !op.BodyOptional, "content": content,
			"description": fmt.Sprintf("At most %d bytes; unknown fields are refused.", MaxBodyBytes)}
	}
	responses := map[int]string{}
	for st, name := range op.Responses {
		responses[st] = name
	}
	if !public {
		// What the access layer answers before the handler runs.
		withErrors(responses, 401, 403, 429, 503)
	}
	statuses := make([]int, 0, len(responses))
	for s := range responses {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	resp := map[string]any{}
	for _, s := range statuses {
		r := map[string]any{"description": statusText(s)}
		if name := responses[s]; name != "" {
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
	case 401:
		return "No API key, or one that is malformed, unknown, expired or revoked"
	case 403:
		return "The key lacks the scope (insufficient_scope), or its tenant is suspended"
	case 429:
		return "The key's rate limit is spent; Retry-After says when to retry"
	case 404:
		return "Not found"
	case 409:
		return "Conflicts with the current state"
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
