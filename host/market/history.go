package market

import (
	"context"
	"time"

	"github.com/vire-dev/vire/sdk"
)

const (
	// fullRefreshEvery is how often a ticker's whole history is fetched
	// again rather than only its recent bars: adjusted closes of old bars
	// change with every dividend and split. Both cost one call.
	fullRefreshEvery = 7 * 24 * time.Hour
	// overlapDays is how far before the newest stored bar an incremental
	// refresh starts, so upstream corrections of recent bars arrive.
	overlapDays = 10
	// When a refresh after the EOD cutoff lacks the session's bar (a
	// holiday, or upstream running late), the history is asked for again
	// every missingBarRetry until missingBarPatience after the cutoff.
	missingBarRetry    = time.Hour
	missingBarPatience = 6 * time.Hour
)

// historyValue is a ticker's stored daily history.
type historyValue struct {
	// Newest is the date of the newest bar. The daily refresh plans with
	// it and Full alone, decoding no bars.
	Newest string `json:"newest,omitempty"`
	// Full is when the whole history was last fetched.
	Full time.Time `json:"full,omitzero"`
	// Bars ascend by date, one per date, without their ticker.
	Bars []sdk.Bar `json:"bars"`
	// Suspect lists the dates of bars suspectDates flags.
	Suspect []string `json:"suspect,omitempty"`
}

// HistoryResult is a ticker's history over a range.
type HistoryResult struct {
	Meta
	Ticker string     `json:"ticker"`
	Period sdk.Period `json:"period"`
	From   string     `json:"from,omitempty"`
	To     string     `json:"to,omitempty"`
	// Bars share memory with the service's cache: read them, never write
	// through their pointers.
	Bars []Bar `json:"bars"`
}

// History returns a ticker's bars within q's range (open ends allowed),
// daily, weekly or monthly. Weekly and monthly bars are built from the
// stored daily ones.
func (s *Service) History(ctx context.Context, ticker string, q sdk.HistoryQuery) (HistoryResult, error) {
	t, err := NormalizeTicker(ticker)
	if err != nil {
		return HistoryResult{}, err
	}
	if err := CheckRange(q.From, q.To); err != nil {
		return HistoryResult{}, err
	}
	period, err := CheckPeriod(q.Period)
	if err != nil {
		return HistoryResult{}, err
	}
	r, err := lookup(ctx, s, s.historySpec(t), t)
	if err != nil {
		return HistoryResult{}, err
	}
	v := r.d.Value
	return HistoryResult{
		Meta: r.meta(s.name), Ticker: t, Period: period, From: q.From, To: q.To,
		Bars: shape(between(v.Bars, q.From, q.To), period, t, v.Suspect),
	}, nil
}

func (s *Service) historySpec(ticker string) kindSpec[historyValue] {
	return kindSpec[historyValue]{
		kind:  kindEOD,
		fresh: s.historyFresh(ticker),
		fetch: func(ctx context.Context, cur *doc[historyValue]) (historyValue, bool, error) {
			now := s.now()
			q := sdk.HistoryQuery{Period: sdk.Daily}
			full := cur == nil || len(cur.Value.Bars) == 0 || now.Sub(cur.Value.Full) >= fullRefreshEvery
			if !full {
				q.From = addDays(lastDate(cur.Value.Bars), -overlapDays)
			}
			bars, err := s.src.History(ctx, noCreds, ticker, q)
			if err != nil || len(bars) == 0 {
				// An empty reply says nothing: it must not mark the
				// history fresh.
				return historyValue{}, false, err
			}
			v := historyValue{Bars: bars}
			if full {
				v.Full = now
			}
			return v, true, nil
		},
		merge: mergeHistory,
		cost:  func(v historyValue) int64 { return int64(len(v.Bars))*160 + 256 },
	}
}

// mergeHistory merges a reply into the stored history (see mergeBars) and
// flags suspect bars afresh: a new bar gives its predecessor a neighbour.
func mergeHistory(stored, got historyValue) historyValue {
	bars, _ := mergeBars(stored.Bars, got.Bars)
	full := stored.Full
	if got.Full.After(full) {
		full = got.Full
	}
	return historyValue{Newest: lastDate(bars), Full: full, Bars: bars, Suspect: suspectDates(bars)}
}

// historyFresh reports whether a stored history needs no refresh: it was
// refreshed after the latest session's EOD bar fell due, and either holds
// that bar or has waited long enough for it.
func (s *Service) historyFresh(ticker string) func(*doc[historyValue], time.Time) bool {
	ex := s.cal.ForTicker(ticker)
	return func(d *doc[historyValue], now time.Time) bool {
		return eodFresh(ex, d.Fetched, d.Value.Newest, now)
	}
}

func eodFresh(ex *Exchange, checked time.Time, newest string, now time.Time) bool {
	if checked.IsZero() {
		return false
	}
	session, due := ex.EODCutoff(now)
	switch {
	case checked.Before(due):
		return false
	case newest >= session:
		return true
	}
	return now.Sub(checked) < missingBarRetry || checked.Sub(due) >= missingBarPatience
}

func addDays(date string, n int) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ""
	}
	return d.AddDate(0, 0, n).Format(time.DateOnly)
}
