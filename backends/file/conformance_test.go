package file

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

// openStore returns a store configured on a fresh directory.
func openStore(t testing.TB, cfg sdk.ConfigValue) *Store {
	t.Helper()
	s := New(hclog.NewNullLogger())
	if cfg == nil {
		cfg = sdk.ConfigValue{}
	}
	if _, ok := cfg["root"]; !ok {
		cfg["root"] = t.TempDir()
	}
	full, err := s.Schema().Complete(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Configure(t.Context(), full); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func() sdk.ConfigValue
	}{
		{"Defaults", func() sdk.ConfigValue { return nil }},
		{"NoVersionsNoFsync", func() sdk.ConfigValue { return sdk.ConfigValue{"versions": 0, "fsync": false} }},
		{"FoldCase", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plugintest.RunBlobStore(t, plugintest.BlobHarness{Open: func(t *testing.T) sdk.BlobStore {
				if tc.cfg == nil {
					return openFoldCase(t)
				}
				return openStore(t, tc.cfg())
			}})
		})
	}
}

// openFoldCase returns a store that encodes names as it would on a
// case-insensitive filesystem (A-Z escaped), by pre-seeding its layout file.
func openFoldCase(t *testing.T) *Store {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, metaDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, formatFile), []byte(`{"format":1,"fold_case":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, sdk.ConfigValue{"root": root, "fsync": false})
	if !s.dir.names.foldCase {
		t.Fatal("layout file did not switch on case folding")
	}
	return s
}
