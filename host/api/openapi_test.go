package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/host/tenant"
)

// routesOf walks a router and returns "METHOD /path" for every route that
// serves something.
func routesOf(t *testing.T, r *mux.Router) []string {
	t.Helper()
	var out []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		if route.GetHandler() == nil {
			return nil // a subrouter's prefix
		}
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil || len(methods) == 0 {
			t.Errorf("route %s accepts every method: register it with .Methods(...)", tpl)
			return nil
		}
		for _, m := range methods {
			out = append(out, m+" "+openAPIPath(tpl))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPICoversRouter fails when a route is registered without an
// operation in openapi.go, or an operation documents a route that does not
// exist.
func TestOpenAPICoversRouter(t *testing.T) {
	// The router as a hosted server builds it. Routes mounted by another
	// function belong here too.
	r := NewRouter(idleRuntime{}, Options{})
	MountAdmin(r, nil, nil)
	routes := routesOf(t, r)
	var documented []string
	ids := map[string]bool{}
	for _, op := range allOperations() {
		documented = append(documented, op.Method+" "+openAPIPath(op.Path))
		if ids[op.ID] {
			t.Errorf("operationId %s is used twice", op.ID)
		}
		ids[op.ID] = true
	}
	sort.Strings(documented)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not documented: add an operation to openapi.go", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.go documents %s, which the router does not serve", d)
		}
	}
}

// TestOpenAPISchemasMatchTypes checks each schema's properties against the
// JSON fields of the Go type it describes, and that the fields a response
// always carries are required.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	all := schemas()
	for _, c := range []struct {
		schema string
		typ    any
		input  bool // a request body: nothing is required
	}{
		{"Strategy", documents.Strategy{}, false},
		{"StrategyPatch", documents.StrategyPatch{}, true},
		{"StrategyDocument", documents.StrategyDoc{}, false},
		{"StrategyVersion", documents.StrategyVersion{}, false},
		{"PlanItem", documents.PlanItem{}, false},
		{"PlanItemInput", documents.PlanItemPatch{}, true},
		{"Plan", documents.Plan{}, false},
		{"PlanDocument", documents.PlanDoc{}, false},
		{"PlanVersion", documents.PlanVersion{}, false},
		{"WatchItem", documents.WatchItem{}, false},
		{"WatchItemInput", documents.WatchItemPatch{}, true},
		{"Watchlist", documents.Watchlist{}, false},
		{"WatchlistDocument", documents.WatchlistDoc{}, false},
		{"WatchlistVersion", documents.WatchlistVersion{}, false},
		{"VersionInfo", documents.VersionInfo{}, false},
		{"History", documents.History{}, false},
		{"FieldError", documents.FieldError{}, false},
		{"PluginStatus", pluginhost.Status{}, false},
		{"Error", ErrorBody{}, false},
		{"Principal", tenant.Principal{}, false},
		{"Tenant", tenant.Tenant{}, false},
		{"DeleteReport", tenant.DeleteReport{}, false},
		{"Key", keyView{}, false},
		{"NewKey", newKeyView{}, false},
	} {
		s, ok := all[c.schema].(schema)
		if !ok {
			t.Errorf("no schema %s", c.schema)
			continue
		}
		var props []string
		for p := range s["properties"].(schema) {
			props = append(props, p)
		}
		sort.Strings(props)
		fields, always := jsonFields(reflect.TypeOf(c.typ))
		if !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, the Go type %T has %v", c.schema, props, c.typ, fields)
		}
		req, _ := s["required"].([]string)
		req = slices.Sorted(slices.Values(req))
		if c.input {
			always = nil
		}
		if !slices.Equal(req, always) {
			t.Errorf("schema %s requires %v, the Go type always writes %v", c.schema, req, always)
		}
	}
	errDetail := all["Error"].(schema)["properties"].(schema)["error"].(schema)
	if fields, _ := jsonFields(reflect.TypeOf(ErrorDetail{})); !slices.Equal(sortedKeys(errDetail["properties"].(schema)), fields) {
		t.Errorf("the error schema does not match ErrorDetail's fields %v", fields)
	}
}

func sortedKeys(m schema) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonFields returns the JSON names of a struct's fields (following
// embedded structs) and those written even when empty.
func jsonFields(t reflect.Type) (all, always []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			a, b := jsonFields(f.Type)
			all, always = append(all, a...), append(always, b...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			always = append(always, name)
		}
	}
	sort.Strings(all)
	sort.Strings(always)
	return all, always
}

// TestOpenAPIDescribesResponses serves the document, checks that every
// reference resolves, and validates real responses against the schemas
// the document gives for them.
func TestOpenAPIDescribesResponses(t *testing.T) {
	s := newTestServer(t)
	r := s.do(t, "alice", "GET", "/api/openapi.json", "")
	if r.status != 200 {
		t.Fatalf("GET /api/openapi.json: %d %s", r.status, r.body)
	}
	var doc map[string]any
	r.decode(t, &doc)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	comps := doc["components"].(map[string]any)
	walkRefs(t, doc, comps)
	paths := doc["paths"].(map[string]any)

	var item documents.PlanItem
	s.must(t, 201, "PUT", base+"/strategy", `{"universe":["AU"],"max_position_pct":5,"target_allocation":{"cash":5}}`)
	s.must(t, 201, "POST", base+"/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":40}`).decode(t, &item)
	s.must(t, 201, "PUT", base+"/watchlist/items/CBA.AU", `{"verdict":"hold"}`)
	s.must(t, 200, "PATCH", base+"/plan/items/"+item.ID, `{"notes":"n"}`)

	for _, c := range []struct {
		method, path, template, body string
	}{
		{"GET", "/api/health", "/api/health", ""},
		{"GET", "/api/ready", "/api/ready", ""},
		{"GET", "/api/plugins", "/api/plugins", ""},
		{"GET", base + "/strategy", "/api/portfolios/{name}/strategy", ""},
		{"PUT", base + "/strategy", "/api/portfolios/{name}/strategy", `{"notes":"x"}`},
		{"PUT", base + "/strategy", "/api/portfolios/{name}/strategy", `{"max_position_pct":"x"}`},
		{"GET", base + "/strategy/history", "/api/portfolios/{name}/strategy/history", ""},
		{"GET", base + "/strategy/history/1", "/api/portfolios/{name}/strategy/history/{version}", ""},
		{"POST", base + "/strategy/restore", "/api/portfolios/{name}/strategy/restore", `{"version":1}`},
		{"GET", base + "/plan", "/api/portfolios/{name}/plan", ""},
		{"GET", base + "/plan/items/" + item.ID, "/api/portfolios/{name}/plan/items/{id}", ""},
		{"PATCH", base + "/plan/items/" + item.ID, "/api/portfolios/{name}/plan/items/{id}", `{"status":"triggered"}`},
		{"PATCH", base + "/plan/items/" + item.ID, "/api/portfolios/{name}/plan/items/{id}", `{"status":"nope"}`},
		{"POST", base + "/plan/items", "/api/portfolios/{name}/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":40}`},
		{"GET", base + "/plan/history/2", "/api/portfolios/{name}/plan/history/{version}", ""},
		{"GET", base + "/watchlist", "/api/portfolios/{name}/watchlist", ""},
		{"GET", base + "/watchlist/items/CBA.AU", "/api/portfolios/{name}/watchlist/items/{ticker}", ""},
		{"GET", base + "/watchlist/history", "/api/portfolios/{name}/watchlist/history", ""},
		{"GET", base + "/watchlist/history/1", "/api/portfolios/{name}/watchlist/history/{version}", ""},
		{"GET", base + "/watchlist/items/RIO.AU", "/api/portfolios/{name}/watchlist/items/{ticker}", ""},
		{"GET", "/api/whoami", "/api/whoami", ""},
		{"GET", "/api/admin/keys", "/api/admin/keys", ""},
		{"POST", "/api/admin/keys", "/api/admin/keys", `{"name":"ci","scopes":["read"]}`},
		{"GET", "/api/admin/tenants/alice", "/api/admin/tenants/{tenant}", ""},
		{"GET", "/api/admin/tenants", "/api/admin/tenants", ""},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			who := "alice"
			if strings.HasPrefix(c.path, "/api/admin/") {
				who = "alice-admin"
			}
			resp := s.do(t, who, c.method, c.path, c.body)
			op, ok := paths[c.template].(map[string]any)[strings.ToLower(c.method)].(map[string]any)
			if !ok {
				t.Fatalf("%s %s is not in the document", c.method, c.template)
			}
			rd, ok := op["responses"].(map[string]any)[fmt.Sprint(resp.status)].(map[string]any)
			if !ok {
				t.Fatalf("status %d of %s %s is not documented (%s)", resp.status, c.method, c.template, resp.body)
			}
			sch := rd["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
			var v any
			resp.decode(t, &v)
			if err := validate(sch, v, comps, "$"); err != nil {
				t.Fatalf("%s: %v\n%s", c.path, err, resp.body)
			}
		})
	}
}

// walkRefs fails on any $ref that names no component.
func walkRefs(t *testing.T, v any, comps map[string]any) {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			if resolve(ref, comps) == nil {
				t.Errorf("dangling $ref %s", ref)
			}
		}
		for _, e := range x {
			walkRefs(t, e, comps)
		}
	case []any:
		for _, e := range x {
			walkRefs(t, e, comps)
		}
	}
}

func resolve(ref string, comps map[string]any) map[string]any {
	rest, ok := strings.CutPrefix(ref, "#/components/")
	if !ok {
		return nil
	}
	group, name, _ := strings.Cut(rest, "/")
	g, _ := comps[group].(map[string]any)
	s, _ := g[name].(map[string]any)
	return s
}

// validate checks v against the subset of JSON Schema the document uses:
// $ref, type (or a list of types), oneOf, enum, properties, required,
// additionalProperties, items, minimum, maximum, exclusiveMinimum.
func validate(sch any, v any, comps map[string]any, at string) error {
	s, ok := sch.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: no schema", at)
	}
	if ref, ok := s["$ref"].(string); ok {
		return validate(resolve(ref, comps), v, comps, at)
	}
	if alts, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, a := range alts {
			if validate(a, v, comps, at) == nil {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: %v matches %d of the oneOf alternatives", at, v, n)
		}
		return nil
	}
	if t, ok := s["type"]; ok {
		var types []string
		switch tt := t.(type) {
		case string:
			types = []string{tt}
		case []any:
			for _, x := range tt {
				types = append(types, x.(string))
			}
		}
		if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
			return fmt.Errorf("%s: %v is %s, want %v", at, v, jsonType(v), types)
		}
	}
	if e, ok := s["enum"].([]any); ok && !slices.Contains(e, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, e)
	}
	if f, ok := v.(float64); ok {
		if m, ok := s["minimum"].(float64); ok && f < m {
			return fmt.Errorf("%s: %v < minimum %v", at, f, m)
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			return fmt.Errorf("%s: %v > maximum %v", at, f, m)
		}
		if m, ok := s["exclusiveMinimum"].(float64); ok && f <= m {
			return fmt.Errorf("%s: %v <= exclusiveMinimum %v", at, f, m)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := x[r]; !ok {
				return fmt.Errorf("%s: required %q is missing", at, r)
			}
		}
		for k, e := range x {
			if p, ok := props[k]; ok {
				if err := validate(p, e, comps, at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: %q is not a documented property", at, k)
				}
			case map[string]any:
				if err := validate(ap, e, comps, at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := s["items"]; ok {
			for i, e := range x {
				if err := validate(items, e, comps, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func asStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func TestOpenAPIHTTPStatus(t *testing.T) {
	s := &testServer{}
	s.start(t, Options{Version: "1.2.3"}, AccessOptions{Personal: true})
	r := s.do(t, "", http.MethodGet, "/api/openapi.json", "")
	var doc struct {
		Info struct{ Version string } `json:"info"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || r.status != 200 || doc.Info.Version != "1.2.3" {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
}
