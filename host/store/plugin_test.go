package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/sdk"
)

// startEnvPlugin runs vire-plugin-env configured with master as the latest
// key version and retired as the earlier ones.
func startEnvPlugin(t testing.TB, master string, retired ...string) sdk.KeyProvider {
	t.Helper()
	cfg := sdk.ConfigValue{"master_key": master}
	if len(retired) > 0 {
		l := make([]any, len(retired))
		for i, r := range retired {
			l[i] = r
		}
		cfg["retired_keys"] = l
	}
	kp, err := startPlugin(t, "env").KeyProvider(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// TestEncryptedStoreOverPlugins runs the store the way vire-server does:
// the file backend and the env key provider as plugin processes over gRPC.
func TestEncryptedStoreOverPlugins(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	k1, k2 := newMasterKey(), newMasterKey()
	b := startFilePlugin(t, root)
	s := newInstance(t, b, "", instanceOpts{provider: startEnvPlugin(t, k1), cached: true})

	// A document past gRPC's default 4 MiB message size.
	big := map[string]string{"blob": strings.Repeat("0123456789abcdef", 6<<20/16)}
	if _, err := s.Put(ctx, "alice", "report", "big", big, PutOpts{}); err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	if _, err := s.Get(ctx, "alice", "report", "big", &back); err != nil || back["blob"] != big["blob"] {
		t.Fatalf("6 MiB document: %d bytes back, %v", len(back["blob"]), err)
	}
	putDocs(t, s, "alice", 6)

	t.Run("wrong master key", func(t *testing.T) {
		other := newInstance(t, b, "", instanceOpts{provider: startEnvPlugin(t, newMasterKey())})
		var c counter
		_, err := other.Get(ctx, "alice", "portfolio", "d00", &c)
		if !errors.Is(err, crypt.ErrProviderRefused) || !errors.Is(err, sdk.ErrIntegrity) {
			t.Fatalf("err = %v; want the provider's integrity error, carried across the plugin boundary", err)
		}
	})

	t.Run("rewrap after master key rotation", func(t *testing.T) {
		before := map[string][]byte{}
		for _, k := range allKeys(t, b, "users/alice/") {
			before[k] = rawBlob(t, b, k)
		}
		rotated := newInstance(t, b, "", instanceOpts{provider: startEnvPlugin(t, k2, k1)})
		if _, err := rotated.env.Rewrap(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		for k, raw := range before {
			changed := !bytes.Equal(rawBlob(t, b, k), raw)
			if changed != strings.HasSuffix(k, "/"+keyringName) {
				t.Fatalf("%s: changed=%v after rewrap", k, changed)
			}
		}
		destroyed := newInstance(t, startFilePlugin(t, root), "", instanceOpts{provider: startEnvPlugin(t, k2, newMasterKey())})
		for i := range 6 {
			var c counter
			kind := []string{"portfolio", "strategy", "plan"}[i%3]
			if _, err := destroyed.Get(ctx, "alice", kind, fmt.Sprintf("d%02d", i), &c); err != nil || c.N != i {
				t.Fatalf("doc %d after rewrap: %+v, %v", i, c, err)
			}
		}
	})

	t.Run("rotate and re-encrypt", func(t *testing.T) {
		// The server now runs with the rotated master keys.
		cur := newInstance(t, b, "", instanceOpts{provider: startEnvPlugin(t, k2, k1), cached: true})
		if _, err := cur.env.RotateDEK(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		p, err := cur.ReEncrypt(ctx, "alice", "", nil)
		if err != nil || p.Rewritten != 7 {
			t.Fatalf("%+v, %v", p, err)
		}
		onlyVersion(t, dekVersions(t, b, "users/alice/"), 2)
	})
}
