// Package plugintest holds the conformance suites a Vire plugin author runs
// against a component: RunBlobStore for storage backends, RunKeyProvider
// for key providers and RunMarketData for market-data sources.
//
// The suites only see the sdk interfaces, so they run the same whether the
// harness opens the component in-process or through the host's plugin loader
// (a built binary over gRPC). A passing suite means the host can rely on the
// component's contract: error kinds, ETags, conditional writes, key handling,
// streaming, listing and, for key providers, tenant binding and tamper
// detection.
//
// Besides what the sdk documents, the blob suite pins down these points:
//
//   - Delete of a missing key wraps ErrNotFound; a conditional write or
//     delete against a missing key wraps ErrPrecondition.
//   - An ETag changes whenever a write stores different bytes, and the ETag
//     of a deleted blob never matches again.
//   - PutOptions.IfNoneMatch other than "" or "*" wraps ErrInvalidArgument.
//   - A blob handed to Put, or returned by Get, is the caller's: changing
//     the slice afterwards changes nothing in the store.
//   - A failed, short, or canceled PutReader leaves the previous blob (or
//     no blob) in place; a canceled GetReader fails its next reads.
//   - Cursors are opaque: the suite only passes back NextCursor values.
//
// The key suite requires that any changed byte, truncation or extension of
// a wrapped key, and any other tenant (including one differing only by a
// trailing NUL byte or by case), give an error wrapping ErrIntegrity and no
// key; that a provider that cannot rotate returns ErrUnsupported with
// instructions and says Rotatable: false; and that one that can keeps old
// versions unwrappable and makes Rewrap move keys to the new version.
//
// Typical use in a backend's tests:
//
//	func TestConformance(t *testing.T) {
//		plugintest.RunBlobStore(t, plugintest.BlobHarness{
//			Open: func(t *testing.T) sdk.BlobStore {
//				s := mystore.New(hclog.NewNullLogger())
//				if err := s.Configure(t.Context(), sdk.ConfigValue{"root": t.TempDir()}); err != nil {
//					t.Fatal(err)
//				}
//				t.Cleanup(func() { s.Close() })
//				return s
//			},
//		})
//	}
package plugintest

import (
	"context"
	"errors"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

// BlobHarness tells RunBlobStore how to get a store.
type BlobHarness struct {
	// Open returns a configured store holding no keys, in a namespace of its
	// own: two calls must never see each other's keys. The suite calls it
	// once per subtest. Open registers whatever cleanup it needs (Close,
	// removing data) with t.Cleanup; the suite closes nothing itself.
	Open func(t *testing.T) sdk.BlobStore
	// MaxBlob is the largest blob the store accepts, or zero when the store
	// takes blobs of any size the suite writes (a little over 6 MiB).
	MaxBlob int64
}

// KeyHarness tells RunKeyProvider how to get a key provider.
type KeyHarness struct {
	// Open returns a configured provider. The suite may call it once per
	// subtest and may rotate keys on what it gets, so each call should give
	// a provider whose rotations do not leak into the next call's. Open
	// registers its own cleanup with t.Cleanup.
	Open func(t *testing.T) sdk.KeyProvider
}

// wantKind fails the test unless err wraps kind.
func wantKind(t testing.TB, err, kind error, what string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: got no error, want one wrapping %q", what, kind)
		return
	}
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %q (kind %v), want one wrapping %q", what, err, sdk.Kind(err), kind)
	}
}

// noErr fails the test immediately on err.
func noErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// ctxFor returns the test's context; the test binary's own timeout bounds a
// store that hangs.
func ctxFor(t *testing.T) context.Context { return t.Context() }
