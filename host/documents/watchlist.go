package documents

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verdict is the current view on a watched ticker.
type Verdict string

// Watchlist verdicts.
const (
	VerdictBuy        Verdict = "buy"
	VerdictAccumulate Verdict = "accumulate"
	VerdictHold       Verdict = "hold"
	VerdictWatch      Verdict = "watch"
	VerdictReduce     Verdict = "reduce"
	VerdictSell       Verdict = "sell"
	VerdictAvoid      Verdict = "avoid"
)

// Verdicts lists the valid verdicts.
var Verdicts = []Verdict{VerdictBuy, VerdictAccumulate, VerdictHold, VerdictWatch, VerdictReduce, VerdictSell, VerdictAvoid}

// MaxWatchItems bounds a watchlist.
const MaxWatchItems = 1000

// WatchItem is one watched ticker. Ticker, AddedAt and UpdatedAt are set by
// the service.
type WatchItem struct {
	// Ticker is CODE.EXCHANGE, upper case; it identifies the item.
	Ticker      string   `json:"ticker"`
	Notes       string   `json:"notes"`
	TargetPrice *float64 `json:"target_price"`
	// Verdict is "" when none was given.
	Verdict   Verdict   `json:"verdict"`
	AddedAt   time.Time `json:"added_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// WatchItemPatch creates or merges into a watchlist item (merge-patch
// semantics).
type WatchItemPatch struct {
	Notes       Opt[string]  `json:"notes,omitzero"`
	TargetPrice Opt[float64] `json:"target_price,omitzero"`
	Verdict     Opt[Verdict] `json:"verdict,omitzero"`
}

// WatchItemReadOnly names the item fields a patch cannot set (the ticker
// comes from the item's address).
var WatchItemReadOnly = []string{"ticker", "added_at", "updated_at"}

func (p *WatchItemPatch) fields() []string {
	var out []string
	if p.Notes.Present {
		out = append(out, "notes")
	}
	if p.TargetPrice.Present {
		out = append(out, "target_price")
	}
	if p.Verdict.Present {
		out = append(out, "verdict")
	}
	return out
}

func (p *WatchItemPatch) apply(it WatchItem) (WatchItem, error) {
	setValue(&it.Notes, p.Notes)
	setPtr(&it.TargetPrice, p.TargetPrice)
	setValue(&it.Verdict, p.Verdict)
	var fe fieldErrs
	checkText(&fe, "notes", it.Notes, MaxItemNotes)
	if it.TargetPrice != nil {
		checkPrice(&fe, "target_price", *it.TargetPrice)
	}
	if it.Verdict != "" && !slices.Contains(Verdicts, it.Verdict) {
		fe.add("verdict", "want one of %s", joinStrings(Verdicts))
	}
	return it, fe.err()
}

// Watchlist is a portfolio's watched tickers, sorted by ticker.
type Watchlist struct {
	Items []WatchItem `json:"items"`
}

func (w Watchlist) normalized() Watchlist {
	if w.Items == nil {
		w.Items = []WatchItem{}
	}
	return w
}

// find returns the index of the ticker, or where it would be inserted.
func (w Watchlist) find(ticker string) (int, bool) {
	return slices.BinarySearchFunc(w.Items, ticker, func(it WatchItem, t string) int { return strings.Compare(it.Ticker, t) })
}

// WatchlistDoc is a stored watchlist with its version metadata.
type WatchlistDoc struct {
	Meta
	Watchlist Watchlist `json:"watchlist"`
}

// WatchlistVersion is the content of one retained version.
type WatchlistVersion struct {
	Portfolio string      `json:"portfolio"`
	Info      VersionInfo `json:"info"`
	Watchlist Watchlist   `json:"watchlist"`
}

// Watchlists stores one watchlist per portfolio.
type Watchlists struct {
	e   *engine[Watchlist]
	now func() time.Time
}

// Get returns the portfolio's watchlist; an error wrapping sdk.ErrNotFound
// when it has none (or it was deleted).
func (s *Watchlists) Get(ctx context.Context, c Caller, portfolio string) (WatchlistDoc, error) {
	w, m, err := s.e.get(ctx, c, portfolio)
	if err != nil {
		return WatchlistDoc{}, err
	}
	return WatchlistDoc{Meta: m, Watchlist: w.normalized()}, nil
}

// tickerErr reports a bad ticker as a field error on "ticker".
func tickerErr(err error) error {
	return &ValidationError{Fields: []FieldError{{Field: "ticker", Message: err.Error()}}}
}

// GetItem returns one item (the ticker is matched case-insensitively) and
// the watchlist's metadata.
func (s *Watchlists) GetItem(ctx context.Context, c Caller, portfolio, ticker string) (WatchItem, Meta, error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return WatchItem{}, Meta{}, tickerErr(err)
	}
	w, m, err := s.e.get(ctx, c, portfolio)
	if err != nil {
		return WatchItem{}, Meta{}, err
	}
	i, ok := w.find(t)
	if !ok {
		return WatchItem{}, Meta{}, s.noItem(portfolio, t)
	}
	return w.Items[i], m, nil
}

func (s *Watchlists) noItem(portfolio, ticker string) error {
	return notFound("the watchlist of portfolio %q has no %s", portfolio, ticker)
}

// PutItem merges the patch into the ticker's item, adding it (created is
// then true) and the watchlist when they do not exist.
func (s *Watchlists) PutItem(ctx context.Context, c Caller, portfolio, ticker string, p WatchItemPatch, o WriteOpts) (item WatchItem, m Meta, created bool, err error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return WatchItem{}, Meta{}, false, tickerErr(err)
	}
	_, m, err = s.e.mutate(ctx, c, portfolio, o, func(cur Watchlist, _ bool) (*Watchlist, VersionInfo, error) {
		now := s.now().UTC()
		i, found := cur.find(t)
		created = !found
		old := WatchItem{Ticker: t, AddedAt: now, UpdatedAt: now}
		if found {
			old = cur.Items[i]
		}
		it, err := p.apply(old)
		if err != nil {
			return nil, VersionInfo{}, err
		}
		if found {
			if sameJSON(it, old) {
				item = old
				return nil, VersionInfo{}, errNoChange
			}
			it.UpdatedAt = now
			cur.Items[i] = it
			item = it
			return &cur, VersionInfo{Change: fmt.Sprintf("update %s: %s", t, strings.Join(p.fields(), ", "))}, nil
		}
		if len(cur.Items) >= MaxWatchItems {
			return nil, VersionInfo{}, &ConflictError{Code: CodeLimit, Message: fmt.Sprintf("a watchlist holds at most %d tickers", MaxWatchItems)}
		}
		cur.Items = slices.Insert(cur.Items, i, it)
		item = it
		return &cur, VersionInfo{Change: "add " + t}, nil
	})
	if err != nil {
		return WatchItem{}, Meta{}, false, err
	}
	return item, m, created, nil
}

// DeleteItem removes a ticker; the watchlist stays, possibly empty.
func (s *Watchlists) DeleteItem(ctx context.Context, c Caller, portfolio, ticker string, o WriteOpts) (Meta, error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return Meta{}, tickerErr(err)
	}
	_, m, err := s.e.mutate(ctx, c, portfolio, o, func(cur Watchlist, exists bool) (*Watchlist, VersionInfo, error) {
		if !exists {
			return nil, VersionInfo{}, s.e.missing(portfolio)
		}
		i, found := cur.find(t)
		if !found {
			return nil, VersionInfo{}, s.noItem(portfolio, t)
		}
		cur.Items = slices.Delete(cur.Items, i, i+1)
		return &cur, VersionInfo{Change: "remove " + t}, nil
	})
	return m, err
}

// Delete deletes the whole watchlist, recording a deletion version that
// Restore can undo.
func (s *Watchlists) Delete(ctx context.Context, c Caller, portfolio string, o WriteOpts) (Meta, error) {
	return s.e.remove(ctx, c, portfolio, o)
}

// History lists the retained versions, newest first.
func (s *Watchlists) History(ctx context.Context, c Caller, portfolio string) (History, error) {
	return s.e.history(ctx, c, portfolio)
}

// Version returns the content of one retained version.
func (s *Watchlists) Version(ctx context.Context, c Caller, portfolio string, version int) (WatchlistVersion, error) {
	w, info, err := s.e.version(ctx, c, portfolio, version)
	if err != nil {
		return WatchlistVersion{}, err
	}
	return WatchlistVersion{Portfolio: portfolio, Info: info, Watchlist: w.normalized()}, nil
}

// Restore makes an earlier version current again, as a new version.
func (s *Watchlists) Restore(ctx context.Context, c Caller, portfolio string, version int, o WriteOpts) (WatchlistDoc, error) {
	w, m, err := s.e.restore(ctx, c, portfolio, version, o)
	if err != nil {
		return WatchlistDoc{}, err
	}
	return WatchlistDoc{Meta: m, Watchlist: w.normalized()}, nil
}
