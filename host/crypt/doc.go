// Package crypt is Vire's envelope encryption: tenant blobs are sealed with
// AES-256-GCM under per-tenant data keys (DEKs), and the DEKs are wrapped by an
// sdk.KeyProvider and kept in the tenant's keyring.
//
// # Blob format (version 1)
//
// A sealed blob is a clear-text header followed by the GCM output:
//
//	offset     size  field
//	0          4     magic "VIRE"
//	4          1     format version, 1
//	5          1     L, length of the key-provider id (1..64)
//	6          L     key-provider id, ASCII [a-z0-9._-] (e.g. "env", "vault")
//	6+L        4     DEK version, uint32 big-endian, >= 1
//	10+L       12    nonce, random for every seal
//	22+L       n+16  AES-256-GCM ciphertext of the n plaintext bytes, then the 16-byte tag
//
// The additional authenticated data is
//
//	header (bytes 0 .. 22+L) || uint32be(len(tenant)) || tenant || uint32be(len(key)) || key
//
// where key is the full blob key the blob is stored under. A blob copied to
// another tenant or another key, or any changed byte (header included), fails
// authentication. The wrapped DEK is not part of the blob or of the AAD, so
// re-wrapping a keyring under a new key-encryption key changes no data blob.
//
// # Keyring
//
// A tenant's keyring is a small JSON document (see Keyring) holding, for every
// DEK version, the key as wrapped by the provider, when it was made and how
// many seals have been reserved on it; plus the provider id and the current
// version. It contains no plaintext key material. It is persisted through a
// KeyringStore with conditional writes, so several server instances can
// share it: every change is a compare-and-swap that is re-read and re-applied
// when another instance wrote first.
//
// # Limits and rotation
//
// With random 96-bit nonces one key may seal at most 2^32 messages. Each
// instance reserves ranges of seals in the keyring (Options.SealReserve) before
// using them, so the stored counter is an upper bound even across crashes; when
// the next reservation would pass Options.RotateAfter (default 2^30) a new DEK
// version is created and becomes current. RotateDEK does the same on demand.
// Old versions stay in the keyring, so old blobs remain readable; re-encrypting
// them is the document store's job. Rewrap re-wraps every DEK version under the
// provider's latest key version without unwrapping them here.
//
// # Caching
//
// Unwrapped DEKs are kept in memory for Options.CacheTTL after unwrapping and
// zeroed when they expire, are dropped or the Envelope is closed. Concurrent
// unwraps of the same DEK are coalesced into one provider call.
//
// # Errors
//
// Open distinguishes a blob that is not an envelope (ErrNotEncrypted), an
// unknown format (ErrUnknownFormat), a truncated blob (ErrTruncated), a
// malformed header (ErrMalformed), a DEK version missing from the keyring
// (ErrUnknownDEK), a provider mismatch (ErrProviderMismatch) and a failed
// authentication (ErrAuthFailed: wrong tenant or key, or modified bytes). All
// of these also match sdk.ErrIntegrity. A key provider failure matches
// ErrProviderRefused and the provider's own error kind.
package crypt
