package eodhd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// The decoders below turn reply bodies into sdk types. They never panic and
// fail only when the reply's overall shape is wrong (an object where a list
// belongs, or no JSON at all); odd field values become missing.

func shapeError(what string, err error) error {
	return fmt.Errorf("%w: EODHD sent an unreadable %s reply: %v", sdk.ErrUnavailable, what, err)
}

type wireBar struct {
	Date          text   `json:"date"`
	Open          number `json:"open"`
	High          number `json:"high"`
	Low           number `json:"low"`
	Close         number `json:"close"`
	AdjustedClose number `json:"adjusted_close"`
	Volume        number `json:"volume"`
}

func (w wireBar) bar(ticker string) sdk.Bar {
	return sdk.Bar{
		Ticker: ticker, Date: string(w.Date),
		Open: w.Open.ptr(), High: w.High.ptr(), Low: w.Low.ptr(), Close: w.Close.ptr(),
		AdjustedClose: w.AdjustedClose.ptr(), Volume: w.Volume.ptr(),
	}
}

// decodeBars decodes /eod/{T}. Rows without a valid date cannot be placed
// in a history and are dropped.
func decodeBars(body []byte, ticker string) ([]sdk.Bar, error) {
	var rows []wireBar
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, shapeError("history", err)
	}
	out := make([]sdk.Bar, 0, len(rows))
	for _, r := range rows {
		if validDate(string(r.Date)) {
			out = append(out, r.bar(ticker))
		}
	}
	return out, nil
}

type wireBulkRow struct {
	wireBar
	Code              text `json:"code"`
	ExchangeShortName text `json:"exchange_short_name"`
	ExchangeShort     text `json:"exchange_short"`
}

// decodeBulk decodes /eod-bulk-last-day/{EX}. The exchange of each row is
// exchange_short_name or exchange_short (both spellings are in use), else
// the exchange asked for.
func decodeBulk(body []byte, exchange string) ([]sdk.Bar, error) {
	var rows []wireBulkRow
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, shapeError("bulk", err)
	}
	out := make([]sdk.Bar, 0, len(rows))
	for _, r := range rows {
		code := string(r.Code)
		if code == "" || !validDate(string(r.Date)) {
			continue
		}
		ticker := code
		if !strings.Contains(code, ".") {
			ex := string(r.ExchangeShortName)
			if ex == "" {
				ex = string(r.ExchangeShort)
			}
			if ex == "" {
				ex = exchange
			}
			ticker = code + "." + ex
		}
		out = append(out, r.bar(ticker))
	}
	return out, nil
}

type wireQuote struct {
	Code          text   `json:"code"`
	Timestamp     number `json:"timestamp"`
	Open          number `json:"open"`
	High          number `json:"high"`
	Low           number `json:"low"`
	Close         number `json:"close"`
	Volume        number `json:"volume"`
	PreviousClose number `json:"previousClose"`
	Change        number `json:"change"`
	ChangeP       number `json:"change_p"`
}

// decodeQuotes decodes /real-time/{T}: one ticker answers an object,
// several an array. Quotes come back keyed by the requested ticker: code
// may be "BHP.AU" or plain "BHP". Entries for tickers EODHD does not know
// (all values "NA") are left out.
func decodeQuotes(body []byte, requested []string) ([]sdk.Quote, error) {
	var rows []wireQuote
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var one wireQuote
		if err := json.Unmarshal(trimmed, &one); err != nil {
			return nil, shapeError("real-time", err)
		}
		rows = []wireQuote{one}
	} else if err := json.Unmarshal(trimmed, &rows); err != nil {
		return nil, shapeError("real-time", err)
	}
	assigned := make([]bool, len(requested))
	out := make([]sdk.Quote, 0, len(rows))
	for i, r := range rows {
		idx := matchTicker(string(r.Code), i, requested, assigned)
		if idx < 0 {
			continue
		}
		assigned[idx] = true
		if !r.Timestamp.ok && !r.Close.ok {
			continue
		}
		q := sdk.Quote{
			Ticker: requested[idx],
			Open:   r.Open.ptr(), High: r.High.ptr(), Low: r.Low.ptr(), Last: r.Close.ptr(),
			PreviousClose: r.PreviousClose.ptr(), Change: r.Change.ptr(), ChangePercent: r.ChangeP.ptr(),
			Volume: r.Volume.ptr(),
		}
		if r.Timestamp.ok && r.Timestamp.v > 0 && r.Timestamp.v < 1e11 {
			q.Time = time.Unix(int64(r.Timestamp.v), 0).UTC()
		}
		out = append(out, q)
	}
	return out, nil
}

// matchTicker finds which requested ticker the i-th reply row answers. An
// exact (case-insensitive) match wins; a bare code matches the requested
// tickers with that code, and when several do (BHP.AU and BHP.US in one
// batch) the reply's position decides, since EODHD answers in request order.
func matchTicker(code string, i int, requested []string, assigned []bool) int {
	if code == "" {
		if i < len(requested) && !assigned[i] {
			return i
		}
		return -1
	}
	for j, t := range requested {
		if !assigned[j] && strings.EqualFold(t, code) {
			return j
		}
	}
	if strings.Contains(code, ".") {
		return -1
	}
	var candidates []int
	for j, t := range requested {
		c, _, _ := strings.Cut(t, ".")
		if !assigned[j] && strings.EqualFold(c, code) {
			candidates = append(candidates, j)
		}
	}
	switch len(candidates) {
	case 0:
		return -1
	case 1:
		return candidates[0]
	}
	for _, j := range candidates {
		if j == i {
			return j
		}
	}
	return candidates[0]
}

type wireDividend struct {
	Date            text   `json:"date"`
	DeclarationDate text   `json:"declarationDate"`
	RecordDate      text   `json:"recordDate"`
	PaymentDate     text   `json:"paymentDate"`
	Period          text   `json:"period"`
	Value           number `json:"value"`
	UnadjustedValue number `json:"unadjustedValue"`
	Currency        text   `json:"currency"`
}

// decodeDividends decodes /div/{T}. Optional dates that are not dates
// ("0000-00-00", "N/A") are dropped; rows without an ex-date are skipped.
func decodeDividends(body []byte) ([]sdk.Dividend, error) {
	var rows []wireDividend
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, shapeError("dividends", err)
	}
	out := make([]sdk.Dividend, 0, len(rows))
	for _, r := range rows {
		if !validDate(string(r.Date)) {
			continue
		}
		out = append(out, sdk.Dividend{
			Date:            string(r.Date),
			DeclarationDate: dateOrEmpty(r.DeclarationDate),
			RecordDate:      dateOrEmpty(r.RecordDate),
			PaymentDate:     dateOrEmpty(r.PaymentDate),
			Period:          string(r.Period),
			Value:           r.Value.ptr(),
			UnadjustedValue: r.UnadjustedValue.ptr(),
			Currency:        string(r.Currency),
		})
	}
	return out, nil
}

type wireSplit struct {
	Date  text `json:"date"`
	Split text `json:"split"`
}

// decodeSplits decodes /splits/{T}: "2.000000/1.000000" is two new shares
// for one old. Rows whose ratio cannot be read are skipped, never guessed.
func decodeSplits(body []byte) ([]sdk.Split, error) {
	var rows []wireSplit
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, shapeError("splits", err)
	}
	out := make([]sdk.Split, 0, len(rows))
	for _, r := range rows {
		newShares, oldShares, ok := parseRatio(string(r.Split))
		if !ok || !validDate(string(r.Date)) {
			continue
		}
		out = append(out, sdk.Split{Date: string(r.Date), New: newShares, Old: oldShares})
	}
	return out, nil
}

func parseRatio(s string) (float64, float64, bool) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		a, b, ok = strings.Cut(s, ":")
	}
	if !ok {
		return 0, 0, false
	}
	n, ok1 := parseNumberString(a)
	o, ok2 := parseNumberString(b)
	if !ok1 || !ok2 || n <= 0 || o <= 0 {
		return 0, 0, false
	}
	return n, o, true
}

type wireSearch struct {
	Code          text   `json:"Code"`
	Exchange      text   `json:"Exchange"`
	Name          text   `json:"Name"`
	Type          text   `json:"Type"`
	Country       text   `json:"Country"`
	Currency      text   `json:"Currency"`
	ISIN          text   `json:"ISIN"`
	PreviousClose number `json:"previousClose"`
}

// decodeSearch decodes /search/{q}.
func decodeSearch(body []byte) ([]sdk.SearchResult, error) {
	var rows []wireSearch
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, shapeError("search", err)
	}
	out := make([]sdk.SearchResult, 0, len(rows))
	for _, r := range rows {
		if r.Code == "" || r.Exchange == "" {
			continue
		}
		out = append(out, sdk.SearchResult{
			Ticker: string(r.Code) + "." + string(r.Exchange), Code: string(r.Code), Exchange: string(r.Exchange),
			Name: string(r.Name), Type: string(r.Type), Country: string(r.Country), Currency: string(r.Currency),
			ISIN: string(r.ISIN), PreviousClose: r.PreviousClose.ptr(),
		})
	}
	return out, nil
}

type wireSymbol struct {
	Code     text `json:"Code"`
	Name     text `json:"Name"`
	Country  text `json:"Country"`
	Exchange text `json:"Exchange"`
	Currency text `json:"Currency"`
	Type     text `json:"Type"`
	Isin     text `json:"Isin"`
	ISIN     text `json:"ISIN"`
}

// decodeSymbols decodes /exchange-symbol-list/{EX}. Symbol.Exchange is the
// EODHD exchange code asked for, so Code.Exchange is a usable ticker; the
// row's own Exchange names the venue (NASDAQ, NYSE ...) and is not one.
func decodeSymbols(body []byte, exchange string) ([]sdk.Symbol, error) {
	var rows []wireSymbol
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, shapeError("exchange symbol list", err)
	}
	out := make([]sdk.Symbol, 0, len(rows))
	for _, r := range rows {
		if r.Code == "" {
			continue
		}
		isin := r.Isin
		if isin == "" {
			isin = r.ISIN
		}
		out = append(out, sdk.Symbol{
			Code: string(r.Code), Name: string(r.Name), Country: string(r.Country), Exchange: exchange,
			Currency: string(r.Currency), Type: string(r.Type), ISIN: string(isin),
		})
	}
	return out, nil
}

type wireUser struct {
	APIRequests      integer `json:"apiRequests"`
	DailyRateLimit   integer `json:"dailyRateLimit"`
	ExtraLimit       integer `json:"extraLimit"`
	SubscriptionMode text    `json:"subscriptionMode"`
}

// decodeUsage decodes /internal-user. The reply also names the account's
// owner and e-mail address; only the call budget is kept.
func decodeUsage(body []byte) (sdk.Usage, error) {
	var u wireUser
	if err := json.Unmarshal(body, &u); err != nil {
		return sdk.Usage{}, shapeError("user", err)
	}
	return sdk.Usage{
		Requests: u.APIRequests.v, DailyLimit: u.DailyRateLimit.v, ExtraLimit: u.ExtraLimit.v,
		Plan: string(u.SubscriptionMode),
	}, nil
}

// decodeFundamentals decodes /fundamentals/{T}. Every object-valued
// section is kept in Sections; the typed fields come from General,
// Highlights and Technicals.
func decodeFundamentals(body []byte, ticker string) (sdk.Fundamentals, error) {
	trimmed := bytes.TrimSpace(body)
	// EODHD answers [] or {} for a ticker that has no fundamentals
	// (currencies, indices).
	if bytes.Equal(trimmed, []byte("[]")) || bytes.Equal(trimmed, []byte("{}")) {
		return sdk.Fundamentals{}, fmt.Errorf("%w: EODHD has no fundamentals for %s", sdk.ErrNotFound, ticker)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return sdk.Fundamentals{}, shapeError("fundamentals", err)
	}
	f := sdk.Fundamentals{Ticker: ticker, Sections: map[string]map[string]any{}}
	for name, raw := range top {
		var sec map[string]any
		if json.Unmarshal(raw, &sec) == nil && sec != nil {
			f.Sections[name] = sec
		}
	}
	var general struct {
		Name         text `json:"Name"`
		Type         text `json:"Type"`
		Sector       text `json:"Sector"`
		Industry     text `json:"Industry"`
		CurrencyCode text `json:"CurrencyCode"`
		Currency     text `json:"Currency"`
		CountryName  text `json:"CountryName"`
		ISIN         text `json:"ISIN"`
	}
	var highlights struct {
		MarketCapitalization number `json:"MarketCapitalization"`
		PERatio              number `json:"PERatio"`
		DividendYield        number `json:"DividendYield"`
		EarningsShare        number `json:"EarningsShare"`
	}
	var technicals struct {
		Beta       number `json:"Beta"`
		High52Week number `json:"52WeekHigh"`
		Low52Week  number `json:"52WeekLow"`
	}
	// A section that is not an object (EODHD sometimes sends null or [])
	// leaves its fields missing.
	_ = json.Unmarshal(top["General"], &general)
	_ = json.Unmarshal(top["Highlights"], &highlights)
	_ = json.Unmarshal(top["Technicals"], &technicals)
	f.Name, f.Type = string(general.Name), string(general.Type)
	f.Sector, f.Industry = string(general.Sector), string(general.Industry)
	f.Currency = string(general.CurrencyCode)
	if f.Currency == "" {
		f.Currency = string(general.Currency)
	}
	f.Country, f.ISIN = string(general.CountryName), string(general.ISIN)
	f.MarketCap = highlights.MarketCapitalization.ptr()
	f.PERatio = highlights.PERatio.ptr()
	f.DividendYield = highlights.DividendYield.ptr()
	f.EPS = highlights.EarningsShare.ptr()
	f.Beta = technicals.Beta.ptr()
	f.High52Week = technicals.High52Week.ptr()
	f.Low52Week = technicals.Low52Week.ptr()
	return f, nil
}

func validDate(s string) bool {
	if len(s) != len(time.DateOnly) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func dateOrEmpty(t text) string {
	if validDate(string(t)) {
		return string(t)
	}
	return ""
}
