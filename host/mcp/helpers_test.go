package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"

	"github.com/vire-dev/vire/host/api"
	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/internal/tenanttest"
	"github.com/vire-dev/vire/plugins/sources/sample"
	"github.com/vire-dev/vire/sdk"
)

// noPlugins is a server runtime with no plugins.
type noPlugins struct{}

func (noPlugins) Ready(context.Context) error   { return nil }
func (noPlugins) Statuses() []pluginhost.Status { return []pluginhost.Status{} }

// env is one vire-server as it runs: the real REST router with /mcp
// mounted, behind the real access layer, over a real store on the file
// backend encrypted through the env key provider, with API keys issued
// by the tenant service, served over HTTP.
type testEnv struct {
	url     string
	backend sdk.BlobStore
	store   *store.Store
	tenants *tenant.Service
	audit   *tenant.AuditLog
	docs    *documents.Service
	mcp     *Server
	logs    *servertest.SyncBuffer
	// keys maps a test principal's name to its API key.
	keys map[string]string
}

type envConfig struct {
	personal bool
	// noMarket leaves the market tools out.
	noMarket bool
	// origins are the allowed origins.
	origins []string
}

// Test principals: a tenant and the scopes of its key.
var principals = map[string]tenanttest.Principal{
	"alice":    {Tenant: "alice", Scopes: []tenant.Scope{tenant.ScopeRead, tenant.ScopeWrite}},
	"alice-ro": {Tenant: "alice", Scopes: []tenant.Scope{tenant.ScopeRead}},
	"alice-wo": {Tenant: "alice", Scopes: []tenant.Scope{tenant.ScopeWrite}},
	"bob":      {Tenant: "bob", Scopes: []tenant.Scope{tenant.ScopeRead, tenant.ScopeWrite}},
}

func newEnv(t testing.TB, c envConfig) *testEnv {
	t.Helper()
	ctx := context.Background()
	e := &testEnv{logs: &servertest.SyncBuffer{}, keys: map[string]string{}}
	log := hclog.New(&hclog.LoggerOptions{Output: e.logs, Level: hclog.Debug})

	e.backend = servertest.FileBackend(t, t.TempDir())
	e.store = servertest.EncryptedStore(t, store.Options{Backend: e.backend, Layout: store.Layout{Personal: c.personal}, Logger: log})

	e.docs = documents.New(e.store, documents.Options{Logger: log})
	o := Options{Documents: e.docs, Logger: log, Version: "test", Personal: c.personal, AllowedOrigins: c.origins}
	if !c.noMarket {
		src := sample.New(nil)
		if err := sdk.Configure(ctx, src, sdk.ConfigValue{}); err != nil {
			t.Fatal(err)
		}
		m, err := market.New(market.Options{Source: src, SourceName: "sample", Store: e.store, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		o.Market = m
	}
	var err error
	if e.mcp, err = New(o); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.mcp.Close)

	router := api.NewRouter(noPlugins{}, api.Options{Logger: log, Documents: e.docs})
	e.mcp.Mount(router)
	ao := tenant.AuditOptions{Store: e.store, Logger: log, FlushInterval: -1}
	access := api.AccessOptions{Personal: c.personal, Logger: log, Scopes: RouteScopes()}
	if c.personal {
		api.MountWhoami(router)
	} else {
		if e.tenants, err = tenant.New(tenant.Options{Store: e.store, Logger: log}); err != nil {
			t.Fatal(err)
		}
		access.Auth, ao.Active = e.tenants, e.tenants.Active
		api.MountAdmin(router, e.tenants, log)
		for name, k := range tenanttest.Keys(t, e.tenants, principals) {
			e.keys[name] = k.Key
		}
	}
	if e.audit, err = tenant.NewAuditLog(ao); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.audit.Close(context.Background()) })
	access.Audit = e.audit
	h, err := api.Protect(router, access)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.mcp.Front(h))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// connect opens an MCP client over Streamable HTTP with the named
// principal's key (none for ""), speaking the newest protocol unless
// version pins another.
func (e *testEnv) connect(t testing.TB, who string, version string) *client.Client {
	t.Helper()
	c, err := e.dial(who, version)
	if err != nil {
		t.Fatalf("connecting as %q: %v", who, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e *testEnv) dial(who, version string, opts ...transport.StreamableHTTPCOption) (*client.Client, error) {
	if who != "" {
		opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + e.keys[who]}))
	}
	tr, err := transport.NewStreamableHTTP(e.url+EndpointPath, opts...)
	if err != nil {
		return nil, err
	}
	var copts []client.ClientOption
	if version != "" {
		copts = append(copts, client.WithProtocolVersion(version))
	}
	c := client.NewClient(tr, copts...)
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	req := mcpgo.InitializeRequest{}
	req.Params.ClientInfo = mcpgo.Implementation{Name: "vire-test", Version: "1"}
	if _, err := c.Initialize(ctx, req); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// post sends one raw JSON-RPC message to /mcp.
func (e *testEnv) post(t testing.TB, key string, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+EndpointPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, raw := servertest.Send(t, req, key, hdr...)
	return resp, string(raw)
}
