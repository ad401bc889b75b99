package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestSystemNamespace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		for _, layout := range []Layout{{}, {Personal: true}} {
			t.Run(map[bool]string{false: "hosted", true: "personal"}[layout.Personal], func(t *testing.T) {
				ctx := context.Background()
				b := be.open(t)
				s := newInstance(t, b, newMasterKey(), instanceOpts{layout: layout})
				y := s.System()
				tenant := layout.personalTenant()
				if !layout.Personal {
					tenant = "alice"
				}
				// A tenant document and a system document of the same kind
				// and name never meet.
				if _, err := s.Put(ctx, tenant, "tenants", "alice", holding{Ticker: "TENANT"}, PutOpts{}); err != nil {
					t.Fatal(err)
				}
				etag, err := y.Put(ctx, "tenants", "alice", holding{Ticker: "SYSTEM"}, PutOpts{IfNoneMatch: "*"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := y.Put(ctx, "tenants", "alice", holding{}, PutOpts{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
					t.Fatalf("second create: %v, want ErrPrecondition", err)
				}
				var got holding
				if tag, err := y.Get(ctx, "tenants", "alice", &got); err != nil || tag != etag || got.Ticker != "SYSTEM" {
					t.Fatalf("Get = %+v %q %v", got, tag, err)
				}
				// Stored in the clear, even with encryption on.
				if raw := rawBlob(t, b, "_system/tenants/alice"); !strings.Contains(string(raw), "SYSTEM") {
					t.Fatalf("system blob is not plain JSON: %q", raw)
				}
				if _, err := UpdateSystem(ctx, y, "tenants", "alice", func(h holding, exists bool) (holding, error) {
					if !exists {
						t.Error("update saw no document")
					}
					h.Units++
					return h, nil
				}); err != nil {
					t.Fatal(err)
				}
				if _, err := y.Put(ctx, "tenants", "bob", holding{}, PutOpts{}); err != nil {
					t.Fatal(err)
				}
				p, err := y.List(ctx, "tenants", ListOpts{})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, it := range p.Items {
					names = append(names, it.Name)
				}
				if !slices.Equal(names, []string{"alice", "bob"}) {
					t.Fatalf("List = %v", names)
				}
				// The tenant's own listing and walk never see system records.
				tp, err := s.List(ctx, tenant, "tenants", ListOpts{})
				if err != nil || len(tp.Items) != 1 {
					t.Fatalf("tenant List = %+v %v", tp, err)
				}
				if err := y.Delete(ctx, "tenants", "bob", DeleteOpts{}); err != nil {
					t.Fatal(err)
				}
				if _, err := y.Get(ctx, "tenants", "bob", &got); !errors.Is(err, sdk.ErrNotFound) {
					t.Fatalf("Get after delete: %v", err)
				}
				for _, bad := range [][2]string{{"_x", "a"}, {"Tenants", "a"}, {"tenants", "a/b"}, {"tenants", ".."}} {
					if _, err := y.Put(ctx, bad[0], bad[1], 1, PutOpts{}); !errors.Is(err, sdk.ErrInvalidArgument) {
						t.Errorf("Put(%q, %q) = %v, want ErrInvalidArgument", bad[0], bad[1], err)
					}
				}
			})
		}
	})
}

func TestPurgeTenant(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{cached: true})
		s.pageSize = 3 // several listing pages
		for i := range 7 {
			for _, tenant := range []string{"alice", "alice-2"} {
				if _, err := s.Put(ctx, tenant, "doc", string(rune('a'+i)), holding{Units: float64(i)}, PutOpts{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := s.Market().Put(ctx, "prices", "BHP.AU", holding{}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.System().Put(ctx, "tenants", "alice", holding{}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		n, err := s.PurgeTenant(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if n != 8 { // seven documents and the keyring
			t.Errorf("purged %d blobs, want 8", n)
		}
		if left := allKeys(t, b, "users/alice/"); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
		// Nothing else was touched, and "alice-2" shares alice's name prefix.
		if got := allKeys(t, b, "users/alice-2/"); len(got) != 8 {
			t.Fatalf("alice-2 has %d blobs, want 8: %v", len(got), got)
		}
		var h holding
		if _, err := s.Market().Get(ctx, "prices", "BHP.AU", &h); err != nil {
			t.Fatal(err)
		}
		if _, err := s.System().Get(ctx, "tenants", "alice", &h); err != nil {
			t.Fatal(err)
		}
		// The cache never answers for a purged document.
		if _, err := s.Get(ctx, "alice", "doc", "a", &h); !errors.Is(err, sdk.ErrNotFound) {
			t.Fatalf("Get after purge: %v", err)
		}
		// Idempotent, and the tenant can start again with a new keyring.
		if n, err := s.PurgeTenant(ctx, "alice"); err != nil || n != 0 {
			t.Fatalf("second purge = %d, %v", n, err)
		}
		if _, err := s.Put(ctx, "alice", "doc", "new", holding{Ticker: "X"}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "alice", "doc", "new", &h); err != nil || h.Ticker != "X" {
			t.Fatalf("after recreation: %+v %v", h, err)
		}
		if _, err := s.PurgeTenant(ctx, "../x"); !errors.Is(err, sdk.ErrInvalidArgument) {
			t.Fatalf("bad tenant: %v", err)
		}
	})
	t.Run("personal", func(t *testing.T) {
		s := newInstance(t, newMemBlobStore(), newMasterKey(), instanceOpts{layout: Layout{Personal: true}})
		if _, err := s.PurgeTenant(context.Background(), DefaultPersonalTenant); !errors.Is(err, sdk.ErrUnsupported) {
			t.Fatalf("personal purge: %v", err)
		}
	})
}
