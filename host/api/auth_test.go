package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/servertest"
)

// TestAuthFailures sends every refused request over HTTP to the real
// router and checks status, error code, WWW-Authenticate and the JSON body.
func TestAuthFailures(t *testing.T) {
	ctx := context.Background()
	e := newAccessEnv(t, accessConfig{})
	rw := e.newTenantKey(t, "alice", tenant.ScopeRead, tenant.ScopeWrite)
	ro := e.newTenantKey(t, "alice", tenant.ScopeRead)
	adm := e.newTenantKey(t, "alice", tenant.ScopeAdmin)
	revoked := e.newTenantKey(t, "alice", tenant.ScopeRead)
	if _, err := e.svc.RevokeKey(ctx, "alice", revoked.Info.ID); err != nil {
		t.Fatal(err)
	}
	expiring, err := e.svc.CreateKey(ctx, "alice", tenant.KeySpec{Expires: e.clock.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	sus := e.newTenantKey(t, "sus", tenant.ScopeRead)
	if _, err := e.svc.SuspendTenant(ctx, "sus"); err != nil {
		t.Fatal(err)
	}
	// A typo: change the case of one letter in the secret. Position 30 may
	// hold a digit, so walk to the next letter.
	typo := []byte(rw.Key)
	for i := 30; ; i++ {
		if c := typo[i] | 0x20; c >= 'a' && c <= 'z' {
			typo[i] ^= 0x20
			break
		}
	}
	forged := foreignKey(t)

	for _, tc := range []struct {
		name, method, path, key string
		hdr                     []string
		advance                 time.Duration
		status                  int
		code                    string
		wwwAuth                 string // substring of WWW-Authenticate; "" requires none
	}{
		{"no key", "GET", "/api/test/items/a", "", nil, 0, 401, "unauthenticated", `Bearer realm="vire"`},
		{"other scheme", "GET", "/api/test/items/a", "", []string{"Authorization", "Basic YWxpY2U6c2VjcmV0"}, 0, 401, "invalid_token", `error="invalid_token"`},
		{"empty bearer", "GET", "/api/test/items/a", "", []string{"Authorization", "Bearer "}, 0, 401, "invalid_token", `error="invalid_token"`},
		{"malformed", "GET", "/api/test/items/a", "not-a-key", nil, 0, 401, "invalid_token", `error_description="malformed"`},
		{"checksum fails", "GET", "/api/test/items/a", string(typo), nil, 0, 401, "invalid_token", `error_description="malformed"`},
		{"unknown", "GET", "/api/test/items/a", forged, nil, 0, 401, "invalid_token", `error_description="unknown"`},
		{"revoked", "GET", "/api/test/items/a", revoked.Key, nil, 0, 401, "invalid_token", `error_description="revoked"`},
		{"not yet expired", "GET", "/api/test/items/a", expiring.Key, nil, 0, 200, "", ""},
		{"expired", "GET", "/api/test/items/a", expiring.Key, nil, time.Minute, 401, "invalid_token", `error_description="expired"`},
		{"suspended tenant", "GET", "/api/test/items/a", sus.Key, nil, 0, 403, "tenant_suspended", ""},
		{"read-only key writes", "PUT", "/api/test/items/a", ro.Key, nil, 0, 403, "insufficient_scope", `error="insufficient_scope", scope="write"`},
		{"admin-only key reads", "GET", "/api/test/items/a", adm.Key, nil, 0, 403, "insufficient_scope", `scope="read"`},
		{"data key on admin API", "GET", "/api/admin/keys", rw.Key, nil, 0, 403, "insufficient_scope", `scope="admin"`},
		{"tenant admin lists tenants", "GET", "/api/admin/tenants", adm.Key, nil, 0, 403, "forbidden", ""},
		{"tenant admin on another tenant", "GET", "/api/admin/tenants/sus/keys", adm.Key, nil, 0, 403, "forbidden", ""},
		{"tenant admin suspends itself", "POST", "/api/admin/tenants/alice/suspend", adm.Key, nil, 0, 403, "forbidden", ""},
		{"good read", "GET", "/api/test/items/a", ro.Key, nil, 0, 200, "", ""},
		{"good write", "PUT", "/api/test/items/a", rw.Key, nil, 0, 200, "", ""},
		{"public health", "GET", "/api/health", "", nil, 0, 200, "", ""},
		{"unknown route", "GET", "/api/nope", "", nil, 0, 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Add(tc.advance)
			r := e.call(t, tc.method, tc.path, tc.key, nil, tc.hdr...)
			if r.status != tc.status || r.errCode() != tc.code {
				t.Fatalf("%d %q, want %d %q\n%s", r.status, r.errCode(), tc.status, tc.code, r.raw)
			}
			if got := r.header.Get("WWW-Authenticate"); tc.wwwAuth == "" && got != "" || !strings.Contains(got, tc.wwwAuth) {
				t.Errorf("WWW-Authenticate %q, want it to contain %q", got, tc.wwwAuth)
			}
			if tc.status >= 400 {
				e, _ := r.body["error"].(map[string]any)
				if msg, _ := e["message"].(string); msg == "" {
					t.Errorf("error body without a message: %s", r.raw)
				}
			}
			if id := r.header.Get("X-Request-ID"); len(id) != 24 {
				t.Errorf("X-Request-ID %q", id)
			}
		})
	}
}

// foreignKey returns a well-formed key (its checksum holds) issued by
// another server, so this one has never heard of it.
func foreignKey(t *testing.T) string {
	t.Helper()
	st, err := store.New(store.Options{Backend: servertest.FileBackend(t, t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := tenant.New(tenant.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateKey(context.Background(), tenant.OperatorTenant, tenant.KeySpec{})
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

// TestTenantComesOnlyFromTheKey: no header, query parameter or path
// selects the tenant a request acts for.
func TestTenantComesOnlyFromTheKey(t *testing.T) {
	e := newAccessEnv(t, accessConfig{})
	alice := e.newTenantKey(t, "alice", tenant.ScopeRead, tenant.ScopeAdmin)
	e.newTenantKey(t, "bob", tenant.ScopeRead)
	for _, hdr := range [][]string{
		nil,
		{"X-User-ID", "bob"},
		{"X-Tenant-ID", "bob"},
		{"X-Vire-Tenant", "bob", "X-Forwarded-User", "bob", "Tenant", "bob"},
	} {
		for _, path := range []string{"/api/test/items/a", "/api/test/items/a?tenant=bob&user_id=bob", "/api/whoami?tenant=bob"} {
			r := e.call(t, "GET", path, alice.Key, nil, hdr...)
			if r.status != 200 {
				t.Fatalf("%s %v: %d %s", path, hdr, r.status, r.raw)
			}
			p, ok := r.body["principal"].(map[string]any)
			if !ok {
				p = r.body // /api/whoami returns the principal itself
			}
			if p["tenant"] != "alice" {
				t.Fatalf("%s with %v acted for %v", path, hdr, p["tenant"])
			}
		}
	}
	// The own-tenant key listing shows alice's keys only, whatever the headers say.
	r := e.call(t, "GET", "/api/admin/keys", alice.Key, nil, "X-Tenant-ID", "bob", "X-User-ID", "bob")
	keys, _ := r.body["keys"].([]any)
	if r.status != 200 || len(keys) != 1 || keys[0].(map[string]any)["tenant"] != "alice" {
		t.Fatalf("key listing: %d %s", r.status, r.raw)
	}
	// Without a key, a header naming a tenant gets nowhere.
	if r := e.call(t, "GET", "/api/test/items/a", "", nil, "X-Tenant-ID", "alice"); r.status != 401 {
		t.Fatalf("header without a key: %d", r.status)
	}
}

func TestRateLimit(t *testing.T) {
	e := newAccessEnv(t, accessConfig{rate: tenant.Rate{PerMinute: 60, Burst: 3}})
	k := e.newTenantKey(t, "alice", tenant.ScopeRead)
	other := e.newTenantKey(t, "alice", tenant.ScopeRead)
	for i := range 3 {
		r := e.call(t, "GET", "/api/test/items/a", k.Key, nil)
		if r.status != 200 || r.header.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: %d, remaining %q", i, r.status, r.header.Get("X-RateLimit-Remaining"))
		}
	}
	r := e.call(t, "GET", "/api/test/items/a", k.Key, nil)
	if r.status != 429 || r.errCode() != "rate_limited" {
		t.Fatalf("over the burst: %d %s", r.status, r.raw)
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 1 {
		t.Fatalf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	details := r.body["error"].(map[string]any)["details"].(map[string]any)
	if details["retry_after_seconds"] != float64(1) || details["limit_per_minute"] != float64(60) {
		t.Fatalf("details %v", details)
	}
	// Another key has its own budget; public routes are never limited.
	if r := e.call(t, "GET", "/api/test/items/a", other.Key, nil); r.status != 200 {
		t.Fatalf("another key: %d", r.status)
	}
	for range 5 {
		if r := e.call(t, "GET", "/api/health", "", nil); r.status != 200 {
			t.Fatalf("health: %d", r.status)
		}
	}
}

// TestTwoServersShareOneBudget: two server instances over one storage
// directory, each with a shared limiter, give a key one budget.
func TestTwoServersShareOneBudget(t *testing.T) {
	dir := t.TempDir()
	rate := tenant.Rate{PerMinute: 1, Burst: 4} // nothing refills during the test
	a := newAccessEnv(t, accessConfig{dir: dir, rate: rate, shared: true})
	b := newAccessEnv(t, accessConfig{dir: dir, rate: rate, shared: true})
	k := a.newTenantKey(t, "alice", tenant.ScopeRead)
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv := []*accessEnv{a, b}[i%2]
			switch r := srv.call(t, "GET", "/api/test/items/a", k.Key, nil); r.status {
			case 200:
				ok.Add(1)
			case 429:
				limited.Add(1)
			default:
				t.Errorf("status %d: %s", r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 4 || limited.Load() != 8 {
		t.Fatalf("%d served, %d limited; want 4 and 8 across both servers", ok.Load(), limited.Load())
	}
}

func TestPersonalMode(t *testing.T) {
	e := newAccessEnv(t, accessConfig{personal: true})
	for _, hdr := range [][]string{nil, {"X-Tenant-ID", "bob"}, {"Authorization", "Bearer whatever"}} {
		r := e.call(t, "PUT", "/api/test/items/a", "", nil, hdr...)
		p, _ := r.body["principal"].(map[string]any)
		if r.status != 200 || p["tenant"] != "personal" || len(p["scopes"].([]any)) != 3 {
			t.Fatalf("personal request with %v: %d %s", hdr, r.status, r.raw)
		}
	}
	// No admin API without tenants.
	if r := e.call(t, "GET", "/api/admin/tenants", "", nil); r.status != 404 {
		t.Fatalf("admin API in personal mode: %d", r.status)
	}
	rep, err := tenant.Verify(context.Background(), e.store, "personal")
	if err != nil || !rep.OK() || rep.Records != 3 {
		t.Fatalf("personal audit: %+v %v", rep, err)
	}
	// The personal layout keeps the audit log at the top level.
	if blobs := servertest.AllBlobs(t, e.backend); len(blobs) == 0 {
		t.Fatal("nothing stored")
	} else {
		for k := range blobs {
			if strings.HasPrefix(k, "users/") {
				t.Fatalf("a personal store wrote %s", k)
			}
		}
	}
}

// TestAuditRecords: each authenticated request leaves one record with the
// route template, status and request id; nothing secret is kept, logged or
// stored anywhere.
func TestAuditRecords(t *testing.T) {
	ctx := context.Background()
	e := newAccessEnv(t, accessConfig{rate: tenant.Rate{PerMinute: 60, Burst: 3}})
	k := e.newTenantKey(t, "alice", tenant.ScopeRead)
	var ids []string
	for _, path := range []string{"/api/test/items/first?secret=hunter2", "/api/test/items/second"} {
		r := e.call(t, "GET", path, k.Key, nil)
		ids = append(ids, r.header.Get("X-Request-ID"))
	}
	e.call(t, "PUT", "/api/test/items/third", k.Key, map[string]string{"password": "hunter2"}) // 403
	e.call(t, "GET", "/api/test/items/4", k.Key, nil)                                          // 200, burst used up
	e.call(t, "GET", "/api/test/items/5", k.Key, nil)                                          // 429
	e.call(t, "GET", "/api/test/items/6", "vire_garbage", nil)                                 // 401: no tenant, no record
	if err := e.audit.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := tenant.Verify(ctx, e.store, "alice")
	if err != nil || !rep.OK() || rep.Records != 5 {
		t.Fatalf("Verify = %+v %v", rep, err)
	}
	var recs []tenant.Record
	page, err := e.store.List(ctx, "alice", "audit", store.ListOpts{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items { // segments, in chain order
		var seg struct {
			Records []tenant.Record `json:"records"`
		}
		if _, err := e.store.Get(ctx, "alice", "audit", it.Name, &seg); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, seg.Records...)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records found in storage", len(recs))
	}
	var statuses []int
	for i, r := range recs {
		statuses = append(statuses, r.Status)
		if r.Route != "/api/test/items/{name}" || r.KeyID != k.Info.ID || r.Time.IsZero() {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if got := statuses; got[0] != 200 || got[1] != 200 || got[2] != 403 || got[3] != 200 || got[4] != 429 {
		t.Fatalf("statuses %v", got)
	}
	if recs[0].RequestID != ids[0] || recs[1].RequestID != ids[1] {
		t.Fatalf("request ids %q %q, responses said %q", recs[0].RequestID, recs[1].RequestID, ids)
	}
	// The key (and its secret part) appear in no blob and no log line;
	// nor does anything from the query string or the body.
	secret := k.Key[len(tenant.KeyPrefix)+13:]
	for name, data := range servertest.AllBlobs(t, e.backend) {
		for _, s := range []string{k.Key, secret, "hunter2", "first?"} {
			if strings.Contains(string(data), s) {
				t.Fatalf("blob %s holds %q", name, s)
			}
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "API key created") {
		t.Fatal("the test captured no logs")
	}
	for _, s := range []string{k.Key, secret, e.operator, "hunter2", "vire_garbage"} {
		if strings.Contains(logs, s) {
			t.Fatalf("the logs hold %q:\n%s", s, logs)
		}
	}
}

// TestStorageDownIs503: when the key records cannot be read, a well-formed
// key gets 503 (retry later), not 401 (which would tell clients their key
// is bad); a malformed key is still refused without storage.
func TestStorageDownIs503(t *testing.T) {
	e := newAccessEnv(t, accessConfig{})
	k := e.newTenantKey(t, "alice", tenant.ScopeRead)
	e.backend.Close()
	r := e.call(t, "GET", "/api/test/items/a", k.Key, nil)
	if r.status != 503 || r.errCode() != "auth_unavailable" || r.header.Get("Retry-After") == "" {
		t.Fatalf("storage down: %d %v %s", r.status, r.header, r.raw)
	}
	if r := e.call(t, "GET", "/api/test/items/a", "vire_nonsense", nil); r.status != 401 {
		t.Fatalf("malformed key with storage down: %d", r.status)
	}
	if strings.Contains(e.logs.String(), k.Key) {
		t.Fatal("the key was logged")
	}
}

// TestResourceMetadataChallenge: with ResourceMetadata set, every Bearer
// challenge names it, as MCP clients expect.
func TestResourceMetadataChallenge(t *testing.T) {
	e := newAccessEnv(t, accessConfig{})
	ro := e.newTenantKey(t, "alice", tenant.ScopeRead)
	r := mux.NewRouter()
	r.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, 200, "ok") }).Methods(http.MethodPost)
	const meta = "https://vire.example/.well-known/oauth-protected-resource"
	h, err := Protect(r, AccessOptions{Auth: e.svc, ResourceMetadata: meta, Scopes: map[string]tenant.Scope{"/mcp": tenant.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key    string
		status int
		want   string
	}{
		{"", 401, `Bearer realm="vire", resource_metadata="` + meta + `"`},
		{"vire_bad", 401, `resource_metadata="` + meta + `", error="invalid_token"`},
		{ro.Key, 200, ""}, // the route's scope override admits a read key to a POST
	} {
		req := httptest.NewRequest("POST", "/mcp", nil)
		if tc.key != "" {
			req.Header.Set("Authorization", "Bearer "+tc.key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		got := w.Header().Get("WWW-Authenticate")
		if w.Code != tc.status || !strings.Contains(got, tc.want) || tc.want == "" && got != "" {
			t.Errorf("key %q: %d %q, want %d %q", tc.key, w.Code, got, tc.status, tc.want)
		}
	}
}

// TestPanickingHandlerIsAudited: a handler that panics still leaves a
// record, as a 500.
func TestPanickingHandlerIsAudited(t *testing.T) {
	e := newAccessEnv(t, accessConfig{})
	k := e.newTenantKey(t, "alice", tenant.ScopeRead)
	req, _ := http.NewRequest("GET", e.url+"/api/test/panic", nil)
	req.Header.Set("Authorization", "Bearer "+k.Key)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a panicking handler answered %d", resp.StatusCode)
	}
	ctx := context.Background()
	page, err := e.store.List(ctx, "alice", "audit", store.ListOpts{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("segments %+v %v", page, err)
	}
	var seg struct{ Records []tenant.Record }
	if _, err := e.store.Get(ctx, "alice", "audit", page.Items[0].Name, &seg); err != nil {
		t.Fatal(err)
	}
	if len(seg.Records) != 1 || seg.Records[0].Status != 500 || seg.Records[0].Route != "/api/test/panic" {
		t.Fatalf("records %+v", seg.Records)
	}
}
