package tenant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/sdk"
)

func mustTenant(t *testing.T, s *Service, id string) Tenant {
	t.Helper()
	tn, err := s.CreateTenant(context.Background(), id, "Tenant "+id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func mustKey(t *testing.T, s *Service, tenant string, spec KeySpec) NewKey {
	t.Helper()
	k, err := s.CreateKey(context.Background(), tenant, spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func reason(err error) string {
	var ae *AuthError
	if errors.As(err, &ae) {
		return ae.Reason
	}
	if errors.Is(err, ErrSuspended) {
		return "suspended"
	}
	if err == nil {
		return ""
	}
	return "other: " + err.Error()
}

func TestTenantLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	a := mustTenant(t, s, "alice")
	if a.Status != StatusActive || a.Incarnation == "" || a.Name != "Tenant alice" {
		t.Fatalf("created %+v", a)
	}
	if _, err := s.CreateTenant(ctx, "alice", ""); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []string{"", "Alice", "../x", "a/b", strings.Repeat("a", 65)} {
		if _, err := s.CreateTenant(ctx, bad, ""); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("CreateTenant(%q) = %v, want ErrInvalidArgument", bad, err)
		}
	}
	mustTenant(t, s, "bob")
	list, err := s.ListTenants(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "alice" || list[1].ID != "bob" {
		t.Fatalf("ListTenants = %+v, %v", list, err)
	}
	if got, err := s.SuspendTenant(ctx, "alice"); err != nil || got.Status != StatusSuspended {
		t.Fatalf("suspend: %+v %v", got, err)
	}
	if got, err := s.SuspendTenant(ctx, "alice"); err != nil || got.Status != StatusSuspended {
		t.Fatalf("suspend twice: %+v %v", got, err)
	}
	if got, err := s.ResumeTenant(ctx, "alice"); err != nil || got.Status != StatusActive {
		t.Fatalf("resume: %+v %v", got, err)
	}
	if _, err := s.SuspendTenant(ctx, "nobody"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("suspend unknown: %v", err)
	}
	// The operator tenant is created by its first key and cannot be locked out.
	if _, err := s.CreateKey(ctx, OperatorTenant, KeySpec{Scopes: []Scope{ScopeAdmin}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SuspendTenant(ctx, OperatorTenant); !errors.Is(err, ErrForbidden) {
		t.Fatalf("suspend operator: %v", err)
	}
	if _, err := s.DeleteTenant(ctx, OperatorTenant); !errors.Is(err, ErrForbidden) {
		t.Fatalf("delete operator: %v", err)
	}
}

func TestPersonalStoreHasNoRegistry(t *testing.T) {
	st, err := store.New(store.Options{Backend: servertest.FileBackend(t, t.TempDir()), Layout: store.Layout{Personal: true}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.CreateTenant(ctx, "alice", ""); !errors.Is(err, sdk.ErrUnsupported) {
		t.Fatalf("CreateTenant in personal mode: %v", err)
	}
	if _, err := s.CreateKey(ctx, "personal", KeySpec{}); !errors.Is(err, sdk.ErrUnsupported) {
		t.Fatalf("CreateKey in personal mode: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t)
	mustTenant(t, s, "alice")
	mustTenant(t, s, "sus")
	good := mustKey(t, s, "alice", KeySpec{Name: "laptop", Scopes: []Scope{ScopeRead}})
	expiring := mustKey(t, s, "alice", KeySpec{Expires: clk.Now().Add(time.Hour)})
	revoked := mustKey(t, s, "alice", KeySpec{})
	if _, err := s.RevokeKey(ctx, "alice", revoked.Info.ID); err != nil {
		t.Fatal(err)
	}
	suspended := mustKey(t, s, "sus", KeySpec{})
	if _, err := s.SuspendTenant(ctx, "sus"); err != nil {
		t.Fatal(err)
	}
	// A key that is well formed, with a valid checksum, but that the server
	// never issued; and one with a real id but another secret.
	forgedID, _ := newKeyID()
	forged, _ := newKey(forgedID)
	_, otherSecret, _ := ParseKey(forged)
	body := KeyPrefix + good.Info.ID + "_" + otherSecret
	stolenID := body + checksum(body)

	for _, tc := range []struct {
		name    string
		key     string
		advance time.Duration
		reason  string
	}{
		{"good", good.Key, 0, ""},
		{"missing", "", 0, ReasonMissing},
		{"malformed", "Bearer " + good.Key, 0, ReasonMalformed},
		{"typo", good.Key[:20] + string(good.Key[20]^1) + good.Key[21:], 0, ReasonMalformed},
		{"never issued", forged, 0, ReasonUnknown},
		{"right id, wrong secret", stolenID, 0, ReasonUnknown},
		{"revoked", revoked.Key, 0, ReasonRevoked},
		{"suspended tenant", suspended.Key, 0, "suspended"},
		{"before expiry", expiring.Key, 0, ""},
		{"after expiry", expiring.Key, time.Hour, ReasonExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.advance)
			p, err := s.Authenticate(ctx, tc.key)
			if got := reason(err); got != tc.reason {
				t.Fatalf("Authenticate: reason %q (%v), want %q", got, err, tc.reason)
			}
			if err == nil && (p.TenantID != "alice" || p.KeyID == "") {
				t.Fatalf("principal %+v", p)
			}
			if err != nil && tc.key != "" && strings.Contains(err.Error(), tc.key) {
				t.Fatal("the error quotes the key")
			}
		})
	}
	p, err := s.Authenticate(ctx, good.Key)
	if err != nil || !slices.Equal(p.Scopes, []Scope{ScopeRead}) || p.Has(ScopeWrite) || p.Operator() {
		t.Fatalf("principal %+v, %v", p, err)
	}
}

// TestMalformedKeysNeverReachStorage: a closed backend fails every call, so
// a malformed key refused as malformed proves no storage lookup happened.
func TestMalformedKeysNeverReachStorage(t *testing.T) {
	b := servertest.FileBackend(t, t.TempDir())
	s, err := New(Options{Store: newStore(t, b, false)})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	for _, k := range []string{"x", "vire_" + strings.Repeat("a", 41), strings.Repeat("z", KeyLength)} {
		if _, err := s.Authenticate(context.Background(), k); reason(err) != ReasonMalformed {
			t.Fatalf("Authenticate(%q) = %v", k, err)
		}
	}
	id, _ := newKeyID()
	k, _ := newKey(id)
	if _, err := s.Authenticate(context.Background(), k); reason(err) == ReasonUnknown || err == nil {
		t.Fatalf("a well-formed key did not reach the (closed) store: %v", err)
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := newService(t)
	mustTenant(t, s, "alice")
	old := mustKey(t, s, "alice", KeySpec{Name: "ci", Scopes: []Scope{ScopeRead, ScopeAdmin}, Expires: clk.Now().Add(90 * 24 * time.Hour)})
	clk.Add(24 * time.Hour)

	// Rotation without grace: both keys work until the old one is revoked.
	nk, err := s.RotateKey(ctx, "alice", old.Info.ID, RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nk.Key == old.Key || nk.Info.Name != "ci" || !slices.Equal(nk.Info.Scopes, old.Info.Scopes) || nk.Info.RotatedFrom != old.Info.ID {
		t.Fatalf("rotated key %+v", nk.Info)
	}
	if want := clk.Now().Add(90 * 24 * time.Hour); !nk.Info.Expires.Equal(want) {
		t.Errorf("new key expires %s, want the same 90-day lifetime: %s", nk.Info.Expires, want)
	}
	for _, k := range []string{old.Key, nk.Key} {
		if _, err := s.Authenticate(ctx, k); err != nil {
			t.Fatalf("during the overlap: %v", err)
		}
	}
	oldInfo, err := s.GetKey(ctx, "alice", old.Info.ID)
	if err != nil || oldInfo.RotatedTo != nk.Info.ID {
		t.Fatalf("old key %+v %v", oldInfo, err)
	}
	if _, err := s.RevokeKey(ctx, "alice", old.Info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, old.Key); reason(err) != ReasonRevoked {
		t.Fatalf("old key after revoke: %v", err)
	}
	if _, err := s.Authenticate(ctx, nk.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateKey(ctx, "alice", old.Info.ID, RotateOptions{}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Fatalf("rotating a revoked key: %v", err)
	}

	// Rotation with grace: the old key expires by itself.
	second, err := s.RotateKey(ctx, "alice", nk.Info.ID, RotateOptions{Grace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(59 * time.Minute)
	if _, err := s.Authenticate(ctx, nk.Key); err != nil {
		t.Fatalf("inside the grace period: %v", err)
	}
	clk.Add(time.Minute)
	if _, err := s.Authenticate(ctx, nk.Key); reason(err) != ReasonExpired {
		t.Fatalf("after the grace period: %v", err)
	}
	if _, err := s.Authenticate(ctx, second.Key); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListKeys(ctx, "alice")
	if err != nil || len(keys) != 3 {
		t.Fatalf("ListKeys = %+v %v", keys, err)
	}
	states := []string{keys[0].State(clk.Now()), keys[1].State(clk.Now()), keys[2].State(clk.Now())}
	if !slices.Equal(states, []string{"revoked", "expired", "active"}) {
		t.Fatalf("states %v", states)
	}
}

func TestKeysBelongToTheirTenant(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newService(t)
	mustTenant(t, s, "alice")
	mustTenant(t, s, "bob")
	ak := mustKey(t, s, "alice", KeySpec{})
	for name, err := range map[string]error{
		"get":    func() error { _, err := s.GetKey(ctx, "bob", ak.Info.ID); return err }(),
		"revoke": func() error { _, err := s.RevokeKey(ctx, "bob", ak.Info.ID); return err }(),
		"rotate": func() error { _, err := s.RotateKey(ctx, "bob", ak.Info.ID, RotateOptions{}); return err }(),
	} {
		if !errors.Is(err, sdk.ErrNotFound) {
			t.Errorf("%s another tenant's key: %v, want ErrNotFound", name, err)
		}
	}
	if keys, err := s.ListKeys(ctx, "bob"); err != nil || len(keys) != 0 {
		t.Fatalf("bob's keys: %+v %v", keys, err)
	}
	if _, err := s.Authenticate(ctx, ak.Key); err != nil {
		t.Fatal("alice's key stopped working")
	}
	for _, bad := range []KeySpec{{Scopes: []Scope{"root"}}, {Expires: time.Unix(1, 0)}, {Name: strings.Repeat("n", 201)}} {
		if _, err := s.CreateKey(ctx, "alice", bad); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Errorf("CreateKey(%+v) = %v", bad, err)
		}
	}
	if _, err := s.CreateKey(ctx, "nobody", KeySpec{}); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("key for an unknown tenant: %v", err)
	}
}

func TestLastUsedIsWrittenAtMostOncePerInterval(t *testing.T) {
	ctx := context.Background()
	s, clk, b := newService(t)
	mustTenant(t, s, "alice")
	k := mustKey(t, s, "alice", KeySpec{})
	etag := func() string {
		m, err := b.Stat(ctx, "_system/apikeys/"+k.Info.ID)
		if err != nil {
			t.Fatal(err)
		}
		return m.ETag
	}
	before := etag()
	if _, err := s.Authenticate(ctx, k.Key); err != nil {
		t.Fatal(err)
	}
	first := etag()
	if first == before {
		t.Fatal("the first use was not recorded")
	}
	for range 20 {
		clk.Add(2 * time.Second)
		if _, err := s.Authenticate(ctx, k.Key); err != nil {
			t.Fatal(err)
		}
	}
	if etag() != first {
		t.Fatal("the key record was rewritten within a minute")
	}
	clk.Add(30 * time.Second)
	if _, err := s.Authenticate(ctx, k.Key); err != nil {
		t.Fatal(err)
	}
	info, _ := s.GetKey(ctx, "alice", k.Info.ID)
	if etag() == first || !info.LastUsed.Equal(clk.Now()) {
		t.Fatalf("last use not refreshed after a minute: %s", info.LastUsed)
	}
}

// TestInstancesShareRecords: two services over two handles on one
// directory, as two server processes: what one does, the other sees at
// once.
func TestInstancesShareRecords(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s1, err := New(Options{Store: newStore(t, servertest.FileBackend(t, dir), true)})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := New(Options{Store: newStore(t, servertest.FileBackend(t, dir), true)})
	if err != nil {
		t.Fatal(err)
	}
	mustTenant(t, s1, "alice")
	k := mustKey(t, s1, "alice", KeySpec{})
	if _, err := s2.Authenticate(ctx, k.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.SuspendTenant(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Authenticate(ctx, k.Key); !errors.Is(err, ErrSuspended) {
		t.Fatalf("after suspension on the other instance: %v", err)
	}
	if _, err := s2.ResumeTenant(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.RevokeKey(ctx, "alice", k.Info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Authenticate(ctx, k.Key); reason(err) != ReasonRevoked {
		t.Fatalf("after revocation on the other instance: %v", err)
	}
	// Concurrent key creation on both loses no index entry.
	done := make(chan error, 20)
	for i := range 20 {
		s := []*Service{s1, s2}[i%2]
		go func() { _, err := s.CreateKey(ctx, "alice", KeySpec{}); done <- err }()
	}
	for range 20 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if keys, err := s2.ListKeys(ctx, "alice"); err != nil || len(keys) != 21 {
		t.Fatalf("%d keys listed, want 21 (%v)", len(keys), err)
	}
}

func TestDeleteTenant(t *testing.T) {
	ctx := context.Background()
	s, _, b := newService(t)
	mustTenant(t, s, "alice")
	mustTenant(t, s, "alice-2")
	k := mustKey(t, s, "alice", KeySpec{})
	k2 := mustKey(t, s, "alice-2", KeySpec{})
	for _, tn := range []string{"alice", "alice-2"} {
		if _, err := s.st.Put(ctx, tn, "portfolio", "main", map[string]int{"units": 3}, store.PutOpts{}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.DeleteTenant(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Keys != 1 || rep.Blobs < 2 { // the document and the keyring at least
		t.Fatalf("report %+v", rep)
	}
	for key := range servertest.AllBlobs(t, b) {
		if strings.Contains(key, "/alice/") || strings.HasSuffix(key, "/alice") || strings.Contains(key, k.Info.ID) {
			t.Errorf("left behind: %s", key)
		}
	}
	if _, err := s.Authenticate(ctx, k.Key); reason(err) != ReasonUnknown {
		t.Fatalf("key of a deleted tenant: %v", err)
	}
	if _, err := s.Authenticate(ctx, k2.Key); err != nil {
		t.Fatalf("the other tenant's key: %v", err)
	}
	var doc map[string]int
	if _, err := s.st.Get(ctx, "alice-2", "portfolio", "main", &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteTenant(ctx, "alice"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	// A late write under a deleted tenant's prefix (another instance's
	// audit flush) is removed by deleting again.
	if _, err := s.st.Put(ctx, "alice", "audit", "00000000000000000001", map[string]int{}, store.PutOpts{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.DeleteTenant(ctx, "alice"); err != nil || rep.Blobs == 0 {
		t.Fatalf("delete of leftovers: %+v %v", rep, err)
	}
	if p, err := s.st.List(ctx, "alice", "audit", store.ListOpts{}); err != nil || len(p.Items) != 0 {
		t.Fatalf("leftovers: %+v %v", p, err)
	}
}

// TestRecreatedTenantIgnoresOldKeys: a key record left behind by a deletion
// interrupted half way never opens a new tenant of the same id.
func TestRecreatedTenantIgnoresOldKeys(t *testing.T) {
	ctx := context.Background()
	s, _, b := newService(t)
	mustTenant(t, s, "alice")
	k := mustKey(t, s, "alice", KeySpec{})
	saved, _, err := b.Get(ctx, "_system/apikeys/"+k.Info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteTenant(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	mustTenant(t, s, "alice")
	if _, err := b.Put(ctx, "_system/apikeys/"+k.Info.ID, saved, sdk.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, k.Key); reason(err) != ReasonUnknown {
		t.Fatalf("an old key on the recreated tenant: %v", err)
	}
}

// TestSecretsAreNeverStored: the key appears nowhere in storage, and its
// secret part neither.
func TestSecretsAreNeverStored(t *testing.T) {
	ctx := context.Background()
	s, _, b := newService(t)
	mustTenant(t, s, "alice")
	k := mustKey(t, s, "alice", KeySpec{})
	nk, err := s.RotateKey(ctx, "alice", k.Info.ID, RotateOptions{Grace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{k.Key, nk.Key} {
		if _, err := s.Authenticate(ctx, key); err != nil {
			t.Fatal(err)
		}
		_, secret, _ := ParseKey(key)
		for name, data := range servertest.AllBlobs(t, b) {
			if strings.Contains(string(data), secret) || strings.Contains(name, secret) {
				t.Fatalf("the secret is stored in %s", name)
			}
		}
	}
}
