// Package tenant is Vire's access layer for the hosted mode: the tenant
// registry, API keys and how they authenticate a request, per-key (and
// per-scope) rate limits, and each tenant's tamper-evident audit log. The REST and MCP
// layers call it; it holds the business rules (who may administer whom,
// what rotation means), so handlers stay thin.
//
// # Records
//
// Tenants and API keys live in the store's System namespace, unencrypted
// and shared by every server instance, and change only through conditional
// writes:
//
//	_system/tenants/<tenant>        Tenant
//	_system/apikeys/<key id>        one API key: tenant, scopes, hash of the secret, expiry, revocation
//	_system/tenant-keys/<tenant>    the ids of a tenant's keys, for listing
//
// Nothing is cached in memory as a source of truth: revoking a key or
// suspending a tenant on one instance takes effect on every instance at the
// next request.
//
// # Keys
//
// An API key looks like vire_<id>_<secret><checksum> (see ParseKey). The
// server stores only a SHA-256 hash of the secret and compares it in
// constant time; the key itself is shown once, when it is created.
//
// # Rate limits
//
// A Limiter gives each API key a default budget and, for the scopes Limits
// lists, a budget of its own per key and scope; the scope a request needs
// picks the budget. LocalLimiter keeps the budgets in the process,
// SharedLimiter in a store with conditional writes shared by every
// instance.
//
// # Audit
//
// AuditLog appends one record per authenticated request to the tenant's
// hash chain under the tenant's documents (kind "audit"), in segments; see
// AuditLog and Verify.
package tenant
