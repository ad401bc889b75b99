package crypt

import (
	"errors"
	"fmt"

	"github.com/vire-dev/vire/sdk"
)

// Errors returned by Open and by keyring operations. Each integrity failure
// also matches sdk.ErrIntegrity, so callers that only care about the kind can
// test for that, while tools that explain a failure can tell them apart.
var (
	// ErrNotEncrypted: the blob does not start with the envelope magic. It is
	// plaintext, or something other than a Vire envelope.
	ErrNotEncrypted = fmt.Errorf("not an encrypted blob (bad magic): %w", sdk.ErrIntegrity)
	// ErrUnknownFormat: the header names a format version this build cannot
	// read — written by a newer Vire, or corrupted.
	ErrUnknownFormat = fmt.Errorf("unknown envelope format version: %w", sdk.ErrIntegrity)
	// ErrTruncated: the blob is shorter than its header says it must be.
	ErrTruncated = fmt.Errorf("truncated encrypted blob: %w", sdk.ErrIntegrity)
	// ErrMalformed: the header is structurally invalid (for example a zero
	// DEK version or an impossible key-provider id).
	ErrMalformed = fmt.Errorf("malformed envelope header: %w", sdk.ErrIntegrity)
	// ErrUnknownDEK: the blob names a DEK version the tenant's keyring does
	// not hold (or the tenant has no keyring at all).
	ErrUnknownDEK = fmt.Errorf("data key version not in the tenant's keyring: %w", sdk.ErrIntegrity)
	// ErrAuthFailed: AES-GCM authentication failed. The blob was opened for
	// another tenant or another blob key than it was sealed for, or some byte
	// of it was changed; the two cannot be told apart.
	ErrAuthFailed = fmt.Errorf("authentication failed: wrong tenant or key, or the blob was modified: %w", sdk.ErrIntegrity)
	// ErrProviderMismatch: the blob or keyring was sealed under a different
	// key provider than the one configured.
	ErrProviderMismatch = fmt.Errorf("key provider mismatch: %w", sdk.ErrIntegrity)
	// ErrKeyringCorrupt: the stored keyring document is not a valid keyring
	// for this tenant.
	ErrKeyringCorrupt = fmt.Errorf("tenant keyring is corrupt: %w", sdk.ErrIntegrity)
	// ErrProviderRefused: the key provider failed to wrap, unwrap or rewrap a
	// data key. The provider's own error is wrapped too, so errors.Is also
	// matches its kind (sdk.ErrUnavailable, sdk.ErrIntegrity, ...).
	ErrProviderRefused = errors.New("key provider refused")
	// ErrClosed: the Envelope was closed.
	ErrClosed = errors.New("crypt: envelope is closed")
)

// providerErr wraps a key-provider failure so that both ErrProviderRefused
// and the provider's own kind match.
func providerErr(op, tenant string, err error) error {
	return fmt.Errorf("crypt: %s data key for tenant %q: %w: %w", op, tenant, ErrProviderRefused, err)
}
