package plugintest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

const defectEnv = "PLUGINTEST_DEFECT"

// TestReferenceStorePasses proves the blob suite accepts a correct store,
// both one with conditional writes and one that honestly refuses them.
func TestReferenceStorePasses(t *testing.T) {
	for _, variant := range []string{"", "unconditional"} {
		t.Run("variant="+variant, func(t *testing.T) {
			RunBlobStore(t, BlobHarness{Open: func(*testing.T) sdk.BlobStore { return newMemStore(variant) }})
		})
	}
}

// TestReferenceProvidersPass proves the key suite accepts a correct provider,
// both one that rotates and one that refuses to.
func TestReferenceProvidersPass(t *testing.T) {
	for _, defect := range []string{"", "no-rotate"} {
		t.Run("defect="+defect, func(t *testing.T) {
			RunKeyProvider(t, KeyHarness{Open: func(*testing.T) sdk.KeyProvider { return newMemKeys(defect) }})
		})
	}
}

// TestSuiteCatchesDefects proves the suites are not toothless: each
// deliberately broken component must fail the named subtest. Each case runs
// this test binary again with TestDefect restricted to that subtest.
func TestSuiteCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary once per defect")
	}
	cases := []struct {
		defect, run string
	}{
		{"constant-etag", "Basics/ETagChangesOnEveryWrite"},
		{"shared-slice", "Basics/DataIsCopied"},
		{"idempotent-delete", "Basics/MissingKey"},
		{"clean-keys", "Keys/WeirdKeysRoundTripWithoutCollisions"},
		{"partial-write", "Streams/PutReaderFailingReader"},
		{"ignore-cancel", "Streams/CancelDuringPutReader"},
		{"racy-conditional", "Concurrency/CreateRaceHasOneWinner"},
		{"racy-conditional", "Concurrency/ReadModifyWriteLosesNoUpdate"},
		{"inclusive-cursor", "List/PaginationIsStable"},
		{"unconditional-ignored", "Conditional/ConditionsUnsupported"},
		{"keys:ignore-tenant", "WrongTenant"},
		{"keys:no-auth", "Tampering"},
		{"keys:rewrap-new-key", "Rewrap"},
	}
	for _, tc := range cases {
		t.Run(tc.defect+"/"+tc.run, func(t *testing.T) {
			t.Parallel()
			pattern := "^TestDefect$/^" + strings.ReplaceAll(tc.run, "/", "$/^") + "$"
			cmd := exec.Command(os.Args[0], "-test.run", pattern, "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), defectEnv+"="+tc.defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store with defect %q:\n%s", tc.defect, out)
			}
			want := "--- FAIL: TestDefect/" + tc.run
			if !strings.Contains(string(out), want) {
				t.Fatalf("defect %q: output lacks %q:\n%s", tc.defect, want, out)
			}
		})
	}
}

// TestDefect runs a suite against a broken component; only
// TestSuiteCatchesDefects starts it, in a child process.
func TestDefect(t *testing.T) {
	defect := os.Getenv(defectEnv)
	if defect == "" {
		t.Skip("run by TestSuiteCatchesDefects in a child process")
	}
	if d, ok := strings.CutPrefix(defect, "keys:"); ok {
		RunKeyProvider(t, KeyHarness{Open: func(*testing.T) sdk.KeyProvider { return newMemKeys(d) }})
		return
	}
	RunBlobStore(t, BlobHarness{Open: func(*testing.T) sdk.BlobStore { return newMemStore(defect) }})
}
