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
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/sdk"
)

// noPlugins is a server runtime without plugins.
type noPlugins struct{}

func (noPlugins) Ready(context.Context) error   { return nil }
func (noPlugins) Statuses() []pluginhost.Status { return nil }

// accessEnv is one server instance: the real router with the access layer
// over a real file-backed store, served over HTTP.
type accessEnv struct {
	url     string
	backend sdk.BlobStore
	store   *store.Store
	svc     *tenant.Service
	audit   *tenant.AuditLog
	clock   *servertest.Clock
	logs    *servertest.SyncBuffer
	// operator is an operator admin key.
	operator string
}

type accessConfig struct {
	dir      string // storage directory; a fresh one when empty
	personal bool
	rate     tenant.Rate
	// scopes gives scopes budgets of their own beside rate.
	scopes map[tenant.Scope]tenant.Rate
	shared bool // share rate budgets through the storage backend
}

func newAccessEnv(t testing.TB, c accessConfig) *accessEnv {
	t.Helper()
	if c.dir == "" {
		c.dir = t.TempDir()
	}
	e := &accessEnv{logs: &servertest.SyncBuffer{}, clock: servertest.NewClock(time.Now().UTC())}
	log := hclog.New(&hclog.LoggerOptions{Output: e.logs, Level: hclog.Trace})
	e.backend = servertest.FileBackend(t, c.dir)
	st, err := store.New(store.Options{Backend: e.backend, Layout: store.Layout{Personal: c.personal}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	e.svc, err = tenant.New(tenant.Options{Store: st, Logger: log, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ao := tenant.AuditOptions{Store: st, Logger: log, FlushInterval: -1}
	if !c.personal {
		ao.Active = e.svc.Active
	}
	e.audit, err = tenant.NewAuditLog(ao)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.audit.Close(context.Background()) })

	r := NewRouter(noPlugins{}, Options{Logger: log})
	// Test endpoints that show what a handler learns about its caller.
	echo := func(w http.ResponseWriter, r *http.Request) {
		p, ok := PrincipalFrom(r.Context())
		WriteJSON(w, http.StatusOK, map[string]any{"principal": p, "ok": ok, "request_id": RequestIDFrom(r.Context())})
	}
	r.HandleFunc("/api/test/items/{name}", echo).Methods(http.MethodGet, http.MethodPut)
	r.HandleFunc("/api/test/panic", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }).Methods(http.MethodGet)
	o := AccessOptions{Personal: c.personal, Audit: e.audit, Logger: log}
	if c.personal {
		MountWhoami(r)
	} else {
		o.Auth = e.svc
		MountAdmin(r, e.svc, log)
	}
	if limits := (tenant.Limits{Default: c.rate, Scopes: c.scopes}); !limits.Unlimited() {
		if c.shared {
			o.Limiter, err = tenant.NewSharedLimiter(e.backend, limits, tenant.SharedOptions{Logger: log})
		} else {
			// The test's clock, not real time: at 600 a minute a slow machine
			// would otherwise refill a read budget mid-test.
			o.Limiter, err = tenant.NewLocalLimiter(limits, e.clock.Now)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	h, err := Protect(r, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	if !c.personal {
		k, err := e.svc.CreateKey(context.Background(), tenant.OperatorTenant, tenant.KeySpec{Name: "root", Scopes: []tenant.Scope{tenant.ScopeAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		e.operator = k.Key
	}
	return e
}

// reply is one HTTP exchange.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (r reply) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// call sends a request with the key (none when empty) and extra headers.
func (e *accessEnv) call(t testing.TB, method, path, key string, body any, hdr ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, raw := servertest.Send(t, req, key, hdr...)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, path, err, raw)
		}
	}
	return out
}

// newTenantKey creates a tenant (if needed) and a key with the scopes.
func (e *accessEnv) newTenantKey(t testing.TB, id string, scopes ...tenant.Scope) tenant.NewKey {
	t.Helper()
	ctx := context.Background()
	if _, err := e.svc.GetTenant(ctx, id); err != nil {
		if _, err := e.svc.CreateTenant(ctx, id, ""); err != nil {
			t.Fatal(err)
		}
	}
	k, err := e.svc.CreateKey(ctx, id, tenant.KeySpec{Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return k
}
