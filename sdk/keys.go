package sdk

import "context"

// WrappedKey is a data-encryption key sealed by a key provider.
type WrappedKey struct {
	// KeyVersion is the version of the provider's key-encryption key that
	// sealed Ciphertext (1 is the first version).
	KeyVersion uint32 `json:"key_version"`
	// Ciphertext is opaque to everyone but the provider.
	Ciphertext []byte `json:"ciphertext"`
}

// KeyStatus describes a tenant's key-encryption key at a provider.
type KeyStatus struct {
	// Latest is the version new wraps use.
	Latest uint32 `json:"latest"`
	// MinDecrypt is the oldest version that can still unwrap.
	MinDecrypt uint32 `json:"min_decrypt"`
	// Versions lists every version the provider knows, ascending.
	Versions []uint32 `json:"versions"`
	// Rotatable says whether Rotate is supported.
	Rotatable bool `json:"rotatable"`
}

// KeyProvider seals and opens per-tenant data keys under a key-encryption key
// it controls. A wrapped key must only unwrap for the tenant it was wrapped
// for: any other tenant, or any changed byte, gives an error wrapping
// ErrIntegrity, never a key.
type KeyProvider interface {
	Plugin

	Wrap(ctx context.Context, tenant string, dek []byte) (WrappedKey, error)
	Unwrap(ctx context.Context, tenant string, w WrappedKey) ([]byte, error)
	// Rewrap re-seals w under the latest key version without revealing the
	// data key to the caller.
	Rewrap(ctx context.Context, tenant string, w WrappedKey) (WrappedKey, error)
	// Rotate creates a new key version for the tenant and returns it.
	// Providers that cannot rotate return ErrUnsupported with a message that
	// says how the operator rotates instead.
	Rotate(ctx context.Context, tenant string) (uint32, error)
	Status(ctx context.Context, tenant string) (KeyStatus, error)
}
