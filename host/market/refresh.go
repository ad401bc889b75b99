package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// EODHD's charges against the daily allowance, the only metered source
// Vire bundles. Bulk with symbols= costs costBulk plus one per symbol, so
// it never beats asking per ticker; bulk for a whole exchange wins once
// more than costBulk of its tickers are due.
const (
	costEOD  = 1   // /eod/{T}
	costBulk = 100 // /eod-bulk-last-day/{EX}, every symbol of the exchange
)

const (
	// leaseTTL is how long a refresh lease holds before another instance
	// may take over from a holder that died.
	leaseTTL = 30 * time.Minute
	// refreshParallel bounds the documents one refresh works on at once.
	refreshParallel = 4
)

// RefreshReport says what one exchange's daily refresh did.
type RefreshReport struct {
	Exchange string `json:"exchange"`
	// Session is the trading day whose bars the refresh brings in.
	Session string `json:"session"`
	// Tracked counts the exchange's tickers with stored history.
	Tracked int `json:"tracked"`
	// Due counts those not refreshed since the session's EOD fell due.
	Due int `json:"due"`
	// Bulk is true when one bulk call served most of them.
	Bulk bool `json:"bulk"`
	// PerTicker counts the tickers refreshed with a call each.
	PerTicker int `json:"per_ticker"`
	// Calls is what the refresh cost at EODHD's prices.
	Calls   int `json:"calls"`
	Updated int `json:"updated"`
	Failed  int `json:"failed"`
	// Skipped says why nothing was done, if so.
	Skipped string `json:"skipped,omitempty"`
}

// historyHead is the part of a stored history the refresh plans with.
type historyHead struct {
	Source  string    `json:"source"`
	Fetched time.Time `json:"fetched"`
	Value   struct {
		Newest string    `json:"newest"`
		Full   time.Time `json:"full"`
	} `json:"value"`
}

type tracked struct {
	ticker string
	head   historyHead
}

// RefreshDaily brings the history of every tracked ticker (every ticker
// with stored history) up to its exchange's latest session, exchange by
// exchange, choosing per-ticker or bulk calls by their cost. Across
// instances a lease per exchange and session lets one instance do the
// work.
func (s *Service) RefreshDaily(ctx context.Context) ([]RefreshReport, error) {
	if s.src == nil {
		return nil, s.noSource()
	}
	byExchange, err := s.tracked(ctx)
	if err != nil {
		return nil, err
	}
	var reports []RefreshReport
	var errs []error
	for _, code := range slices.Sorted(mapKeys(byExchange)) {
		rep, err := s.refreshExchange(ctx, code, byExchange[code])
		reports = append(reports, rep)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", code, err))
		}
	}
	return reports, errors.Join(errs...)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// tracked lists the stored histories of the current source by exchange.
func (s *Service) tracked(ctx context.Context) (map[string][]tracked, error) {
	var names []string
	for cursor := ""; ; {
		page, err := s.market.List(ctx, kindEOD, store.ListOpts{Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("listing stored histories: %w", err)
		}
		for _, e := range page.Items {
			if t, err := NormalizeTicker(e.Name); err == nil && t == e.Name {
				names = append(names, e.Name)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	heads := make([]historyHead, len(names))
	errs := make([]error, len(names))
	each(names, func(i int, t string) {
		_, errs[i] = s.market.Get(ctx, kindEOD, t, &heads[i])
	})
	out := map[string][]tracked{}
	for i, t := range names {
		if errs[i] != nil {
			if !errors.Is(errs[i], sdk.ErrNotFound) { // deleted since the listing
				s.log.Warn("cannot read a stored history", "ticker", t, "error", errs[i])
			}
			continue
		}
		if heads[i].Source != s.name {
			continue
		}
		_, ex, _ := strings.Cut(t, ".")
		out[ex] = append(out[ex], tracked{ticker: t, head: heads[i]})
	}
	return out, nil
}

// each runs fn over items, refreshParallel at a time.
func each[T any](items []T, fn func(int, T)) {
	sem := make(chan struct{}, refreshParallel)
	var wg sync.WaitGroup
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i, it)
		})
	}
	wg.Wait()
}

// refreshExchange refreshes one exchange's due tickers. A ticker goes into
// the bulk call only when its stored history runs up to the session before
// (one missing weekday is allowed: a public holiday) and its weekly full
// refresh is not due; the others are refreshed one call each, which also
// fills gaps and updates adjusted closes.
func (s *Service) refreshExchange(ctx context.Context, code string, ts []tracked) (RefreshReport, error) {
	ex := s.cal.Exchange(code)
	now := s.now()
	session, _ := ex.EODCutoff(now)
	rep := RefreshReport{Exchange: code, Session: session, Tracked: len(ts)}
	var bulkable, single []string
	oldest := previousSession(previousSession(session))
	for _, t := range ts {
		if eodFresh(ex, t.head.Fetched, t.head.Value.Newest, now) {
			continue
		}
		if t.head.Value.Newest >= oldest && now.Sub(t.head.Value.Full) < fullRefreshEvery {
			bulkable = append(bulkable, t.ticker)
		} else {
			single = append(single, t.ticker)
		}
	}
	rep.Due = len(bulkable) + len(single)
	if rep.Due == 0 {
		rep.Skipped = "every tracked ticker is fresh"
		return rep, nil
	}
	held, err := s.claim(ctx, code, session)
	if err != nil {
		return rep, err
	}
	if held != "" {
		rep.Skipped = "instance " + held + " is refreshing this session"
		return rep, nil
	}
	defer s.release(ctx, code, session)

	if costBulk < len(bulkable)*costEOD {
		rep.Bulk = true
		rep.Calls += costBulk
		missed, err := s.applyBulk(ctx, code, session, bulkable, &rep)
		if err != nil {
			// Fall back to asking per ticker rather than leaving the
			// exchange stale; the reads would do the same.
			s.log.Warn("bulk refresh failed; refreshing per ticker", "exchange", code, "error", err)
			missed = bulkable
		}
		single = append(single, missed...)
	} else {
		single = append(single, bulkable...)
	}
	var mu sync.Mutex
	each(single, func(_ int, t string) {
		r, err := lookup(ctx, s, s.historySpec(t), t)
		mu.Lock()
		defer mu.Unlock()
		rep.PerTicker++
		rep.Calls += costEOD
		if err != nil || r.stale {
			rep.Failed++
			if err != nil {
				s.log.Warn("daily refresh of a ticker failed", "ticker", t, "error", err)
			}
			return
		}
		rep.Updated++
	})
	return rep, nil
}

// applyBulk merges the exchange's last-day bars into the stored histories
// of the given tickers and returns those the bulk reply did not serve.
// A history becomes fresh only when the bar is the session's and the
// history had no gap before it.
func (s *Service) applyBulk(ctx context.Context, code, session string, tickers []string, rep *RefreshReport) ([]string, error) {
	bars, err := s.src.BulkLastDay(ctx, noCreds, code, "", nil)
	if err != nil {
		return nil, err
	}
	byTicker := make(map[string]sdk.Bar, len(bars))
	for _, b := range bars {
		if t, err := NormalizeTicker(b.Ticker); err == nil {
			byTicker[t] = b
		}
	}
	now := s.now()
	var mu sync.Mutex
	var missed []string
	each(tickers, func(_ int, t string) {
		b, ok := byTicker[t]
		fresh := false
		var err error
		if ok {
			_, err = s.market.UpdateBytes(ctx, kindEOD, t, func(raw []byte, exists bool) ([]byte, error) {
				var d doc[historyValue]
				fresh = false
				if !exists || json.Unmarshal(raw, &d) != nil || d.Source != s.name {
					return nil, store.ErrNoChange
				}
				// Without a gap before it, the session's bar makes the
				// history fresh; with one, a per-ticker refresh fills it.
				fresh = b.Date == session && d.Value.Newest >= previousSession(previousSession(b.Date))
				d.Value = mergeHistory(d.Value, historyValue{Bars: []sdk.Bar{b}})
				if fresh {
					d.Fetched = now
				}
				return json.Marshal(d)
			})
			s.mem.remove(kindEOD + "/" + t)
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case ok && err != nil:
			rep.Failed++
			s.log.Warn("cannot store a bulk bar", "ticker", t, "error", err)
		case fresh:
			rep.Updated++
		default:
			missed = append(missed, t)
		}
	})
	return missed, nil
}

// lease records which instance refreshes an exchange's session.
type lease struct {
	Session string    `json:"session"`
	Holder  string    `json:"holder"`
	Started time.Time `json:"started"`
	Done    bool      `json:"done"`
}

var errLeaseHeld = errors.New("lease held")

// claim takes the exchange's refresh lease for session. It returns the
// holder's name when another instance holds it (or finished it).
func (s *Service) claim(ctx context.Context, code, session string) (string, error) {
	now := s.now()
	holder := ""
	_, err := s.market.UpdateBytes(ctx, kindRefresh, code, func(raw []byte, exists bool) ([]byte, error) {
		var l lease
		if exists && json.Unmarshal(raw, &l) == nil && l.Session == session && l.Holder != s.instance &&
			(l.Done || now.Sub(l.Started) < leaseTTL) {
			holder = l.Holder
			return nil, errLeaseHeld
		}
		holder = ""
		return json.Marshal(lease{Session: session, Holder: s.instance, Started: now})
	})
	if errors.Is(err, errLeaseHeld) {
		return holder, nil
	}
	if err != nil {
		return "", fmt.Errorf("claiming the refresh lease: %w", err)
	}
	return "", nil
}

func (s *Service) release(ctx context.Context, code, session string) {
	_, err := s.market.UpdateBytes(ctx, kindRefresh, code, func(raw []byte, exists bool) ([]byte, error) {
		var l lease
		if !exists || json.Unmarshal(raw, &l) != nil || l.Holder != s.instance || l.Session != session {
			return nil, store.ErrNoChange
		}
		l.Done = true
		return json.Marshal(l)
	})
	if err != nil {
		s.log.Warn("cannot release the refresh lease", "exchange", code, "error", err)
	}
}

// Run refreshes due exchanges now and every RefreshInterval until ctx
// ends. Start it once per server; instances sharing a store take turns
// through the leases.
func (s *Service) Run(ctx context.Context) {
	if s.src == nil {
		return
	}
	tick := time.NewTicker(s.o.RefreshInterval)
	defer tick.Stop()
	for {
		reports, err := s.RefreshDaily(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("daily market refresh failed", "error", err)
		}
		for _, r := range reports {
			if r.Skipped == "" {
				s.log.Info("daily market refresh", "exchange", r.Exchange, "session", r.Session, "due", r.Due,
					"bulk", r.Bulk, "per_ticker", r.PerTicker, "calls", r.Calls, "updated", r.Updated, "failed", r.Failed)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
