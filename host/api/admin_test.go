package api

import (
	"context"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/tenant"
	"github.com/vire-dev/vire/internal/servertest"
)

// TestAdminAPI walks the administration endpoints as the operator and as a
// tenant's own admin key.
func TestAdminAPI(t *testing.T) {
	e := newAccessEnv(t, accessConfig{})
	op := e.operator
	must := func(r reply, status int) reply {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
		}
		return r
	}

	must(e.call(t, "POST", "/api/admin/tenants", op, map[string]string{"id": "acme", "name": "Acme Pty Ltd"}), 201)
	must(e.call(t, "POST", "/api/admin/tenants", op, map[string]string{"id": "acme"}), 409)
	must(e.call(t, "POST", "/api/admin/tenants", op, map[string]string{"id": "Bad/Id"}), 400)
	must(e.call(t, "POST", "/api/admin/tenants", op, map[string]any{"id": "x", "colour": "blue"}), 400)
	r := must(e.call(t, "GET", "/api/admin/tenants", op, nil), 200)
	if ts := r.body["tenants"].([]any); len(ts) != 2 { // acme and operator
		t.Fatalf("tenants: %s", r.raw)
	}

	// The operator issues acme an admin key; acme manages its own keys from then on.
	r = must(e.call(t, "POST", "/api/admin/tenants/acme/keys", op, map[string]any{"name": "acme-admin", "scopes": []string{"admin", "read"}}), 201)
	acmeAdmin := r.body["key"].(string)
	if !strings.HasPrefix(acmeAdmin, tenant.KeyPrefix) || r.body["warning"] != KeyWarning || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("new key response: %s %v", r.raw, r.header)
	}
	r = must(e.call(t, "POST", "/api/admin/keys", acmeAdmin, map[string]any{"name": "ci", "scopes": []string{"read", "write"}, "expires_in": "720h"}), 201)
	ciKey := r.body["key"].(string)
	ciID := r.body["info"].(map[string]any)["id"].(string)
	if r.body["info"].(map[string]any)["expires"] == nil {
		t.Fatalf("expires_in ignored: %s", r.raw)
	}
	must(e.call(t, "PUT", "/api/test/items/a", ciKey, nil), 200)

	// Listings never show a key or its hash.
	r = must(e.call(t, "GET", "/api/admin/keys", acmeAdmin, nil), 200)
	if strings.Contains(r.raw, ciKey) || strings.Contains(r.raw, "hash") || strings.Contains(r.raw, "incarnation") {
		t.Fatalf("listing leaks: %s", r.raw)
	}
	if n := len(r.body["keys"].([]any)); n != 2 {
		t.Fatalf("%d keys listed", n)
	}

	// Rotation: old and new work together until the old one is revoked.
	r = must(e.call(t, "POST", "/api/admin/keys/"+ciID+"/rotate", acmeAdmin, nil), 201)
	newCI := r.body["key"].(string)
	must(e.call(t, "GET", "/api/test/items/a", ciKey, nil), 200)
	must(e.call(t, "GET", "/api/test/items/a", newCI, nil), 200)
	r = must(e.call(t, "DELETE", "/api/admin/keys/"+ciID, acmeAdmin, nil), 200)
	if r.body["state"] != "revoked" {
		t.Fatalf("revoked key: %s", r.raw)
	}
	must(e.call(t, "GET", "/api/test/items/a", ciKey, nil), 401)
	must(e.call(t, "GET", "/api/test/items/a", newCI, nil), 200)
	must(e.call(t, "POST", "/api/admin/keys/"+ciID+"/rotate", acmeAdmin, map[string]string{"grace": "1h"}), 409)
	must(e.call(t, "POST", "/api/admin/keys/nokey/rotate", acmeAdmin, map[string]string{"grace": "soon"}), 400)

	// acme sees nothing of other tenants, and cannot reach their keys by id.
	opKeys := must(e.call(t, "GET", "/api/admin/keys", op, nil), 200)
	opKeyID := opKeys.body["keys"].([]any)[0].(map[string]any)["id"].(string)
	must(e.call(t, "DELETE", "/api/admin/keys/"+opKeyID, acmeAdmin, nil), 404)
	must(e.call(t, "GET", "/api/admin/tenants/operator/keys", acmeAdmin, nil), 403)
	must(e.call(t, "GET", "/api/admin/tenants/acme", acmeAdmin, nil), 200)

	// Suspension stops every acme key at once; resuming restores them.
	must(e.call(t, "POST", "/api/admin/tenants/acme/suspend", op, nil), 200)
	if r := e.call(t, "GET", "/api/test/items/a", newCI, nil); r.status != 403 || r.errCode() != "tenant_suspended" {
		t.Fatalf("suspended: %d %s", r.status, r.raw)
	}
	must(e.call(t, "GET", "/api/admin/keys", acmeAdmin, nil), 403)
	must(e.call(t, "POST", "/api/admin/tenants/acme/resume", op, nil), 200)
	must(e.call(t, "GET", "/api/test/items/a", newCI, nil), 200)
	must(e.call(t, "POST", "/api/admin/tenants/operator/suspend", op, nil), 403)

	// Deletion removes the tenant, its keys and its data (its audit log too).
	if err := e.audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = must(e.call(t, "DELETE", "/api/admin/tenants/acme", op, nil), 200)
	if r.body["keys"] != float64(3) {
		t.Fatalf("delete report: %s", r.raw)
	}
	must(e.call(t, "GET", "/api/test/items/a", newCI, nil), 401)
	must(e.call(t, "GET", "/api/admin/tenants/acme", op, nil), 404)
	for key := range servertest.AllBlobs(t, e.backend) {
		if strings.HasPrefix(key, "users/acme/") {
			t.Fatalf("left behind: %s", key)
		}
	}
	// The operator's own audit log recorded the administration.
	rep, err := tenant.Verify(context.Background(), e.store, tenant.OperatorTenant)
	if err != nil || !rep.OK() || rep.Records < 10 {
		t.Fatalf("operator audit: %+v %v", rep, err)
	}
	must(e.call(t, "GET", "/api/whoami", op, nil), 200)
}
