package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/internal/tenanttest"
)

// idleRuntime is a server with no plugins: ready, nothing to list (as an
// empty list, the way app.App reports it).
type idleRuntime struct{}

func (idleRuntime) Ready(context.Context) error   { return nil }
func (idleRuntime) Statuses() []pluginhost.Status { return []pluginhost.Status{} }

// testServer is the real router behind the real access layer, over a real
// encrypted store on the file backend, served over HTTP. Requests are sent
// with the API key of a named test principal.
type testServer struct {
	*httptest.Server
	dir string
	// keys maps a principal's name to its API key; keyIDs to the key's id.
	keys, keyIDs map[string]string
}

// encryptedStore opens a hosted-layout store over the file backend in dir,
// encrypted through the env key provider.
func encryptedStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	return servertest.EncryptedStore(t, store.Options{Backend: servertest.FileBackend(t, dir)})
}

// Test principals: a tenant and the scopes of its key.
var testPrincipals = map[string]tenanttest.Principal{
	"alice":    {Tenant: "alice", Scopes: []tenant.Scope{tenant.ScopeRead, tenant.ScopeWrite}},
	"alice-ro": {Tenant: "alice", Scopes: []tenant.Scope{tenant.ScopeRead}},
	"bob":      {Tenant: "bob", Scopes: []tenant.Scope{tenant.ScopeRead, tenant.ScopeWrite}},
	// alice's administrator, for the admin routes' documentation test.
	"alice-admin": {Tenant: "alice", Scopes: tenant.AllScopes},
}

// newTestServer serves the documents of a fresh encrypted store, with API
// keys for the test principals issued by the tenant service.
func newTestServer(t testing.TB) *testServer {
	t.Helper()
	dir := t.TempDir()
	st := encryptedStore(t, dir)
	ts, err := tenant.New(tenant.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{dir: dir}
	s.issueKeys(t, ts, testPrincipals)
	s.start(t, Options{Documents: documents.New(st, documents.Options{})}, AccessOptions{Auth: ts}, ts)
	return s
}

// issueKeys gives each principal an API key issued by ts.
func (s *testServer) issueKeys(t testing.TB, ts *tenant.Service, principals map[string]tenanttest.Principal) {
	t.Helper()
	s.keys, s.keyIDs = map[string]string{}, map[string]string{}
	for name, k := range tenanttest.Keys(t, ts, principals) {
		s.keys[name], s.keyIDs[name] = k.Key, k.Info.ID
	}
}

// start serves NewRouter(o) behind Protect(ao), or unprotected when ao is
// nil-valued (no Auth and not Personal). With a tenant service the admin
// routes are mounted too, as on a hosted server.
func (s *testServer) start(t testing.TB, o Options, ao AccessOptions, admin ...*tenant.Service) {
	t.Helper()
	router := NewRouter(idleRuntime{}, o)
	for _, ts := range admin {
		MountAdmin(router, ts, nil)
	}
	var h http.Handler = router
	if ao.Auth != nil || ao.Personal {
		var err error
		if h, err = Protect(router, ao); err != nil {
			t.Fatal(err)
		}
	}
	s.Server = httptest.NewServer(h)
	t.Cleanup(s.Server.Close)
}

// response is one HTTP exchange's result.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// errorBody decodes the standard error shape.
func (r response) errorBody(t testing.TB) ErrorDetail {
	t.Helper()
	var eb struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	r.decode(t, &eb)
	if eb.Error.Code == "" || eb.Error.Message == "" {
		t.Fatalf("not the standard error shape: %s", r.body)
	}
	var details any
	if len(eb.Error.Details) > 0 {
		_ = json.Unmarshal(eb.Error.Details, &details)
	}
	return ErrorDetail{Code: eb.Error.Code, Message: eb.Error.Message, Details: details}
}

// fields returns the field names of a validation error's details.
func (r response) fields(t testing.TB) []string {
	t.Helper()
	var eb struct {
		Error struct {
			Details []documents.FieldError `json:"details"`
		} `json:"error"`
	}
	r.decode(t, &eb)
	out := make([]string, len(eb.Error.Details))
	for i, f := range eb.Error.Details {
		if f.Message == "" {
			t.Errorf("field %q has no message", f.Field)
		}
		out[i] = f.Field
	}
	return out
}

// do sends a request as the principal who ("" for none); hdr is
// "Name: value" pairs.
func (s *testServer) do(t testing.TB, who, method, path, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		key, ok := s.keys[who]
		if !ok {
			t.Fatalf("no test principal %q", who)
		}
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// must sends a request and fails the test unless the status is want.
func (s *testServer) must(t testing.TB, want int, method, path, body string, hdr ...string) response {
	t.Helper()
	r := s.do(t, "alice", method, path, body, hdr...)
	if r.status != want {
		t.Fatalf("%s %s %s: status %d, want %d: %s", method, path, body, r.status, want, r.body)
	}
	return r
}

// compact re-encodes JSON without spaces, for comparisons.
func compact(t testing.TB, s []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, s); err != nil {
		t.Fatalf("compacting %s: %v", s, err)
	}
	return b.String()
}
