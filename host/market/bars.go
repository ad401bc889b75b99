package market

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// Bar is one period of history as Vire serves it: the source's bar, and
// whether the bar looks wrong.
type Bar struct {
	sdk.Bar
	// Suspect marks a close that jumps away from both neighbours and
	// back (see suspectDates); for weekly and monthly bars, a period that
	// holds such a day.
	Suspect bool `json:"suspect,omitempty"`
}

// spikeFactor is the jump that makes a bar suspect: 40% up, or down to
// 1/1.4 of the level its neighbours agree on.
const spikeFactor = 1.4

// mergeBars returns stored with incoming merged in by date: a date in both
// takes the incoming bar (upstream corrections win), a date only in stored
// keeps its bar. A reply shorter than what is stored therefore never loses
// history. stored must be ascending with unique dates; incoming may come in
// any order, and of two incoming bars with one date the later wins. Bars
// without a real date are dropped. added counts dates stored did not hold.
func mergeBars(stored, incoming []sdk.Bar) (merged []sdk.Bar, added int) {
	in := make([]sdk.Bar, 0, len(incoming))
	for _, b := range incoming {
		if isDate(b.Date) {
			b.Ticker = "" // the document names its ticker once
			in = append(in, b)
		}
	}
	sort.SliceStable(in, func(i, j int) bool { return in[i].Date < in[j].Date })
	// Keep the last of each run of equal dates.
	uniq := in[:0]
	for i, b := range in {
		if i+1 < len(in) && in[i+1].Date == b.Date {
			continue
		}
		uniq = append(uniq, b)
	}
	merged = make([]sdk.Bar, 0, len(stored)+len(uniq))
	i, j := 0, 0
	for i < len(stored) || j < len(uniq) {
		switch {
		case j == len(uniq) || (i < len(stored) && stored[i].Date < uniq[j].Date):
			merged = append(merged, stored[i])
			i++
		case i == len(stored) || uniq[j].Date < stored[i].Date:
			merged = append(merged, uniq[j])
			added++
			j++
		default: // same date: the incoming bar replaces the stored one
			merged = append(merged, uniq[j])
			i++
			j++
		}
	}
	return merged, added
}

// suspectDates finds bars whose close jumps away from both neighbours and
// back: a close more than 40% (a factor of 1.4, either way) away from the
// level of its neighbours (their geometric mean), above both or below
// both, while the neighbours agree with each other far better (they differ
// by less than half that jump). A step that lasts, such as a split seen in
// unadjusted closes or a crash, is not a spike: the next bar stays near the
// new level. The first and last bars have one neighbour and are never
// suspect; a bad last bar is caught once the next day arrives. Bars
// without a close are skipped when finding neighbours.
func suspectDates(bars []sdk.Bar) []string {
	idx := make([]int, 0, len(bars))
	for i, b := range bars {
		if b.Close != nil && *b.Close > 0 && !math.IsInf(*b.Close, 0) {
			idx = append(idx, i)
		}
	}
	limit := math.Log(spikeFactor)
	var out []string
	for k := 1; k+1 < len(idx); k++ {
		p, c, n := *bars[idx[k-1]].Close, *bars[idx[k]].Close, *bars[idx[k+1]].Close
		if !(c > max(p, n) || c < min(p, n)) {
			continue
		}
		jump := math.Abs(math.Log(c) - (math.Log(p)+math.Log(n))/2)
		if jump > limit && math.Abs(math.Log(p/n)) < jump/2 {
			out = append(out, bars[idx[k]].Date)
		}
	}
	return out
}

// between returns the bars within from..to ("" is open); bars ascend.
func between(bars []sdk.Bar, from, to string) []sdk.Bar {
	lo := 0
	if from != "" {
		lo = sort.Search(len(bars), func(i int) bool { return bars[i].Date >= from })
	}
	hi := len(bars)
	if to != "" {
		hi = sort.Search(len(bars), func(i int) bool { return bars[i].Date > to })
	}
	if lo >= hi {
		return nil
	}
	return bars[lo:hi]
}

// periodKey numbers the ISO week (year·100+week) or the month
// (year·100+month) a date falls in.
func periodKey(p sdk.Period, date string) int {
	d, _ := time.Parse(time.DateOnly, date)
	if p == sdk.Weekly {
		y, w := d.ISOWeek()
		return y*100 + w
	}
	return d.Year()*100 + int(d.Month())
}

// shape builds the served bars from daily bars: daily ones as they are,
// or one bar per ISO week or calendar month, dated by its first trading
// day: the first open, the highest high, the lowest low, the last close
// and adjusted close, the summed volume. A value missing from every day of
// a period stays missing. suspect holds the dates of suspect daily bars.
func shape(daily []sdk.Bar, p sdk.Period, ticker string, suspect []string) []Bar {
	bad := make(map[string]bool, len(suspect))
	for _, d := range suspect {
		bad[d] = true
	}
	out := make([]Bar, 0, len(daily))
	if p == sdk.Daily {
		for _, b := range daily {
			b.Ticker = ticker
			out = append(out, Bar{Bar: b, Suspect: bad[b.Date]})
		}
		return out
	}
	last := -1
	for _, b := range daily {
		k := periodKey(p, b.Date)
		if k != last || len(out) == 0 {
			last = k
			nb := Bar{Bar: sdk.Bar{Ticker: ticker, Date: b.Date}, Suspect: bad[b.Date]}
			nb.Open, nb.High, nb.Low = clone(b.Open), clone(b.High), clone(b.Low)
			nb.Close, nb.AdjustedClose, nb.Volume = clone(b.Close), clone(b.AdjustedClose), clone(b.Volume)
			out = append(out, nb)
			continue
		}
		cur := &out[len(out)-1]
		if cur.Open == nil {
			cur.Open = clone(b.Open)
		}
		cur.High = pick(cur.High, b.High, math.Max)
		cur.Low = pick(cur.Low, b.Low, math.Min)
		if b.Close != nil {
			cur.Close = clone(b.Close)
		}
		if b.AdjustedClose != nil {
			cur.AdjustedClose = clone(b.AdjustedClose)
		}
		cur.Volume = pick(cur.Volume, b.Volume, func(a, b float64) float64 { return a + b })
		cur.Suspect = cur.Suspect || bad[b.Date]
	}
	return out
}

func clone(p *float64) *float64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// pick combines two optional values; a missing one leaves the other.
func pick(a, b *float64, f func(float64, float64) float64) *float64 {
	switch {
	case a == nil:
		return clone(b)
	case b == nil:
		return a
	}
	v := f(*a, *b)
	return &v
}

func isDate(s string) bool {
	t, err := time.Parse(time.DateOnly, s)
	return err == nil && t.Format(time.DateOnly) == s
}

// lastDate is the date of the newest bar, or "".
func lastDate(bars []sdk.Bar) string {
	if len(bars) == 0 {
		return ""
	}
	return bars[len(bars)-1].Date
}

// mergeDividends merges incoming dividends into stored by ex-date, the
// way mergeBars merges bars, and returns them in ascending date order.
func mergeDividends(stored, incoming []sdk.Dividend) []sdk.Dividend {
	byDate := make(map[string]sdk.Dividend, len(stored)+len(incoming))
	for _, d := range stored {
		byDate[d.Date] = d
	}
	for _, d := range incoming {
		if isDate(d.Date) {
			byDate[d.Date] = d
		}
	}
	out := make([]sdk.Dividend, 0, len(byDate))
	for _, d := range byDate {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b sdk.Dividend) int { return cmp.Compare(a.Date, b.Date) })
	return out
}
