package documents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// Caller is who acts: Tenant scopes every read and write; KeyID, the id of
// the API key (never the key itself), is recorded in the history.
type Caller struct {
	Tenant string
	KeyID  string
}

// WriteOpts make a write conditional.
type WriteOpts struct {
	// IfMatch, when set, is the ETag the caller last read, or "*" for "the
	// document exists". A mismatch is an error wrapping sdk.ErrPrecondition.
	IfMatch string
	// IfNoneMatch "*": only create, never replace an existing document.
	IfNoneMatch string
}

// Meta describes the stored version of a document.
type Meta struct {
	Portfolio string    `json:"portfolio"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	// UpdatedBy is the key id that made this version ("" when unknown).
	UpdatedBy string `json:"updated_by,omitempty"`
	// ETag is the store's ETag of the document, for WriteOpts.IfMatch.
	ETag string `json:"-"`
}

// VersionInfo is one entry of a document's history.
type VersionInfo struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	KeyID   string    `json:"key_id,omitempty"`
	// Change says what the version did, e.g. "update", "add item 3f2a",
	// "restore version 3", "delete".
	Change string `json:"change"`
	// Deleted: this version deleted the document.
	Deleted bool `json:"deleted,omitempty"`
	// RestoredFrom is the version a restore brought back.
	RestoredFrom int `json:"restored_from,omitempty"`
}

// History is the retained history of a document, newest first.
type History struct {
	Portfolio string `json:"portfolio"`
	// Current is the latest version; Deleted says whether it is a deletion.
	Current  int           `json:"current_version"`
	Deleted  bool          `json:"deleted"`
	Limit    int           `json:"limit"`
	Versions []VersionInfo `json:"versions"`
}

// record is what the store holds for one document.
type record[T any] struct {
	Version int `json:"version"`
	// Body is nil when the latest version is a deletion.
	Body    *T            `json:"body,omitempty"`
	History []VersionInfo `json:"history"`
}

func (r *record[T]) latest() VersionInfo {
	if len(r.History) == 0 {
		return VersionInfo{Version: r.Version}
	}
	return r.History[len(r.History)-1]
}

// snapshot is the stored content of an earlier version.
type snapshot[T any] struct {
	Info VersionInfo `json:"info"`
	Body T           `json:"body"`
}

// errNoChange, from a mutation, ends it without a new version.
var errNoChange = errors.New("no change")

// DefaultHistoryLimit is how many versions a document's history keeps.
const DefaultHistoryLimit = 50

const maxAttempts = 10

// engine stores one kind of versioned document.
type engine[T any] struct {
	s     *store.Store
	kind  string // store kind of the records, e.g. "strategy"
	vkind string // store kind of the snapshots, e.g. "strategy-versions"
	limit int
	now   func() time.Time
	log   hclog.Logger
}

func newEngine[T any](s *store.Store, kind string, o Options) *engine[T] {
	return &engine[T]{s: s, kind: kind, vkind: kind + "-versions", limit: o.HistoryLimit, now: o.Now, log: o.Logger.Named(kind)}
}

func (e *engine[T]) snapName(name string, v int) string { return name + "@" + strconv.Itoa(v) }

func (e *engine[T]) check(c Caller, name string) error {
	if e.s == nil {
		return fmt.Errorf("documents: no document store is configured: %w", sdk.ErrUnavailable)
	}
	if c.Tenant == "" {
		return fmt.Errorf("documents: no tenant: %w", sdk.ErrUnauthorized)
	}
	return ValidatePortfolioName(name)
}

// load reads a record; found is false when there has never been one.
func (e *engine[T]) load(ctx context.Context, c Caller, name string) (rec record[T], etag string, found bool, err error) {
	etag, err = e.s.Get(ctx, c.Tenant, e.kind, name, &rec)
	if errors.Is(err, sdk.ErrNotFound) {
		return record[T]{}, "", false, nil
	}
	if err != nil {
		return record[T]{}, "", false, fmt.Errorf("reading the %s of portfolio %q: %w", e.kind, name, err)
	}
	return rec, etag, true, nil
}

func (e *engine[T]) meta(name string, rec *record[T], etag string) Meta {
	l := rec.latest()
	return Meta{Portfolio: name, Version: rec.Version, UpdatedAt: l.Time, UpdatedBy: l.KeyID, ETag: etag}
}

func (e *engine[T]) missing(name string) error {
	return notFound("portfolio %q has no %s", name, e.kind)
}

// get returns the current content.
func (e *engine[T]) get(ctx context.Context, c Caller, name string) (T, Meta, error) {
	var zero T
	if err := e.check(c, name); err != nil {
		return zero, Meta{}, err
	}
	rec, etag, found, err := e.load(ctx, c, name)
	if err != nil {
		return zero, Meta{}, err
	}
	if !found || rec.Body == nil {
		return zero, Meta{}, e.missing(name)
	}
	return *rec.Body, e.meta(name, &rec, etag), nil
}

// mutation computes the next content from the current one (exists is false
// when there is none or it was deleted). It returns nil to delete, or
// errNoChange to leave the document as it is. It may run several times.
type mutation[T any] func(cur T, exists bool) (next *T, info VersionInfo, err error)

// mutate commits one new version made by fn and returns the record written
// (or the current one when fn reported no change).
func (e *engine[T]) mutate(ctx context.Context, c Caller, name string, o WriteOpts, fn mutation[T]) (record[T], Meta, error) {
	if err := e.check(c, name); err != nil {
		return record[T]{}, Meta{}, err
	}
	if o.IfNoneMatch != "" && o.IfNoneMatch != "*" {
		return record[T]{}, Meta{}, &ValidationError{Fields: []FieldError{{Field: "If-None-Match", Message: `only "*" is supported`}}}
	}
	for attempt := 1; ; attempt++ {
		rec, etag, found, err := e.load(ctx, c, name)
		if err != nil {
			return record[T]{}, Meta{}, err
		}
		exists := found && rec.Body != nil
		if err := e.checkConditions(name, o, etag, exists); err != nil {
			return record[T]{}, Meta{}, err
		}
		var cur T
		var snap []byte
		if exists {
			// fn may modify cur, and cur shares its lists with rec.Body:
			// encode the snapshot of the version read before fn runs.
			if snap, err = json.Marshal(snapshot[T]{Info: rec.latest(), Body: *rec.Body}); err != nil {
				return record[T]{}, Meta{}, fmt.Errorf("encoding version %d of the %s of portfolio %q: %w", rec.Version, e.kind, name, err)
			}
			cur = *rec.Body
		}
		next, info, err := fn(cur, exists)
		if errors.Is(err, errNoChange) {
			return rec, e.meta(name, &rec, etag), nil
		}
		if err != nil {
			return record[T]{}, Meta{}, err
		}
		if next == nil && !exists {
			return record[T]{}, Meta{}, e.missing(name)
		}
		if exists {
			if err := e.writeSnapshot(ctx, c, name, rec.Version, snap); err != nil {
				return record[T]{}, Meta{}, err
			}
		}
		nrec, dropped := e.next(&rec, next, info, c.KeyID)
		wo := store.PutOpts{IfMatch: etag}
		if !found {
			wo = store.PutOpts{IfNoneMatch: "*"}
		}
		netag, err := e.s.Put(ctx, c.Tenant, e.kind, name, nrec, wo)
		if err == nil {
			e.dropSnapshots(ctx, c, name, dropped)
			return nrec, e.meta(name, &nrec, netag), nil
		}
		if !errors.Is(err, sdk.ErrPrecondition) {
			return record[T]{}, Meta{}, fmt.Errorf("writing the %s of portfolio %q: %w", e.kind, name, err)
		}
		if o.IfMatch != "" || o.IfNoneMatch != "" {
			// The caller's condition named the version we read; another
			// writer has replaced it, so it no longer holds.
			return record[T]{}, Meta{}, precondition("the %s of portfolio %q was changed by another request", e.kind, name)
		}
		if attempt >= maxAttempts {
			return record[T]{}, Meta{}, fmt.Errorf("the %s of portfolio %q: gave up after %d attempts lost to concurrent writers: %w", e.kind, name, attempt, err)
		}
		if err := pause(ctx, attempt); err != nil {
			return record[T]{}, Meta{}, err
		}
	}
}

func (e *engine[T]) checkConditions(name string, o WriteOpts, etag string, exists bool) error {
	switch {
	case o.IfMatch == "*" && !exists:
		return precondition("If-Match: * but portfolio %q has no %s", name, e.kind)
	case o.IfMatch != "" && o.IfMatch != "*" && o.IfMatch != etag:
		return precondition("the %s of portfolio %q has changed since ETag %q was read", e.kind, name, o.IfMatch)
	case o.IfNoneMatch == "*" && exists:
		return precondition("If-None-Match: * but portfolio %q already has a %s", name, e.kind)
	}
	return nil
}

// next builds the record of the new version and says which versions fall
// out of the history window.
func (e *engine[T]) next(rec *record[T], body *T, info VersionInfo, keyID string) (record[T], []int) {
	info.Version = rec.Version + 1
	info.Time = e.now().UTC()
	info.KeyID = keyID
	info.Deleted = body == nil
	h := append(append([]VersionInfo(nil), rec.History...), info)
	var dropped []int
	if n := len(h) - e.limit; n > 0 {
		for _, v := range h[:n] {
			dropped = append(dropped, v.Version)
		}
		h = h[n:]
	}
	return record[T]{Version: info.Version, Body: body, History: h}, dropped
}

// writeSnapshot stores the encoded snapshot of a version before the record
// moves past it. Every writer that read this version writes the same
// content, so an existing snapshot is left as it is.
func (e *engine[T]) writeSnapshot(ctx context.Context, c Caller, name string, version int, snap []byte) error {
	_, err := e.s.PutBytes(ctx, c.Tenant, e.vkind, e.snapName(name, version), snap, store.PutOpts{IfNoneMatch: "*"})
	if err != nil && !errors.Is(err, sdk.ErrPrecondition) {
		return fmt.Errorf("saving version %d of the %s of portfolio %q: %w", version, e.kind, name, err)
	}
	return nil
}

// dropSnapshots deletes the snapshots of versions that left the history.
// Failure leaves an orphan that nothing reads, so it is logged, not returned.
func (e *engine[T]) dropSnapshots(ctx context.Context, c Caller, name string, versions []int) {
	for _, v := range versions {
		err := e.s.Delete(ctx, c.Tenant, e.vkind, e.snapName(name, v), store.DeleteOpts{})
		if err != nil && !errors.Is(err, sdk.ErrNotFound) {
			e.log.Warn("could not delete an expired version", "portfolio", name, "version", v, "error", err)
		}
	}
}

// history lists the retained versions, newest first.
func (e *engine[T]) history(ctx context.Context, c Caller, name string) (History, error) {
	if err := e.check(c, name); err != nil {
		return History{}, err
	}
	rec, _, found, err := e.load(ctx, c, name)
	if err != nil {
		return History{}, err
	}
	if !found {
		return History{}, notFound("portfolio %q has no %s history", name, e.kind)
	}
	h := History{Portfolio: name, Current: rec.Version, Deleted: rec.Body == nil, Limit: e.limit, Versions: make([]VersionInfo, 0, len(rec.History))}
	for i := len(rec.History) - 1; i >= 0; i-- {
		h.Versions = append(h.Versions, rec.History[i])
	}
	return h, nil
}

// version returns the content of a retained version.
func (e *engine[T]) version(ctx context.Context, c Caller, name string, v int) (T, VersionInfo, error) {
	var zero T
	if err := e.check(c, name); err != nil {
		return zero, VersionInfo{}, err
	}
	rec, _, found, err := e.load(ctx, c, name)
	if err != nil {
		return zero, VersionInfo{}, err
	}
	if !found {
		return zero, VersionInfo{}, notFound("portfolio %q has no %s history", name, e.kind)
	}
	return e.versionOf(ctx, c, name, &rec, v)
}

func (e *engine[T]) versionOf(ctx context.Context, c Caller, name string, rec *record[T], v int) (T, VersionInfo, error) {
	var zero T
	var info *VersionInfo
	for i := range rec.History {
		if rec.History[i].Version == v {
			info = &rec.History[i]
		}
	}
	if info == nil {
		return zero, VersionInfo{}, notFound("version %d of the %s of portfolio %q is not in its history (the history keeps the last %d versions)", v, e.kind, name, e.limit)
	}
	if info.Deleted {
		return zero, *info, &ConflictError{Code: CodeDeletedVersion, Message: fmt.Sprintf("version %d of the %s of portfolio %q records a deletion; it has no content", v, e.kind, name)}
	}
	if v == rec.Version {
		return *rec.Body, *info, nil
	}
	var snap snapshot[T]
	if _, err := e.s.Get(ctx, c.Tenant, e.vkind, e.snapName(name, v), &snap); err != nil {
		return zero, VersionInfo{}, fmt.Errorf("reading version %d of the %s of portfolio %q: %w", v, e.kind, name, err)
	}
	return snap.Body, *info, nil
}

// restore makes the content of version v the current content, as a new
// version. The content of a version never changes, so it is read once.
func (e *engine[T]) restore(ctx context.Context, c Caller, name string, v int, o WriteOpts) (T, Meta, error) {
	var zero T
	if v < 1 {
		return zero, Meta{}, &ValidationError{Fields: []FieldError{{Field: "version", Message: "must be a version number from the history (1 or more)"}}}
	}
	body, _, err := e.version(ctx, c, name, v)
	if err != nil {
		return zero, Meta{}, err
	}
	rec, m, err := e.mutate(ctx, c, name, o, func(cur T, exists bool) (*T, VersionInfo, error) {
		if exists && sameJSON(cur, body) {
			return nil, VersionInfo{}, errNoChange
		}
		b := body
		return &b, VersionInfo{Change: fmt.Sprintf("restore version %d", v), RestoredFrom: v}, nil
	})
	if err != nil {
		return zero, Meta{}, err
	}
	return *rec.Body, m, nil
}

// remove records a deletion.
func (e *engine[T]) remove(ctx context.Context, c Caller, name string, o WriteOpts) (Meta, error) {
	_, m, err := e.mutate(ctx, c, name, o, func(T, bool) (*T, VersionInfo, error) {
		return nil, VersionInfo{Change: "delete"}, nil
	})
	return m, err
}

// sameJSON reports whether two values encode alike.
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// pause waits a jittered, growing delay before another attempt, so
// contending writers spread out.
func pause(ctx context.Context, attempt int) error {
	ceiling := min(2*time.Millisecond<<min(attempt, 7), 250*time.Millisecond)
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
