package mcp

import (
	"context"
	"errors"
	"fmt"

	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/sdk"
)

// docKind binds the tools shared by the three documents (history, restore,
// the expected_version check, the advice on failures) to one of them.
type docKind struct {
	kind string // "strategy", "plan" or "watchlist"
	// create says how to create the document, for "has no X yet".
	create string
	// inside says where to look when something inside an existing
	// document is missing (an item, a version).
	inside  string
	meta    func(ctx context.Context, c documents.Caller, portfolio string) (documents.Meta, error)
	history func(ctx context.Context, c documents.Caller, portfolio string) (documents.History, error)
	version func(ctx context.Context, c documents.Caller, portfolio string, v int) (any, error)
	restore func(ctx context.Context, c documents.Caller, portfolio string, v int, o documents.WriteOpts) (any, error)
}

func (d *docKind) tool(verb string) string { return d.kind + "_" + verb }

// Arguments shared by the document tools.
type (
	portfolioArg struct {
		Portfolio string `json:"portfolio"`
	}
	guardArg struct {
		ExpectedVersion *int `json:"expected_version,omitempty"`
	}
	historyArgs struct {
		portfolioArg
		Version *int `json:"version,omitempty"`
	}
	restoreArgs struct {
		portfolioArg
		Version int `json:"version"`
		guardArg
	}
	deleteArgs struct {
		portfolioArg
		guardArg
	}
)

const descPortfolio = `Name of the portfolio, e.g. "SMSF" or "Growth" (case-sensitive). ` +
	`Each portfolio has at most one strategy, one plan and one watchlist.`

var portfolioProp = prop{desc: descPortfolio, minLen: count(1)}

func (d *docKind) guardProp() prop {
	return prop{
		desc: fmt.Sprintf("Optional safety check: the version of the %s you last read (the \"version\" field that %s returns). "+
			"The change is refused if the %s has changed since; leave it out to change whatever is current.", d.kind, d.tool("get"), d.kind),
		min: num(1), notNull: true,
	}
}

// writeOpts turns expected_version into a write condition: the write then
// applies only to the version the caller read.
func (d *docKind) writeOpts(ctx context.Context, c documents.Caller, portfolio string, expected *int) (documents.WriteOpts, error) {
	if expected == nil {
		return documents.WriteOpts{}, nil
	}
	m, err := d.meta(ctx, c, portfolio)
	if err == nil {
		if m.Version != *expected {
			return documents.WriteOpts{}, &staleError{kind: d.kind, portfolio: portfolio, expected: *expected, current: m.Version}
		}
		return documents.WriteOpts{IfMatch: m.ETag}, nil
	}
	if !errors.Is(err, sdk.ErrNotFound) {
		return documents.WriteOpts{}, err
	}
	// A deleted document has a version but no content to take an ETag
	// from; restoring it is the one write that can expect it.
	h, herr := d.history(ctx, c, portfolio)
	if herr == nil && h.Deleted && h.Current == *expected {
		return documents.WriteOpts{}, nil
	}
	current := 0
	if herr == nil {
		current = h.Current
	}
	return documents.WriteOpts{}, &staleError{kind: d.kind, portfolio: portfolio, expected: *expected, current: current}
}

// explain gives the advice for a document tool's failure: what to call to
// create a missing document or bring back a deleted one, where to find a
// missing item or version, and to read again after a lost race. "" leaves
// the error to the generic explanations.
func (d *docKind) explain(ctx context.Context, c documents.Caller, portfolio string, err error) string {
	var stale *staleError
	switch {
	case errors.As(err, &stale) && stale.current == 0:
		return fmt.Sprintf("%v; read it with %s, or leave expected_version out", err, d.tool("get"))
	case errors.Is(err, sdk.ErrPrecondition):
		return fmt.Sprintf("%s: the %s changed since you read it; read it again with %s and redo your change on the current version",
			sentence(err), d.kind, d.tool("get"))
	case !errors.Is(err, sdk.ErrNotFound):
		return ""
	}
	if _, merr := d.meta(ctx, c, portfolio); merr == nil {
		return sentence(err) + "; " + d.inside
	}
	if h, herr := d.history(ctx, c, portfolio); herr == nil && h.Deleted {
		return fmt.Sprintf("portfolio %q has no %s: it was deleted in version %d; bring it back with %s (version %d), or %s",
			portfolio, d.kind, h.Current, d.tool("restore"), h.Current-1, d.create)
	}
	return fmt.Sprintf("portfolio %q has no %s yet; %s", portfolio, d.kind, d.create)
}

// addHistoryTools registers <kind>_history and <kind>_restore.
func (s *Server) addHistoryTools(d *docKind) error {
	err := addTool(s, tool[historyArgs]{
		name:  d.tool("history"),
		title: "List or show versions of the " + d.kind,
		desc: fmt.Sprintf("Lists the versions of a portfolio's %[1]s, newest first: each with its number, time, the API key that made it "+
			"and what changed (the last %[2]d versions are kept, deletions included). Pass version to get the full content of that "+
			"version, to review or compare before undoing a change with %[3]s.", d.kind, documents.DefaultHistoryLimit, d.tool("restore")),
		effect: reads,
		props: map[string]prop{
			"portfolio": portfolioProp,
			"version":   {desc: "Optional: a version number from the list; returns that version's content instead of the list.", min: num(1), notNull: true},
		},
		run: func(ctx context.Context, c documents.Caller, a historyArgs) (any, error) {
			if a.Version != nil {
				return d.version(ctx, c, a.Portfolio, *a.Version)
			}
			return d.history(ctx, c, a.Portfolio)
		},
		fail: func(ctx context.Context, c documents.Caller, a historyArgs, err error) string {
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
	if err != nil {
		return err
	}
	return addTool(s, tool[restoreArgs]{
		name:  d.tool("restore"),
		title: "Restore an earlier version of the " + d.kind,
		desc: fmt.Sprintf("Undoes changes to a portfolio's %[1]s by making the content of an earlier version current again, as a new "+
			"version; this also brings back a deleted %[1]s. Nothing is lost: the replaced content stays in the history. Find the "+
			"version with %[2]s. Returns the %[1]s as it now is.", d.kind, d.tool("history")),
		effect:     changes,
		idempotent: true,
		props: map[string]prop{
			"portfolio":        portfolioProp,
			"version":          {desc: "The version to bring back, from " + d.tool("history") + "; not a version that records a deletion.", min: num(1)},
			"expected_version": d.guardProp(),
		},
		run: func(ctx context.Context, c documents.Caller, a restoreArgs) (any, error) {
			o, err := d.writeOpts(ctx, c, a.Portfolio, a.ExpectedVersion)
			if err != nil {
				return nil, err
			}
			return d.restore(ctx, c, a.Portfolio, a.Version, o)
		},
		fail: func(ctx context.Context, c documents.Caller, a restoreArgs, err error) string {
			if errors.Is(err, documents.ErrConflict) {
				return fmt.Sprintf("%v; pick a version that is not a deletion from %s", err, d.tool("history"))
			}
			return d.explain(ctx, c, a.Portfolio, err)
		},
	})
}

// deleted is what a delete tool answers.
type deleted struct {
	Portfolio string `json:"portfolio"`
	Deleted   string `json:"deleted"`
	// Version records the deletion.
	Version int    `json:"version"`
	Undo    string `json:"undo"`
}

func (s *Server) addDocumentTools() error {
	for _, add := range []func() error{s.addStrategyTools, s.addPlanTools, s.addWatchlistTools} {
		if err := add(); err != nil {
			return err
		}
	}
	return nil
}
