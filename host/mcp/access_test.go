package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/mcptest"
	"github.com/vire-dev/vire/internal/servertest"
)

// listBody lists tools in the 2025-11-25 protocol, within a session;
// modernList does without one in the 2026-07-28 protocol, with the
// modern headers.
const (
	listBody   = `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{}}`
	modernList = `{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"_meta":{` +
		`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
)

var modernHeaders = []string{"Mcp-Method", "tools/list", "Mcp-Protocol-Version", "2026-07-28"}

// TestUnauthenticated: a request without a valid key gets 401 with a
// challenge naming the protected-resource metadata, which is published
// without authentication.
func TestUnauthenticated(t *testing.T) {
	e := newEnv(t, envConfig{})
	metaURL := e.url + MetadataPath
	for _, tc := range []struct {
		name, key, also string
	}{
		{"no key", "", `realm="vire"`},
		{"bad key", "vire_notakey", `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.post(t, tc.key, listBody)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			ch := resp.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, `Bearer resource_metadata="`+metaURL+`"`) || !strings.Contains(ch, tc.also) {
				t.Fatalf("WWW-Authenticate: %q", ch)
			}
			if !strings.Contains(body, `"error"`) {
				t.Fatalf("body: %s", body)
			}
		})
	}

	// mcp-go's client reports the challenge's metadata URL.
	_, err := e.dial("", "")
	var ae *transport.AuthorizationRequiredError
	if !errors.As(err, &ae) || ae.ResourceMetadataURL != metaURL {
		t.Fatalf("client without a key: %v (%#v)", err, ae)
	}

	for _, path := range []string{MetadataPath, MetadataPath + EndpointPath} {
		resp, err := http.Get(e.url + path)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Resource string   `json:"resource"`
			Bearer   []string `json:"bearer_methods_supported"`
			Scopes   []string `json:"scopes_supported"`
			Name     string   `json:"resource_name"`
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		if doc.Resource != e.url+EndpointPath || strings.Join(doc.Bearer, ",") != "header" ||
			strings.Join(doc.Scopes, ",") != "read,write" || doc.Name != "Vire" {
			t.Fatalf("GET %s: %+v", path, doc)
		}
	}
}

// TestOrigin: a request whose Origin is present and not allowed is refused
// with 403 before anything else, a valid key included.
func TestOrigin(t *testing.T) {
	e := newEnv(t, envConfig{})
	configured := newEnv(t, envConfig{origins: []string{"https://app.example.com"}})
	for _, tc := range []struct {
		env    *testEnv
		origin string
		status int
	}{
		{e, "", 200},
		{e, e.url, 200}, // the server's own origin
		{e, "http://localhost:5173", 200},
		{e, "http://127.0.0.1:3000", 200},
		{e, "https://evil.example", 403},
		{e, "http://localhost.evil.example", 403},
		{e, "null", 403},
		{configured, "https://app.example.com", 200},
		{configured, configured.url, 200},
		{configured, "http://localhost:5173", 403},
		{configured, "https://evil.example", 403},
	} {
		hdr := modernHeaders
		if tc.origin != "" {
			hdr = append([]string{"Origin", tc.origin}, modernHeaders...)
		}
		resp, body := tc.env.post(t, tc.env.keys["alice"], modernList, hdr...)
		if resp.StatusCode != tc.status {
			t.Fatalf("origin %q: status %d, want %d: %s", tc.origin, resp.StatusCode, tc.status, body)
		}
		if tc.status == 403 && !strings.Contains(body, "origin_not_allowed") {
			t.Fatalf("origin %q: body %s", tc.origin, body)
		}
		if tc.status == 200 && !strings.Contains(body, "strategy_get") {
			t.Fatalf("origin %q: body %s", tc.origin, body)
		}
	}
	// Without a key too: the origin is checked first.
	if resp, _ := e.post(t, "", listBody, "Origin", "https://evil.example"); resp.StatusCode != 403 {
		t.Fatalf("foreign origin without a key: %d", resp.StatusCode)
	}
	if _, err := New(Options{Documents: e.docs, AllowedOrigins: []string{"app.example.com"}}); err == nil {
		t.Fatal("an origin without a scheme was accepted")
	}
}

// TestTenantIsolation: through MCP, one tenant's key reaches none of
// another tenant's documents, whatever portfolio name it asks for.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, envConfig{})
	alice := e.connect(t, "alice", "")
	bob := e.connect(t, "bob", "2025-11-25")
	mcptest.OK(t, "strategy_update", mcptest.Call(t, alice, "strategy_update", map[string]any{"portfolio": "SMSF", "notes": "alice's secret plan"}))
	mcptest.OK(t, "plan_add_item", mcptest.Call(t, alice, "plan_add_item", map[string]any{"portfolio": "SMSF", "action": "buy", "ticker": "BHP.AU", "target_price": 30}))
	mcptest.OK(t, "watchlist_upsert", mcptest.Call(t, alice, "watchlist_upsert", map[string]any{"portfolio": "SMSF", "ticker": "CBA.AU"}))

	for _, tool := range []string{"strategy_get", "plan_get", "watchlist_get", "strategy_history", "plan_history", "watchlist_history"} {
		msg := mcptest.Failed(t, tool, mcptest.Call(t, bob, tool, map[string]any{"portfolio": "SMSF"}), "has no")
		if strings.Contains(msg, "alice") {
			t.Fatalf("%s: %s", tool, msg)
		}
	}
	mcptest.Failed(t, "strategy_restore", mcptest.Call(t, bob, "strategy_restore", map[string]any{"portfolio": "SMSF", "version": 1}), "has no strategy")
	if _, err := readResource(bob, ResourceURI("SMSF", "strategy")); err == nil || !strings.Contains(err.Error(), "has no strategy yet") {
		t.Fatalf("bob reads alice's strategy resource: %v", err)
	}
	pr, err := getPrompt(bob, "SMSF")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(pr); strings.Contains(string(b), "secret") || strings.Contains(string(b), "BHP.AU") {
		t.Fatalf("bob's prompt holds alice's data: %s", b)
	}

	// Bob's own portfolio of the same name is his alone.
	mcptest.OK(t, "strategy_update", mcptest.Call(t, bob, "strategy_update", map[string]any{"portfolio": "SMSF", "notes": "bob's"}))
	want(t, mcptest.OK(t, "strategy_get", mcptest.Call(t, alice, "strategy_get", map[string]any{"portfolio": "SMSF"})), "alice's secret plan", "strategy", "notes")
	want(t, mcptest.OK(t, "strategy_get", mcptest.Call(t, bob, "strategy_get", map[string]any{"portfolio": "SMSF"})), "bob's", "strategy", "notes")
	want(t, mcptest.OK(t, "strategy_history", mcptest.Call(t, bob, "strategy_history", map[string]any{"portfolio": "SMSF"})), 1, "current_version")

	// Every document is encrypted at rest: no plaintext in the backend.
	for key, data := range servertest.AllBlobs(t, e.backend) {
		if strings.Contains(string(data), "secret plan") {
			t.Fatalf("%s holds plaintext", key)
		}
	}
}

// TestSessionBoundToKey: a 2025-11-25 session id works only with the key
// that opened the session.
func TestSessionBoundToKey(t *testing.T) {
	e := newEnv(t, envConfig{})
	alice := e.connect(t, "alice", "2025-11-25")
	sid := alice.GetSessionId()
	if !strings.HasPrefix(sid, sessionPrefix) {
		t.Fatalf("session id %q", sid)
	}
	session := []string{"Mcp-Session-Id", sid, "Mcp-Protocol-Version", "2025-11-25"}

	if resp, body := e.post(t, e.keys["alice"], listBody, session...); resp.StatusCode != 200 || !strings.Contains(body, "strategy_get") {
		t.Fatalf("alice with her session: %d %s", resp.StatusCode, body)
	}
	for _, who := range []string{"bob", "alice-ro"} { // another tenant, and another key of the same tenant
		if resp, body := e.post(t, e.keys[who], listBody, session...); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s with alice's session: %d %s", who, resp.StatusCode, body)
		}
	}
	// The event stream of the session is refused to another key as well.
	for who, status := range map[string]int{"bob": http.StatusNotFound, "alice": http.StatusOK} {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+EndpointPath, nil)
		req.Header.Set("Authorization", "Bearer "+e.keys[who])
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cancel()
		if resp.StatusCode != status {
			t.Fatalf("GET stream as %s: %d, want %d", who, resp.StatusCode, status)
		}
	}
	// mcp-go's client holding alice's session id with bob's key fails.
	tr, err := transport.NewStreamableHTTP(e.url+EndpointPath, transport.WithSession(sid),
		transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + e.keys["bob"]}))
	if err != nil {
		t.Fatal(err)
	}
	stolen := client.NewClient(tr, client.WithSession(), client.WithProtocolVersion("2025-11-25"))
	defer stolen.Close()
	if err := stolen.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := stolen.ListTools(context.Background(), mcpgo.ListToolsRequest{}); err == nil {
		t.Fatal("bob's key listed tools in alice's session")
	}
	// A forged id (right shape, wrong tag) is refused too.
	forged := sid[:len(sid)-4] + "0000"
	if forged == sid {
		forged = sid[:len(sid)-4] + "1111"
	}
	if resp, _ := e.post(t, e.keys["alice"], listBody, "Mcp-Session-Id", forged, "Mcp-Protocol-Version", "2025-11-25"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("forged session id: %d", resp.StatusCode)
	}

	// Only the owner may end the session; then it is gone.
	del := func(who string) int {
		req, _ := http.NewRequest(http.MethodDelete, e.url+EndpointPath, nil)
		req.Header.Set("Authorization", "Bearer "+e.keys[who])
		req.Header.Set("Mcp-Session-Id", sid)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := del("bob"); code != http.StatusNotFound {
		t.Fatalf("bob ends alice's session: %d", code)
	}
	if code := del("alice"); code != http.StatusOK {
		t.Fatalf("alice ends her session: %d", code)
	}
	if resp, _ := e.post(t, e.keys["alice"], listBody, session...); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ended session still answers: %d", resp.StatusCode)
	}
}

// countingTransport counts the HTTP requests a client sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestAudited: every MCP request lands in the tenant's audit chain, like a
// REST request.
func TestAudited(t *testing.T) {
	e := newEnv(t, envConfig{})
	ct := &countingTransport{}
	c, err := e.dial("bob", "", transport.WithHTTPBasicClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": "A", "notes": "x"}))
	mcptest.OK(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "A"}))
	if err := e.audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rep, err := tenant.Verify(context.Background(), e.store, "bob")
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	if int64(rep.Records) != ct.n.Load() || rep.Records < 3 {
		t.Fatalf("%d audit records for %d MCP requests", rep.Records, ct.n.Load())
	}
}

// TestPersonal: without authentication every request acts for the one
// implicit tenant, and a loopback server refuses a foreign Host header
// (DNS rebinding).
func TestPersonal(t *testing.T) {
	e := newEnv(t, envConfig{personal: true})
	c := e.connect(t, "", "")
	mcptest.OK(t, "strategy_update", mcptest.Call(t, c, "strategy_update", map[string]any{"portfolio": "Mine", "notes": "personal"}))
	want(t, mcptest.OK(t, "strategy_get", mcptest.Call(t, c, "strategy_get", map[string]any{"portfolio": "Mine"})), "personal", "strategy", "notes")

	req, _ := http.NewRequest(http.MethodPost, e.url+EndpointPath, strings.NewReader(listBody))
	req.Host = "rebound.evil.example"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign Host on a personal server: %d", resp.StatusCode)
	}
}
