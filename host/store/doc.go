// Package store is Vire's document store: typed JSON documents of tenants
// over an sdk.BlobStore, with tenant-scoped keys, envelope encryption,
// optimistic concurrency, a validated read cache and version history.
//
// # Layout
//
// In the hosted layout a tenant's document of a kind and name lives at
//
//	users/<tenant>/<kind>/<name>
//
// and the tenant's keyring at users/<tenant>/_keyring. Shared market data
// lives at market/<kind>/<name> and is never encrypted. A personal store
// (Layout.Personal) has one implicit tenant and keeps the readable layout
// <kind>/<name>, with the keyring at _keyring. Tenant ids, kinds and names are
// validated (ValidateTenant, ValidateKind, ValidateName) so no key can leave
// its prefix or collide with another tenant's, the keyring or the market
// namespace.
//
// # Encryption
//
// With a Sealer (a *crypt.Envelope) every tenant document is sealed for its
// tenant and full blob key, so a blob copied to another tenant or renamed
// fails to open. Keyrings are persisted by Keyrings in the same backend.
// ReEncrypt brings a tenant's documents to the current data key after a
// rotation.
//
// # Concurrency and ETags
//
// ETags are the backend's own: Get, Put and List return them unchanged, and
// PutOpts.IfMatch / IfNoneMatch are passed to the backend's conditional
// write, so they hold across every instance sharing the backend. A lost
// condition is an error wrapping sdk.ErrPrecondition (HTTP 412 at the REST
// layer). Update and UpdateBytes are read-modify-write loops on top of that,
// retried with jittered backoff.
//
// # Cache
//
// The optional Cache holds documents as stored (sealed when encryption is
// on) keyed by blob key and ETag; a hit is still opened, so no cache holds
// tenant plaintext. Every read asks the backend for the current ETag (Stat)
// and uses the cache only on an exact match, so a document written or
// deleted by another instance is never served stale; what the cache saves is
// the transfer. LRU keeps entries in memory, BlobCache in a shared BlobStore
// (the configured cache plugin, such as Redis), and Tiered puts one in front
// of the other. Writes through a Store refresh its cache. Without a cache a
// read is a single Get.
package store
