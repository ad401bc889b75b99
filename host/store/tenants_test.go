package store

import (
	"context"
	"maps"
	"slices"
	"testing"
)

func TestTenants(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		s := newInstance(t, b, newMasterKey(), instanceOpts{})
		s.pageSize = 2 // several pages, with one tenant's blobs across a page break

		if got, err := s.Tenants(ctx); err != nil || len(got) != 0 {
			t.Fatalf("Tenants of an empty store = %v, %v", got, err)
		}
		putDocs(t, s, "bob", 5)
		putDocs(t, s, "alice", 1)
		putDocs(t, s, "carol-1", 3)
		// A tenant with a keyring and no documents yet still exists.
		if _, err := s.env.RotateDEK(ctx, "dave"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Market().Put(ctx, "prices", "BHP.AU", counter{N: 1}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.System().Put(ctx, "tenants", "alice", counter{N: 1}, PutOpts{}); err != nil {
			t.Fatal(err)
		}
		// Keys no tenant owns: an invalid id, a loose file.
		putRaw(t, b, "users/Not_A_Tenant/portfolio/x", []byte("{}"))
		putRaw(t, b, "users/loose", []byte("{}"))

		got, err := s.Tenants(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"alice", "bob", "carol-1", "dave"}; !slices.Equal(got, want) {
			t.Fatalf("Tenants = %v, want %v", got, want)
		}

		personal := newInstance(t, b, newMasterKey(), instanceOpts{layout: Layout{Personal: true}})
		if got, err := personal.Tenants(ctx); err != nil || !slices.Equal(got, []string{DefaultPersonalTenant}) {
			t.Fatalf("Tenants of a personal store = %v, %v", got, err)
		}
	})
}

func TestKeyUsage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backendOpener) {
		ctx := context.Background()
		b := be.open(t)
		master := newMasterKey()
		s := newInstance(t, b, master, instanceOpts{})
		s.pageSize = 3

		u, err := s.KeyUsage(ctx, "alice")
		if err != nil || u.Documents != 0 || len(u.DEKVersions) != 0 {
			t.Fatalf("KeyUsage of a tenant without documents = %+v, %v", u, err)
		}
		putDocs(t, s, "alice", 4)
		if _, err := s.env.RotateDEK(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := s.Put(ctx, "alice", "watchlist", string(rune('a'+i)), counter{N: i}, PutOpts{}); err != nil {
				t.Fatal(err)
			}
		}
		putDocs(t, s, "bob", 2) // another tenant's documents are not counted
		// A document written while encryption was off, and one whose header
		// was damaged.
		putRaw(t, b, "users/alice/notes/plain", []byte(`{"n":1}`))
		putRaw(t, b, "users/alice/notes/damaged", []byte("VIRE\x09garbage"))

		u, err = s.KeyUsage(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		want := KeyUsage{Documents: 9, DEKVersions: map[uint32]int{1: 4, 2: 3}, Providers: map[string]int{"env": 7}, Plaintext: 1, Unreadable: 1}
		if u.Documents != want.Documents || u.Plaintext != want.Plaintext || u.Unreadable != want.Unreadable ||
			!maps.Equal(u.DEKVersions, want.DEKVersions) || !maps.Equal(u.Providers, want.Providers) {
			t.Fatalf("KeyUsage = %+v, want %+v", u, want)
		}

		// After re-encryption every sealed document uses the current key.
		if _, err := s.ReEncrypt(ctx, "alice", "", nil); err == nil {
			t.Fatal("ReEncrypt over a plaintext and a damaged document reported no error")
		}
		u, err = s.KeyUsage(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(u.DEKVersions, map[uint32]int{2: 7}) {
			t.Fatalf("after ReEncrypt DEKVersions = %v, want all 7 at version 2", u.DEKVersions)
		}
	})
}
