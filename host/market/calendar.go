package market

import (
	"fmt"
	"strings"
	"time"

	// The zone database is embedded so the trading hours hold on hosts
	// without one (scratch and distroless images).
	_ "time/tzdata"
)

// Exchange is when one exchange trades and when its data appears upstream.
// Sessions run on weekdays from Open to Close, local wall-clock time;
// public holidays are not modelled (see freshness in history.go).
type Exchange struct {
	// Code is the exchange part of a ticker: AU, US, LSE, FOREX, INDX.
	Code string
	Loc  *time.Location
	// Open and Close are minutes after local midnight; Close may be 24h.
	Open, Close int
	// EODDelay is how long after the close the day's EOD bar appears
	// upstream: about 15 minutes for US markets, 2–3 hours for others.
	EODDelay time.Duration
	// QuoteDelay is how far real-time quotes lag: the last quote of a
	// session is final this long after the close.
	QuoteDelay time.Duration
}

// exchangeRow is one line of the trading-hours table.
type exchangeRow struct {
	codes       []string
	zone        string
	open, close string // HH:MM local
	eodDelay    time.Duration
}

// exchangeTable lists the exchanges whose hours Vire knows. FOREX and INDX
// are modelled as trading around the clock Monday to Friday (UTC), and so
// is any exchange not listed: quotes then count as live all weekday and EOD
// data as due a few hours after UTC midnight.
var exchangeTable = []exchangeRow{
	{codes: []string{"AU"}, zone: "Australia/Sydney", open: "10:00", close: "16:00", eodDelay: 3 * time.Hour},
	{codes: []string{"US"}, zone: "America/New_York", open: "09:30", close: "16:00", eodDelay: 30 * time.Minute},
	{codes: []string{"LSE"}, zone: "Europe/London", open: "08:00", close: "16:30", eodDelay: 3 * time.Hour},
	{codes: []string{"FOREX", "INDX", ""}, zone: "UTC", open: "00:00", close: "24:00", eodDelay: 3 * time.Hour},
}

const quoteDelay = 20 * time.Minute

// Calendar finds an exchange's hours by ticker or code.
type Calendar struct {
	byCode   map[string]*Exchange
	fallback *Exchange
}

// NewCalendar loads the time zones of the exchange table.
func NewCalendar() (*Calendar, error) {
	c := &Calendar{byCode: map[string]*Exchange{}}
	for _, row := range exchangeTable {
		loc, err := time.LoadLocation(row.zone)
		if err != nil {
			return nil, fmt.Errorf("market: time zone %s: %w", row.zone, err)
		}
		open, err1 := parseClock(row.open)
		closing, err2 := parseClock(row.close)
		if err1 != nil || err2 != nil || open >= closing {
			return nil, fmt.Errorf("market: bad hours %s–%s for %v", row.open, row.close, row.codes)
		}
		for _, code := range row.codes {
			ex := &Exchange{Code: code, Loc: loc, Open: open, Close: closing, EODDelay: row.eodDelay, QuoteDelay: quoteDelay}
			if code == "" {
				c.fallback = ex
				continue
			}
			c.byCode[code] = ex
		}
	}
	return c, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time of day %q", s)
	}
	return h*60 + m, nil
}

// Exchange returns the hours of an exchange code (case-insensitive), or the
// around-the-clock fallback for codes not in the table.
func (c *Calendar) Exchange(code string) *Exchange {
	if ex, ok := c.byCode[strings.ToUpper(code)]; ok {
		return ex
	}
	fb := *c.fallback
	fb.Code = strings.ToUpper(code)
	return &fb
}

// ForTicker returns the hours of a ticker's exchange.
func (c *Calendar) ForTicker(ticker string) *Exchange {
	_, ex, _ := strings.Cut(ticker, ".")
	return c.Exchange(ex)
}

func isWeekday(t time.Time) bool {
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// at returns the instant of minutes after midnight on the local date of
// day. time.Date normalises wall-clock time, so daylight-saving days and a
// 24:00 close come out right.
func (e *Exchange) at(day time.Time, minutes int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, minutes, 0, 0, e.Loc)
}

// IsOpen reports whether a session is in progress at t.
func (e *Exchange) IsOpen(t time.Time) bool {
	local := t.In(e.Loc)
	if !isWeekday(local) {
		return false
	}
	return !t.Before(e.at(local, e.Open)) && t.Before(e.at(local, e.Close))
}

// LastClose returns the latest session that closed at or before t: its
// local date (YYYY-MM-DD) and its closing instant.
func (e *Exchange) LastClose(t time.Time) (session string, closed time.Time) {
	return e.lastAfter(t, 0)
}

// EODCutoff returns the latest session whose EOD bar is due upstream at or
// before t, and the instant it became due.
func (e *Exchange) EODCutoff(t time.Time) (session string, due time.Time) {
	return e.lastAfter(t, e.EODDelay)
}

func (e *Exchange) lastAfter(t time.Time, delay time.Duration) (string, time.Time) {
	day := t.In(e.Loc)
	for { // ends within a few days: weekdays recur and delays are hours
		if isWeekday(day) {
			at := e.at(day, e.Close).Add(delay)
			if !at.After(t) {
				return day.Format(time.DateOnly), at
			}
		}
		y, m, d := day.Date()
		day = time.Date(y, m, d-1, 12, 0, 0, 0, e.Loc)
	}
}

// previousSession returns the weekday before the session date.
func previousSession(session string) string {
	d, err := time.Parse(time.DateOnly, session)
	if err != nil {
		return ""
	}
	for {
		d = d.AddDate(0, 0, -1)
		if isWeekday(d) {
			return d.Format(time.DateOnly)
		}
	}
}
