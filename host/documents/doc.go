// Package documents holds the services behind a portfolio's strategy, plan
// and watchlist: typed, validated documents of a tenant, one of each kind per
// portfolio, with merge-patch updates, optimistic concurrency and a version
// history that can be listed and restored. The services are pure Go over
// host/store; the REST layer (host/api) and the MCP layer call them alike.
//
// # Callers
//
// Every call names a Caller: the tenant whose data it touches and the id of
// the API key acting, which the history records. Both come from the
// authenticated principal, never from the request body.
//
// # Storage and history
//
// Each document is one record in the tenant store, of kind "strategy",
// "plan" or "watchlist" and named after the portfolio. The record holds the
// current content, its version number and the history index: one entry per
// version (number, time, key id, what changed). Versions are numbered from 1
// and never reused; every change, deletion and restore adds one, and a
// change that leaves the content as it was adds none.
//
// The content of earlier versions lives in snapshot documents of kind
// "<kind>-versions", named "<portfolio>@<version>". The snapshot of version
// N is written when version N+1 is committed, before the record, with the
// content the writer read at version N. Version N's content is fixed once it
// is committed, so concurrent writers racing on the record all write the same
// snapshot, and a writer that loses the race leaves nothing wrong behind. The
// record's conditional write is the one commit point: the current content and
// the history index can never disagree, whatever the backend.
//
// The history keeps the last Options.HistoryLimit versions (DefaultHistoryLimit,
// 50); when a commit pushes a version out of the window its snapshot is
// deleted. A crash between the commit and that delete leaves an orphan
// snapshot, which nothing reads.
//
// Deleting a document records a deletion version and keeps the history, so a
// deletion can be undone with a restore. A restore writes the restored
// content as a new version; restoring a deletion version is refused.
//
// # Concurrency
//
// Writes are read-modify-write cycles on the record, conditional on the ETag
// read, retried after a lost race. With WriteOpts.IfMatch the caller's ETag
// must be the current one and a lost race is reported (sdk.ErrPrecondition)
// instead of retried.
package documents
