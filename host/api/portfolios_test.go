package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/documents"
)

const base = "/api/portfolios/smsf"

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(t testing.TB, got []byte, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("decoding %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	return reflect.DeepEqual(a, b)
}

// field extracts one top-level member of a JSON object.
func field(t testing.TB, body []byte, name string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return m[name]
}

// without drops members from a JSON object (server-set values).
func without(t testing.TB, body []byte, names ...string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	for _, n := range names {
		delete(m, n)
	}
	out, _ := json.Marshal(m)
	return out
}

func TestStrategyMergeSemantics(t *testing.T) {
	s := newTestServer(t)
	steps := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"create", `{"universe":["au","US"],"max_position_pct":10,"max_sector_pct":30,"target_allocation":{"equities":60,"cash":10},"risk_appetite":"balanced","notes":"first"}`, 201,
			`{"universe":["AU","US"],"allowed_sectors":[],"excluded_sectors":[],"max_position_pct":10,"max_sector_pct":30,"target_allocation":{"equities":60,"cash":10},"risk_appetite":"balanced","notes":"first"}`},
		{"absent fields keep their value", `{"notes":"second"}`, 200,
			`{"universe":["AU","US"],"allowed_sectors":[],"excluded_sectors":[],"max_position_pct":10,"max_sector_pct":30,"target_allocation":{"equities":60,"cash":10},"risk_appetite":"balanced","notes":"second"}`},
		{"null clears", `{"max_position_pct":null,"risk_appetite":null}`, 200,
			`{"universe":["AU","US"],"allowed_sectors":[],"excluded_sectors":[],"max_position_pct":null,"max_sector_pct":30,"target_allocation":{"equities":60,"cash":10},"risk_appetite":"","notes":"second"}`},
		{"lists are replaced whole", `{"universe":["LSE"],"allowed_sectors":["Materials","Financials"]}`, 200,
			`{"universe":["LSE"],"allowed_sectors":["Materials","Financials"],"excluded_sectors":[],"max_position_pct":null,"max_sector_pct":30,"target_allocation":{"equities":60,"cash":10},"risk_appetite":"","notes":"second"}`},
		{"maps merge key by key, null removes a key", `{"target_allocation":{"cash":null,"bonds":25,"equities":70}}`, 200,
			`{"universe":["LSE"],"allowed_sectors":["Materials","Financials"],"excluded_sectors":[],"max_position_pct":null,"max_sector_pct":30,"target_allocation":{"equities":70,"bonds":25},"risk_appetite":"","notes":"second"}`},
		{"null clears a map and a list", `{"target_allocation":null,"allowed_sectors":null}`, 200,
			`{"universe":["LSE"],"allowed_sectors":[],"excluded_sectors":[],"max_position_pct":null,"max_sector_pct":30,"target_allocation":{},"risk_appetite":"","notes":"second"}`},
		{"empty patch changes nothing", `{}`, 200,
			`{"universe":["LSE"],"allowed_sectors":[],"excluded_sectors":[],"max_position_pct":null,"max_sector_pct":30,"target_allocation":{},"risk_appetite":"","notes":"second"}`},
	}
	for _, st := range steps {
		r := s.must(t, st.status, http.MethodPut, base+"/strategy", st.body)
		if !sameJSON(t, field(t, r.body, "strategy"), st.want) {
			t.Fatalf("%s: PUT %s gave %s, want %s", st.name, st.body, field(t, r.body, "strategy"), st.want)
		}
		g := s.must(t, 200, http.MethodGet, base+"/strategy", "")
		if !sameJSON(t, field(t, g.body, "strategy"), st.want) {
			t.Fatalf("%s: GET after PUT gave %s", st.name, g.body)
		}
		if g.header.Get("ETag") == "" || g.header.Get("ETag") != r.header.Get("ETag") {
			t.Fatalf("%s: ETag of PUT %q, of GET %q", st.name, r.header.Get("ETag"), g.header.Get("ETag"))
		}
	}
	// Six changes, and the empty patch made no version.
	var h documents.History
	s.must(t, 200, http.MethodGet, base+"/strategy/history", "").decode(t, &h)
	if h.Current != 6 || len(h.Versions) != 6 {
		t.Fatalf("history: current %d, %d versions, want 6 and 6", h.Current, len(h.Versions))
	}
}

func TestPlanItemMergeSemantics(t *testing.T) {
	s := newTestServer(t)
	r := s.must(t, 201, http.MethodPost, base+"/plan/items", `{"action":"buy","ticker":"bhp.au","target_price":42.5,"target_date":"2026-09-30","notes":"on a dip"}`)
	var it documents.PlanItem
	r.decode(t, &it)
	if it.ID == "" || it.Status != documents.StatusPending || it.Ticker != "BHP.AU" || it.CreatedAt.IsZero() {
		t.Fatalf("added item %+v", it)
	}
	loc := base + "/plan/items/" + it.ID
	if got := r.header.Get("Location"); got != loc {
		t.Fatalf("Location %q, want %q", got, loc)
	}
	steps := []struct {
		name, body, want string
	}{
		{"absent fields keep their value", `{"notes":"on a bigger dip"}`,
			`{"action":"buy","ticker":"BHP.AU","target_price":42.5,"target_date":"2026-09-30","trigger":"","status":"pending","notes":"on a bigger dip"}`},
		{"null clears", `{"target_price":null,"notes":null}`,
			`{"action":"buy","ticker":"BHP.AU","target_price":null,"target_date":"2026-09-30","trigger":"","status":"pending","notes":""}`},
		{"values replace", `{"action":"trim","trigger":"RSI above 70","status":"triggered"}`,
			`{"action":"trim","ticker":"BHP.AU","target_price":null,"target_date":"2026-09-30","trigger":"RSI above 70","status":"triggered","notes":""}`},
		{"merge-patch media type", `{"target_date":null}`,
			`{"action":"trim","ticker":"BHP.AU","target_price":null,"target_date":"","trigger":"RSI above 70","status":"triggered","notes":""}`},
	}
	for _, st := range steps {
		r := s.must(t, 200, http.MethodPatch, loc, st.body, "Content-Type: application/merge-patch+json")
		if got := without(t, r.body, "id", "created_at", "updated_at"); !sameJSON(t, got, st.want) {
			t.Fatalf("%s: PATCH %s gave %s, want %s", st.name, st.body, got, st.want)
		}
		g := s.must(t, 200, http.MethodGet, loc, "")
		if !sameJSON(t, g.body, string(r.body)) {
			t.Fatalf("%s: GET gave %s, PATCH %s", st.name, g.body, r.body)
		}
	}
	var plan documents.PlanDoc
	s.must(t, 200, http.MethodGet, base+"/plan", "").decode(t, &plan)
	if len(plan.Plan.Items) != 1 || plan.Version != 5 || plan.UpdatedBy != s.keyIDs["alice"] {
		t.Fatalf("plan %+v", plan)
	}
	s.must(t, 204, http.MethodDelete, loc, "")
	s.must(t, 404, http.MethodGet, loc, "")
}

func TestWatchItemMergeSemantics(t *testing.T) {
	s := newTestServer(t)
	item := base + "/watchlist/items/"
	r := s.must(t, 201, http.MethodPut, item+"cba.au", `{"notes":"bank","target_price":100,"verdict":"watch"}`)
	if r.header.Get("Location") != item+"CBA.AU" {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	steps := []struct {
		name, path, body, want string
	}{
		{"absent fields keep their value", "CBA.AU", `{"verdict":"accumulate"}`, `{"ticker":"CBA.AU","notes":"bank","target_price":100,"verdict":"accumulate"}`},
		{"null clears", "Cba.Au", `{"target_price":null,"verdict":null}`, `{"ticker":"CBA.AU","notes":"bank","target_price":null,"verdict":""}`},
		{"values replace", "CBA.AU", `{"notes":"big four","target_price":95.5}`, `{"ticker":"CBA.AU","notes":"big four","target_price":95.5,"verdict":""}`},
	}
	for _, st := range steps {
		r := s.must(t, 200, http.MethodPut, item+st.path, st.body)
		if got := without(t, r.body, "added_at", "updated_at"); !sameJSON(t, got, st.want) {
			t.Fatalf("%s: PUT %s gave %s, want %s", st.name, st.body, got, st.want)
		}
	}
	s.must(t, 201, http.MethodPut, item+"ANZ.AU", `{}`)
	var wl documents.WatchlistDoc
	s.must(t, 200, http.MethodGet, base+"/watchlist", "").decode(t, &wl)
	if len(wl.Watchlist.Items) != 2 || wl.Watchlist.Items[0].Ticker != "ANZ.AU" {
		t.Fatalf("watchlist %+v, want ANZ.AU then CBA.AU", wl.Watchlist.Items)
	}
	s.must(t, 204, http.MethodDelete, item+"anz.au", "")
	s.must(t, 404, http.MethodGet, item+"ANZ.AU", "")
}

// TestValidation sends bad input to every POST, PUT and PATCH and checks the
// status, the error code and the field named in details.
func TestValidation(t *testing.T) {
	s := newTestServer(t)
	s.must(t, 201, http.MethodPut, base+"/strategy", `{"max_sector_pct":20}`)
	var it documents.PlanItem
	s.must(t, 201, http.MethodPost, base+"/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":40}`).decode(t, &it)
	s.must(t, 201, http.MethodPut, base+"/watchlist/items/BHP.AU", `{}`)
	itemPath := base + "/plan/items/" + it.ID
	big := `{"notes":"` + strings.Repeat("x", MaxBodyBytes) + `"}`

	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code                     string
		field                    string
	}{
		// PUT strategy
		{"strategy unknown field", "PUT", base + "/strategy", `{"colour":"red"}`, nil, 400, "validation_failed", "colour"},
		{"strategy wrong type", "PUT", base + "/strategy", `{"max_position_pct":"ten"}`, nil, 400, "validation_failed", "max_position_pct"},
		{"strategy percent over 100", "PUT", base + "/strategy", `{"max_sector_pct":150}`, nil, 400, "validation_failed", "max_sector_pct"},
		{"strategy percent zero", "PUT", base + "/strategy", `{"max_position_pct":0}`, nil, 400, "validation_failed", "max_position_pct"},
		{"strategy position above sector", "PUT", base + "/strategy", `{"max_position_pct":25}`, nil, 400, "validation_failed", "max_position_pct"},
		{"strategy allocation over 100", "PUT", base + "/strategy", `{"target_allocation":{"equities":80,"bonds":30}}`, nil, 400, "validation_failed", "target_allocation"},
		{"strategy allocation negative", "PUT", base + "/strategy", `{"target_allocation":{"cash":-5}}`, nil, 400, "validation_failed", "target_allocation.cash"},
		{"strategy allocation wrong type", "PUT", base + "/strategy", `{"target_allocation":{"cash":"lots"}}`, nil, 400, "validation_failed", "target_allocation"},
		{"strategy risk enum", "PUT", base + "/strategy", `{"risk_appetite":"yolo"}`, nil, 400, "validation_failed", "risk_appetite"},
		{"strategy exchange code", "PUT", base + "/strategy", `{"universe":["AU","A"]}`, nil, 400, "validation_failed", "universe[1]"},
		{"strategy duplicate exchange", "PUT", base + "/strategy", `{"universe":["AU","au"]}`, nil, 400, "validation_failed", "universe[1]"},
		{"strategy sector both allowed and excluded", "PUT", base + "/strategy", `{"allowed_sectors":["Energy"],"excluded_sectors":["energy"]}`, nil, 400, "validation_failed", "excluded_sectors[0]"},
		{"strategy empty sector", "PUT", base + "/strategy", `{"allowed_sectors":[" "]}`, nil, 400, "validation_failed", "allowed_sectors[0]"},
		{"strategy notes too long", "PUT", base + "/strategy", `{"notes":"` + strings.Repeat("n", documents.MaxStrategyNotes+1) + `"}`, nil, 400, "validation_failed", "notes"},
		{"strategy not an object", "PUT", base + "/strategy", `["notes"]`, nil, 400, "invalid_json", ""},
		{"strategy null body", "PUT", base + "/strategy", `null`, nil, 400, "invalid_json", ""},
		{"strategy malformed", "PUT", base + "/strategy", `{"notes":`, nil, 400, "invalid_json", ""},
		{"strategy syntax error", "PUT", base + "/strategy", `{"notes" "x"}`, nil, 400, "invalid_json", ""},
		{"strategy trailing value", "PUT", base + "/strategy", `{"notes":"a"} {}`, nil, 400, "invalid_json", ""},
		{"strategy empty body", "PUT", base + "/strategy", ``, nil, 400, "invalid_json", ""},
		{"strategy wrong media type", "PUT", base + "/strategy", `{"notes":"a"}`, []string{"Content-Type: text/plain"}, 415, "unsupported_media_type", ""},
		{"strategy body too large", "PUT", base + "/strategy", big, nil, 413, "payload_too_large", ""},
		{"strategy bad portfolio name", "PUT", "/api/portfolios/a%01b/strategy", `{}`, nil, 400, "validation_failed", "name"},
		{"strategy long portfolio name", "PUT", "/api/portfolios/" + strings.Repeat("p", documents.MaxPortfolioNameLength+1) + "/strategy", `{}`, nil, 400, "validation_failed", "name"},
		{"strategy If-None-Match tag", "PUT", base + "/strategy", `{}`, []string{`If-None-Match: "abc"`}, 400, "validation_failed", "If-None-Match"},
		{"strategy If-Match list", "PUT", base + "/strategy", `{}`, []string{`If-Match: "a", "b"`}, 400, "validation_failed", "If-Match"},

		// POST plan item
		{"plan item missing action", "POST", base + "/plan/items", `{"ticker":"BHP.AU","target_price":1}`, nil, 400, "validation_failed", "action"},
		{"plan item bad action", "POST", base + "/plan/items", `{"action":"gamble","ticker":"BHP.AU","target_price":1}`, nil, 400, "validation_failed", "action"},
		{"plan item missing ticker", "POST", base + "/plan/items", `{"action":"buy","target_price":1}`, nil, 400, "validation_failed", "ticker"},
		{"plan item ticker without exchange", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP","target_price":1}`, nil, 400, "validation_failed", "ticker"},
		{"plan item ticker bad code", "POST", base + "/plan/items", `{"action":"buy","ticker":"B$P.AU","target_price":1}`, nil, 400, "validation_failed", "ticker"},
		{"plan item no target", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU"}`, nil, 400, "validation_failed", "target_price"},
		{"plan item negative price", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":-3}`, nil, 400, "validation_failed", "target_price"},
		{"plan item bad date", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","target_date":"30/09/2026"}`, nil, 400, "validation_failed", "target_date"},
		{"plan item bad status", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":1,"status":"done"}`, nil, 400, "validation_failed", "status"},
		{"plan item id is read-only", "POST", base + "/plan/items", `{"id":"x","action":"buy","ticker":"BHP.AU","target_price":1}`, nil, 400, "validation_failed", "id"},
		{"plan item unknown field", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":1,"qty":3}`, nil, 400, "validation_failed", "qty"},
		{"plan item wrong type", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","target_price":[1]}`, nil, 400, "validation_failed", "target_price"},
		{"plan item trigger too long", "POST", base + "/plan/items", `{"action":"buy","ticker":"BHP.AU","trigger":"` + strings.Repeat("t", documents.MaxTrigger+1) + `"}`, nil, 400, "validation_failed", "trigger"},

		// PATCH plan item
		{"plan patch clears action", "PATCH", itemPath, `{"action":null}`, nil, 400, "validation_failed", "action"},
		{"plan patch clears the only target", "PATCH", itemPath, `{"target_price":null}`, nil, 400, "validation_failed", "target_price"},
		{"plan patch bad status", "PATCH", itemPath, `{"status":"finished"}`, nil, 400, "validation_failed", "status"},
		{"plan patch created_at is read-only", "PATCH", itemPath, `{"created_at":"2020-01-01T00:00:00Z"}`, nil, 400, "validation_failed", "created_at"},
		{"plan patch bad ticker", "PATCH", itemPath, `{"ticker":"BHP.A"}`, nil, 400, "validation_failed", "ticker"},
		{"plan patch unknown field", "PATCH", itemPath, `{"colour":1}`, nil, 400, "validation_failed", "colour"},
		{"plan patch body too large", "PATCH", itemPath, big, nil, 413, "payload_too_large", ""},

		// PUT watchlist item
		{"watch bad verdict", "PUT", base + "/watchlist/items/BHP.AU", `{"verdict":"moon"}`, nil, 400, "validation_failed", "verdict"},
		{"watch negative price", "PUT", base + "/watchlist/items/BHP.AU", `{"target_price":-1}`, nil, 400, "validation_failed", "target_price"},
		{"watch ticker is read-only", "PUT", base + "/watchlist/items/BHP.AU", `{"ticker":"RIO.AU"}`, nil, 400, "validation_failed", "ticker"},
		{"watch bad ticker in path", "PUT", base + "/watchlist/items/BHP", `{}`, nil, 400, "validation_failed", "ticker"},
		{"watch notes wrong type", "PUT", base + "/watchlist/items/BHP.AU", `{"notes":5}`, nil, 400, "validation_failed", "notes"},
		{"watch control character", "PUT", base + "/watchlist/items/BHP.AU", `{"notes":"a\u0007b"}`, nil, 400, "validation_failed", "notes"},
		{"watch body too large", "PUT", base + "/watchlist/items/BHP.AU", big, nil, 413, "payload_too_large", ""},

		// POST restore
		{"restore without version", "POST", base + "/strategy/restore", `{}`, nil, 400, "validation_failed", "version"},
		{"restore version not a number", "POST", base + "/plan/restore", `{"version":"3"}`, nil, 400, "validation_failed", "version"},
		{"restore version fraction", "POST", base + "/watchlist/restore", `{"version":1.5}`, nil, 400, "validation_failed", "version"},
		{"restore version zero", "POST", base + "/strategy/restore", `{"version":0}`, nil, 400, "validation_failed", "version"},
		{"restore unknown field", "POST", base + "/strategy/restore", `{"version":1,"force":true}`, nil, 400, "validation_failed", "force"},
		{"history version not a number", "GET", base + "/strategy/history/latest", ``, nil, 400, "validation_failed", "version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, "alice", c.method, c.path, c.body, c.hdr...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			e := r.errorBody(t)
			if e.Code != c.code {
				t.Fatalf("code %q, want %q (%s)", e.Code, c.code, e.Message)
			}
			if c.field != "" {
				if f := r.fields(t); len(f) == 0 || f[0] != c.field {
					t.Fatalf("details name fields %v, want %q first: %s", f, c.field, r.body)
				}
			}
		})
	}
	// Nothing above changed anything.
	for _, p := range []string{"/strategy/history", "/plan/history", "/watchlist/history"} {
		var h documents.History
		s.must(t, 200, "GET", base+p, "").decode(t, &h)
		if h.Current != 1 {
			t.Errorf("%s: bad requests made versions: %+v", p, h.Versions)
		}
	}
}

func TestNotFound(t *testing.T) {
	s := newTestServer(t)
	s.must(t, 201, http.MethodPut, "/api/portfolios/other/strategy", `{}`)
	for _, c := range []struct{ method, path, body string }{
		{"GET", base + "/strategy", ""},
		{"DELETE", base + "/strategy", ""},
		{"GET", base + "/strategy/history", ""},
		{"GET", base + "/strategy/history/1", ""},
		{"POST", base + "/strategy/restore", `{"version":1}`},
		{"GET", base + "/plan", ""},
		{"DELETE", base + "/plan", ""},
		{"GET", base + "/plan/items/abc", ""},
		{"PATCH", base + "/plan/items/abc", `{"notes":"x"}`},
		{"DELETE", base + "/plan/items/abc", ""},
		{"GET", base + "/plan/history", ""},
		{"GET", base + "/watchlist", ""},
		{"DELETE", base + "/watchlist", ""},
		{"GET", base + "/watchlist/items/BHP.AU", ""},
		{"DELETE", base + "/watchlist/items/BHP.AU", ""},
		{"GET", base + "/watchlist/history", ""},
		{"GET", "/api/portfolios/other/strategy/history/7", ""},
		{"GET", "/api/portfolios/other/nothing", ""},
	} {
		r := s.do(t, "alice", c.method, c.path, c.body)
		if r.status != 404 || r.errorBody(t).Code != "not_found" {
			t.Errorf("%s %s: %d %s, want 404 not_found", c.method, c.path, r.status, r.body)
		}
	}
	// Items of an existing document.
	s.must(t, 201, http.MethodPost, base+"/plan/items", `{"action":"review","ticker":"WES.AU","trigger":"results day"}`)
	s.must(t, 201, http.MethodPut, base+"/watchlist/items/WES.AU", `{}`)
	for _, p := range []string{base + "/plan/items/0000", base + "/watchlist/items/RIO.AU"} {
		if r := s.do(t, "alice", "GET", p, ""); r.status != 404 {
			t.Errorf("GET %s: %d, want 404", p, r.status)
		}
	}
}

func TestConflicts(t *testing.T) {
	s := newTestServer(t)
	var it documents.PlanItem
	body := `{"action":"sell","ticker":"FMG.AU","target_price":25}`
	s.must(t, 201, http.MethodPost, base+"/plan/items", body).decode(t, &it)
	item := base + "/plan/items/" + it.ID

	r := s.must(t, 409, http.MethodPost, base+"/plan/items", body)
	if e := r.errorBody(t); e.Code != documents.CodeDuplicate || !strings.Contains(string(r.body), it.ID) {
		t.Fatalf("duplicate: %s", r.body)
	}
	s.must(t, 200, http.MethodPatch, item, `{"status":"completed"}`)
	for _, to := range []string{"pending", "triggered", "expired", "cancelled"} {
		r := s.must(t, 409, http.MethodPatch, item, fmt.Sprintf(`{"status":%q}`, to))
		if e := r.errorBody(t); e.Code != documents.CodeInvalidTransition {
			t.Fatalf("completed → %s: %s", to, r.body)
		}
	}
	s.must(t, 200, http.MethodPatch, item, `{"status":"completed","notes":"sold at 25.10"}`)

	s.must(t, 204, http.MethodDelete, base+"/plan", "")
	// Versions: 1 add, 2 completed, 3 notes, 4 the deletion.
	r = s.must(t, 409, http.MethodPost, base+"/plan/restore", `{"version":4}`)
	if e := r.errorBody(t); e.Code != documents.CodeDeletedVersion {
		t.Fatalf("restoring a deletion: %s", r.body)
	}
	if r := s.must(t, 409, http.MethodGet, base+"/plan/history/4", ""); r.errorBody(t).Code != documents.CodeDeletedVersion {
		t.Fatalf("reading a deletion: %s", r.body)
	}
	var doc documents.PlanDoc
	s.must(t, 200, http.MethodPost, base+"/plan/restore", `{"version":3}`).decode(t, &doc)
	if doc.Version != 5 || len(doc.Plan.Items) != 1 || doc.Plan.Items[0].Notes != "sold at 25.10" {
		t.Fatalf("undo of the delete: %+v", doc)
	}
}

func TestPreconditions(t *testing.T) {
	s := newTestServer(t)
	r1 := s.must(t, 201, http.MethodPut, base+"/strategy", `{"notes":"v1"}`, "If-None-Match: *")
	e1 := r1.header.Get("ETag")
	if !strings.HasPrefix(e1, `"`) || !strings.HasSuffix(e1, `"`) {
		t.Fatalf("ETag %q is not a quoted strong ETag", e1)
	}
	s.must(t, 412, http.MethodPut, base+"/strategy", `{"notes":"again"}`, "If-None-Match: *")
	r2 := s.must(t, 200, http.MethodPut, base+"/strategy", `{"notes":"v2"}`, "If-Match: "+e1)
	e2 := r2.header.Get("ETag")
	if e2 == e1 {
		t.Fatal("the ETag did not change")
	}
	for _, c := range []struct{ method, path, body string }{
		{"PUT", base + "/strategy", `{"notes":"lost"}`},
		{"DELETE", base + "/strategy", ""},
		{"POST", base + "/strategy/restore", `{"version":1}`},
	} {
		r := s.must(t, 412, c.method, c.path, c.body, "If-Match: "+e1)
		if r.errorBody(t).Code != "precondition_failed" {
			t.Fatalf("%s: %s", c.path, r.body)
		}
	}
	s.must(t, 412, http.MethodPut, base+"/strategy", `{"notes":"weak"}`, "If-Match: W/"+e2)
	s.must(t, 200, http.MethodPut, base+"/strategy", `{"notes":"v3"}`, "If-Match: *")
	s.must(t, 412, http.MethodPut, base+"/watchlist/items/NAB.AU", `{}`, "If-Match: *")

	// Item writes are conditional on the whole document's ETag.
	var it documents.PlanItem
	r := s.must(t, 201, http.MethodPost, base+"/plan/items", `{"action":"buy","ticker":"NAB.AU","target_price":30}`)
	r.decode(t, &it)
	stale := r.header.Get("ETag")
	item := base + "/plan/items/" + it.ID
	fresh := s.must(t, 200, http.MethodPatch, item, `{"notes":"first"}`, "If-Match: "+stale).header.Get("ETag")
	s.must(t, 412, http.MethodPatch, item, `{"notes":"second"}`, "If-Match: "+stale)
	s.must(t, 412, http.MethodDelete, item, "", "If-Match: "+stale)
	s.must(t, 412, http.MethodPost, base+"/plan/items", `{"action":"sell","ticker":"NAB.AU","target_price":40}`, "If-Match: "+stale)
	s.must(t, 204, http.MethodDelete, item, "", "If-Match: "+fresh)

	w := s.must(t, 201, http.MethodPut, base+"/watchlist/items/NAB.AU", `{}`).header.Get("ETag")
	s.must(t, 200, http.MethodPut, base+"/watchlist/items/NAB.AU", `{"notes":"x"}`, "If-Match: "+w)
	s.must(t, 412, http.MethodPut, base+"/watchlist/items/NAB.AU", `{"notes":"y"}`, "If-Match: "+w)
	s.must(t, 412, http.MethodDelete, base+"/watchlist", "", "If-Match: "+w)

	var st documents.StrategyDoc
	s.must(t, 200, http.MethodGet, base+"/strategy", "").decode(t, &st)
	if st.Strategy.Notes != "v3" {
		t.Fatalf("a failed conditional write changed the strategy: %+v", st)
	}
}
