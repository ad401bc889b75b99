package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/testbuild"
)

// TestConfigScopesAreTenantScopes: the configuration accepts exactly the
// scopes a key may carry.
func TestConfigScopesAreTenantScopes(t *testing.T) {
	var want []string
	for _, s := range tenant.AllScopes {
		want = append(want, string(s))
	}
	if got := config.AuthScopes(); !slices.Equal(got, want) {
		t.Fatalf("config.AuthScopes() = %v, tenant.AllScopes = %v", got, want)
	}
}

func TestRateLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		auth config.Auth
		want tenant.Limits
	}{
		{"default only", config.Auth{RateLimit: 600, RateBurst: 60},
			tenant.Limits{Default: tenant.Rate{PerMinute: 600, Burst: 60}}},
		{"scopes below and above the burst", config.Auth{RateLimit: 600, RateBurst: 60, ScopeRateLimits: map[string]int{"write": 120, "admin": 30}},
			tenant.Limits{Default: tenant.Rate{PerMinute: 600, Burst: 60}, Scopes: map[tenant.Scope]tenant.Rate{
				tenant.ScopeWrite: {PerMinute: 120, Burst: 60},
				tenant.ScopeAdmin: {PerMinute: 30, Burst: 30},
			}}},
		{"an unlimited scope under an unlimited default", config.Auth{RateLimit: 0, RateBurst: 60, ScopeRateLimits: map[string]int{"read": 0}},
			tenant.Limits{Default: tenant.Rate{PerMinute: 0, Burst: 60}, Scopes: map[tenant.Scope]tenant.Rate{tenant.ScopeRead: {}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := rateLimits(tt.auth)
			if got.Default != tt.want.Default || !maps.Equal(got.Scopes, tt.want.Scopes) {
				t.Fatalf("rateLimits = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestScopeRateLimitsServed: a configuration's scope_rate_limits reach
// the running server: the third admin request of a key gets 429 naming the
// scope, while requests on the default budget go on.
func TestScopeRateLimitsServed(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("auth {\n  mode              = \"api_key\"\n  rate_limit        = 600\n  scope_rate_limits = { admin = 2 }\n}\n\n")
	fmt.Fprintf(&b, "storage \"file\" {\n  root  = %q\n  fsync = false\n}\n\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&b, "plugin \"file\" {\n  path = %q\n}\n", testbuild.Binary(t, "./cmd/vire-plugin-file"))
	cfg := filepath.Join(dir, "vire.hcl")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, key, stderr := runCLI(t, "apikeys", "create", "-config", cfg, "-tenant", "operator", "-scopes", "read,admin")
	if code != 0 {
		t.Fatalf("apikeys create: %d %s", code, stderr)
	}
	key = strings.TrimSpace(key)
	url, _ := serveConfig(t, cfg)

	get := func(path string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, resp.Header, body
	}
	for i := range 2 {
		if code, h, body := get("/api/admin/tenants"); code != 200 || h.Get("X-RateLimit-Limit") != "2" {
			t.Fatalf("admin request %d: %d, limit %q %v", i, code, h.Get("X-RateLimit-Limit"), body)
		}
	}
	code, h, body := get("/api/admin/tenants")
	e, _ := body["error"].(map[string]any)
	if code != 429 || h.Get("Retry-After") != "30" || e["message"] != "admin requests on this API key are limited to 2 a minute; retry in 30 s" {
		t.Fatalf("third admin request: %d, Retry-After %q, %v", code, h.Get("Retry-After"), body)
	}
	for i := range 5 {
		if code, h, _ := get("/api/whoami"); code != 200 || h.Get("X-RateLimit-Limit") != "600" {
			t.Fatalf("whoami %d after the admin budget ran out: %d, limit %q", i, code, h.Get("X-RateLimit-Limit"))
		}
	}
}
