// Package faketransit is a local stand-in for the parts of HashiCorp Vault's
// HTTP API that Vire's vault key provider speaks: the transit secrets engine,
// token and AppRole authentication, KV v2 reads, sys/health and sys/mounts.
//
// No Vault server can be installed where Vire's tests run, so the fake
// follows Vault's documented and observed behaviour closely enough that a
// client which passes against it works against Vault: the same paths, the
// same JSON envelopes, errors as {"errors": [...]} with Vault's statuses and
// messages, transit's ciphertext format and version rules, and real
// cryptography. Each key version holds 32 random bytes; a derived key's
// per-context key is HKDF-SHA256(version key, no salt, info = context), as in
// Vault's hkdf_sha256 KDF, and data is sealed with AES-256-GCM under a random
// 96-bit nonce as "vault:vN:" + base64(nonce || ciphertext || tag).
//
// Beyond Vault, tests get switches: revoke and restore a token, move the
// server clock (token TTLs), seal the server, inject 5xx answers, and count
// the requests each path received.
package faketransit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure a Server.
type Options struct {
	// RootToken is the root token's id; a random "hvs." token when empty.
	RootToken string
	// TLS serves HTTPS with httptest's certificate (valid for 127.0.0.1,
	// ::1 and example.com); see Server.CACertPEM.
	TLS bool
	// Now is the server's clock; time.Now when nil. Advance moves it on.
	Now func() time.Time
}

// Rule grants capabilities on a path, as one path block of a Vault policy.
// Path may end in "*" (prefix match) and may hold "+" for one segment.
type Rule struct {
	Path         string
	Capabilities []string
}

// Server is a running fake Vault. It is safe for concurrent use.
type Server struct {
	// URL is the server's address, e.g. http://127.0.0.1:34567.
	URL string
	// RootToken may do anything, like a dev server's root token.
	RootToken string

	srv   *httptest.Server
	clock func() time.Time

	mu         sync.Mutex
	skew       time.Duration
	sealed     bool
	tokens     map[string]*token
	lastIssued string
	roles      map[string]*appRole // by role_id
	mounts     map[string]string   // mount path (no trailing slash) → engine type
	keys       map[string]*key     // "<mount>/<name>" → key
	kv         map[string]*kvEntry // "<mount>/<path>" → entry
	faults     []fault
	calls      map[string]int // "METHOD path" → requests received
	denied     int
	requests   int
}

type token struct {
	id, accessor string
	root         bool
	rules        []Rule
	created      time.Time
	ttl          time.Duration // zero: never expires
	revoked      bool
}

type appRole struct {
	secretID string
	ttl      time.Duration
	rules    []Rule
}

type fault struct {
	status int
	left   int
}

// defaultRules is Vault's default policy, as far as this fake serves it.
var defaultRules = []Rule{
	{Path: "auth/token/lookup-self", Capabilities: []string{"read"}},
	{Path: "auth/token/renew-self", Capabilities: []string{"update"}},
	{Path: "auth/token/revoke-self", Capabilities: []string{"update"}},
}

// New starts a server; it stops when the test ends. Like `vault server
// -dev` it has KV v2 mounted at secret/ and, like any fresh Vault, no
// transit engine: mount one with Mount or POST /v1/sys/mounts/transit.
func New(tb testing.TB, o Options) *Server {
	tb.Helper()
	if o.RootToken == "" {
		o.RootToken = "hvs." + randomID(12)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{
		RootToken: o.RootToken,
		clock:     o.Now,
		tokens:    map[string]*token{},
		roles:     map[string]*appRole{},
		mounts:    map[string]string{"secret": "kv-v2"},
		keys:      map[string]*key{},
		kv:        map[string]*kvEntry{},
		calls:     map[string]int{},
	}
	s.tokens[o.RootToken] = &token{id: o.RootToken, accessor: randomID(12), root: true, created: o.Now()}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Tests provoke failed TLS handshakes on purpose; keep them out of the
	// test output.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if o.TLS {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// CACertPEM returns the PEM of the certificate a TLS server presents, or nil
// for a plain HTTP server.
func (s *Server) CACertPEM() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pemCert(s.srv.Certificate().Raw)
}

// Close stops the server; later requests fail to connect.
func (s *Server) Close() { s.srv.Close() }

// Mount enables a secrets engine ("transit" or "kv-v2") at path.
func (s *Server) Mount(path, engine string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mounts[strings.Trim(path, "/")] = engine
}

// Advance moves the server clock forward, expiring tokens whose TTL passes.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew += d
}

// Now returns the server clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.clock().Add(s.skew) }

// Seal makes the server answer as a sealed Vault: 503 everywhere, and
// sys/health reporting sealed. Seal(false) unseals it.
func (s *Server) Seal(sealed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = sealed
}

// FailNext makes the next n requests, whatever their path, fail with status
// before anything else is done.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{status: status, left: n})
}

// Calls returns how many requests arrived for method and path (the path
// after /v1/, with the namespace prepended when one was sent), failed ones
// included.
func (s *Server) Calls(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method+" "+path]
}

// Requests returns how many requests the server received in all.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Denied returns how many requests were answered 403.
func (s *Server) Denied() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.denied
}

// request is one API call after routing.
type request struct {
	method string
	path   string // after /v1/, namespace included
	body   map[string]any
	query  map[string][]string
	tok    *token
}

// response is what a handler answers; a nil data with status 200 is sent
// as 204, as Vault does for an empty response.
type response struct {
	status   int
	data     any
	auth     any
	warnings []string
	errs     []string
	raw      any // sent as the whole body (sys/health)
}

func ok(data any) response { return response{status: http.StatusOK, data: data} }
func noContent() response  { return response{status: http.StatusNoContent} }
func fail(status int, msg ...string) response {
	if msg == nil {
		msg = []string{}
	}
	return response{status: status, errs: msg}
}
func badRequest(format string, args ...any) response {
	return fail(http.StatusBadRequest, fmt.Sprintf(format, args...))
}

// Vault's messages for a refused token: an unknown, expired or revoked one
// gets both errors, a valid token lacking a policy only the first.
const (
	msgPolicyDenied = "1 error occurred:\n\t* permission denied\n\n"
	msgBadToken     = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path, found := strings.CutPrefix(r.URL.Path, "/v1/")
	if !found {
		s.write(w, fail(http.StatusNotFound))
		return
	}
	// sys/health has its own handler in Vault and ignores the namespace.
	if ns := strings.Trim(r.Header.Get("X-Vault-Namespace"), "/"); ns != "" && path != "sys/health" {
		path = ns + "/" + path
	}
	method := r.Method
	if method == "PUT" {
		method = "POST"
	}
	if method == "LIST" || (method == "GET" && r.URL.Query().Get("list") == "true") {
		method = "LIST"
	}
	req := request{method: method, path: strings.TrimSuffix(path, "/"), query: r.URL.Query()}
	if r.Body != nil {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			s.write(w, badRequest("failed to read request body"))
			return
		}
		if len(strings.TrimSpace(string(raw))) > 0 {
			if err := json.Unmarshal(raw, &req.body); err != nil {
				s.write(w, badRequest("failed to parse JSON input: %v", err))
				return
			}
		}
	}
	if req.body == nil {
		req.body = map[string]any{}
	}
	s.mu.Lock()
	resp := s.handleLocked(&req, r.Header.Get("X-Vault-Token"))
	s.mu.Unlock()
	s.write(w, resp)
}

func (s *Server) handleLocked(req *request, tok string) response {
	s.requests++
	s.calls[req.method+" "+req.path]++
	if len(s.faults) > 0 {
		f := &s.faults[0]
		f.left--
		status := f.status
		if f.left <= 0 {
			s.faults = s.faults[1:]
		}
		return fail(status, fmt.Sprintf("injected failure (HTTP %d)", status))
	}
	if req.path == "sys/health" && req.method == "GET" {
		return s.healthLocked(req.query)
	}
	if s.sealed {
		return fail(http.StatusServiceUnavailable, "Vault is sealed")
	}
	if strings.HasPrefix(req.path, "auth/approle/login") {
		return s.appRoleLoginLocked(req)
	}
	t, valid := s.tokens[tok]
	if !valid || t.revoked || (t.ttl > 0 && !s.nowLocked().Before(t.created.Add(t.ttl))) {
		s.denied++
		return fail(http.StatusForbidden, msgBadToken)
	}
	req.tok = t
	switch {
	case strings.HasPrefix(req.path, "sys/mounts/"):
		return s.mountLocked(req)
	case req.path == "auth/token/lookup-self":
		if !s.allowedLocked(t, "read", req.path) {
			return s.deniedLocked()
		}
		return ok(s.lookupLocked(t))
	}
	mount, rest := s.routeLocked(req.path)
	if mount == "" {
		if !t.root {
			return s.deniedLocked()
		}
		return fail(http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", req.path))
	}
	switch s.mounts[mount] {
	case "transit":
		return s.transitLocked(req, mount, rest)
	case "kv-v2":
		return s.kvLocked(req, mount, rest)
	}
	return fail(http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", req.path))
}

func (s *Server) deniedLocked() response {
	s.denied++
	return fail(http.StatusForbidden, msgPolicyDenied)
}

// routeLocked finds the longest mount that prefixes path.
func (s *Server) routeLocked(path string) (mount, rest string) {
	for m := range s.mounts {
		if (path == m || strings.HasPrefix(path, m+"/")) && len(m) > len(mount) {
			mount = m
		}
	}
	if mount == "" {
		return "", ""
	}
	return mount, strings.TrimPrefix(strings.TrimPrefix(path, mount), "/")
}

func (s *Server) healthLocked(q map[string][]string) response {
	body := map[string]any{
		"initialized": true, "sealed": s.sealed, "standby": false, "performance_standby": false,
		"replication_performance_mode": "disabled", "replication_dr_mode": "disabled",
		"server_time_utc": s.nowLocked().Unix(), "version": "1.21.0+faketransit",
		"cluster_name": "faketransit", "cluster_id": "00000000-0000-4000-8000-000000000000",
	}
	status := http.StatusOK
	if s.sealed {
		status = http.StatusServiceUnavailable
		if v := q["sealedcode"]; len(v) > 0 {
			if n, err := strconv.Atoi(v[0]); err == nil {
				status = n
			}
		}
	}
	return response{status: status, raw: body}
}

func (s *Server) mountLocked(req *request) response {
	path := strings.Trim(strings.TrimPrefix(req.path, "sys/mounts/"), "/")
	if !s.allowedLocked(req.tok, "sudo", req.path) {
		return s.deniedLocked()
	}
	switch req.method {
	case "POST":
		if _, exists := s.mounts[path]; exists {
			return badRequest("path is already in use at %s/", path)
		}
		engine := str(req.body, "type")
		switch engine {
		case "transit":
		case "kv", "kv-v2":
			engine = "kv-v2"
		default:
			return badRequest("plugin not found in the catalog: %s", engine)
		}
		s.mounts[path] = engine
		return noContent()
	case "DELETE":
		delete(s.mounts, path)
		return noContent()
	}
	return fail(http.StatusMethodNotAllowed, "unsupported operation")
}

func (s *Server) write(w http.ResponseWriter, r response) {
	w.Header().Set("Cache-Control", "no-store")
	if r.status == http.StatusOK && r.data == nil && r.auth == nil && r.raw == nil {
		r.status = http.StatusNoContent
	}
	if r.status == http.StatusNoContent {
		w.WriteHeader(r.status)
		return
	}
	var body any
	switch {
	case r.raw != nil:
		body = r.raw
	case r.errs != nil:
		body = map[string]any{"errors": r.errs}
	default:
		env := map[string]any{
			"request_id": uuid(), "lease_id": "", "renewable": false, "lease_duration": 0,
			"data": r.data, "wrap_info": nil, "warnings": nil, "auth": r.auth,
		}
		if len(r.warnings) > 0 {
			env["warnings"] = r.warnings
		}
		body = env
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, `{"errors":["internal error"]}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(r.status)
	_, _ = w.Write(b)
}

// str returns a string field; Vault's field decoding also accepts numbers
// and booleans for string fields, which clients never rely on.
func str(body map[string]any, name string) string {
	switch v := body[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// integer decodes an int field the way Vault's TypeInt does: a JSON number
// or a decimal string.
func integer(body map[string]any, name string) (n int, present bool, err error) {
	switch v := body[name].(type) {
	case nil:
		return 0, false, nil
	case float64:
		if v != float64(int(v)) {
			return 0, true, fmt.Errorf("error converting input %v for field %q", v, name)
		}
		return int(v), true, nil
	case string:
		if v == "" {
			return 0, true, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, fmt.Errorf("error converting input %s for field %q: cannot parse '' as int: %v", v, name, err)
		}
		return n, true, nil
	}
	return 0, true, fmt.Errorf("error converting input for field %q", name)
}

// boolean decodes a bool field like Vault's TypeBool.
func boolean(body map[string]any, name string) (b, present bool, err error) {
	switch v := body[name].(type) {
	case nil:
		return false, false, nil
	case bool:
		return v, true, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, true, fmt.Errorf("error converting input %s for field %q", v, name)
		}
		return b, true, nil
	}
	return false, true, fmt.Errorf("error converting input for field %q", name)
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
