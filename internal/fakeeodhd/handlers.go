package fakeeodhd

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// obj is a JSON object that keeps its field order, as EODHD's replies do.
type obj []field

type field struct {
	k string
	v any
}

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w, `{"error":%q}`, err.Error())
		return
	}
	w.Write(b)
}

// writeCSV renders what a client that forgot fmt=json receives.
func writeCSV(w io.Writer, v any) {
	var rows []obj
	switch x := v.(type) {
	case obj:
		rows = []obj{x}
	case []obj:
		rows = x
	}
	cw := csv.NewWriter(w)
	if len(rows) > 0 {
		var head []string
		for _, f := range rows[0] {
			head = append(head, strings.ToUpper(f.k[:1])+f.k[1:])
		}
		cw.Write(head)
	}
	for _, r := range rows {
		var rec []string
		for _, f := range r {
			rec = append(rec, fmt.Sprint(f.v))
		}
		cw.Write(rec)
	}
	cw.Flush()
}

type handler func(arg string, q url.Values) (reply any, status int)

func (s *Server) handlers() map[string]handler {
	return map[string]handler{
		EOD: s.eod, RealTime: s.realTime, Bulk: s.bulk, Fundamentals: s.fundamentals,
		Dividends: s.dividends, Splits: s.splits, Search: s.search, Symbols: s.symbols, User: s.user,
	}
}

const tickerNotFound = "Ticker Not Found."

func (s *Server) lookup(ticker string) (*Security, bool) {
	sec, ok := s.securities[strings.ToUpper(ticker)]
	return sec, ok
}

func validDate(d string) bool {
	_, err := time.Parse(time.DateOnly, d)
	return err == nil
}

func (s *Server) eod(arg string, q url.Values) (any, int) {
	sec, ok := s.lookup(arg)
	if !ok {
		return tickerNotFound, http.StatusNotFound
	}
	from, to := q.Get("from"), q.Get("to")
	if (from != "" && !validDate(from)) || (to != "" && !validDate(to)) {
		return "Invalid date format", http.StatusUnprocessableEntity
	}
	bars := sec.Bars(from, to, s.today)
	switch q.Get("period") {
	case "", "d":
	case "w":
		bars = aggregate(bars, func(t time.Time) string {
			y, w := t.ISOWeek()
			return fmt.Sprint(y, w)
		})
	case "m":
		bars = aggregate(bars, func(t time.Time) string { return t.Format("2006-01") })
	default:
		return "Invalid period", http.StatusUnprocessableEntity
	}
	out := make([]obj, 0, len(bars))
	for _, b := range bars {
		out = append(out, obj{{"date", b.Date}, {"open", b.Open}, {"high", b.High}, {"low", b.Low},
			{"close", b.Close}, {"adjusted_close", b.AdjustedClose}, {"volume", int64(b.Volume)}})
	}
	if q.Get("order") == "d" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, http.StatusOK
}

// aggregate folds daily bars into periods, each dated by its first day.
func aggregate(bars []Bar, key func(time.Time) string) []Bar {
	var out []Bar
	last := ""
	for _, b := range bars {
		t, _ := time.Parse(time.DateOnly, b.Date)
		k := key(t)
		if k != last || len(out) == 0 {
			out = append(out, b)
			last = k
			continue
		}
		p := &out[len(out)-1]
		p.High = max(p.High, b.High)
		p.Low = min(p.Low, b.Low)
		p.Close, p.AdjustedClose = b.Close, b.AdjustedClose
		p.Volume += b.Volume
	}
	return out
}

// realTime answers /real-time/T?s=T2,T3: an object for one ticker, an
// array for several. AU codes keep their suffix, US codes lose it.
func (s *Server) realTime(arg string, q url.Values) (any, int) {
	tickers := []string{arg}
	if extra := q.Get("s"); extra != "" {
		tickers = append(tickers, strings.Split(extra, ",")...)
	}
	var out []obj
	for _, t := range tickers {
		sec, ok := s.lookup(t)
		if !ok {
			out = append(out, obj{{"code", t}, {"timestamp", "NA"}, {"gmtoffset", 0}, {"open", "NA"}, {"high", "NA"},
				{"low", "NA"}, {"close", "NA"}, {"volume", "NA"}, {"previousClose", "NA"}, {"change", "NA"}, {"change_p", "NA"}})
			continue
		}
		prev, last, _ := sec.lastBars(s.today)
		code := sec.Ticker()
		closeHour := 6
		if sec.Exchange == "US" {
			code, closeHour = sec.Code, 21
		}
		day, _ := time.Parse(time.DateOnly, last.Date)
		ts := day.Add(time.Duration(closeHour) * time.Hour).Unix()
		change := last.Close - prev.Close
		out = append(out, obj{{"code", code}, {"timestamp", ts}, {"gmtoffset", 0}, {"open", last.Open}, {"high", last.High},
			{"low", last.Low}, {"close", last.Close}, {"volume", int64(last.Volume)}, {"previousClose", prev.Close},
			{"change", round(change, 4)}, {"change_p", round(change/prev.Close*100, 4)}})
	}
	if len(out) == 1 {
		return out[0], http.StatusOK
	}
	return out, http.StatusOK
}

// junk lists the odd values the AU bulk reply carries for some tickers.
var junk = map[string]map[string]any{
	"CBA": {"open": "N/A", "volume": ""},
	"CSL": {"high": nil},
	"VAS": {"low": "NaN"},
}

// bulk answers /eod-bulk-last-day/EX. AU rows send numbers as strings and
// name the exchange exchange_short_name; US rows send numbers and use
// exchange_short.
func (s *Server) bulk(arg string, q url.Values) (any, int) {
	ex := strings.ToUpper(arg)
	date := q.Get("date")
	if date == "" {
		last, ok := s.lastTradingDay(ex)
		if !ok {
			return []obj{}, http.StatusOK
		}
		date = last
	} else if !validDate(date) {
		return "Invalid date format", http.StatusUnprocessableEntity
	}
	want := map[string]bool{}
	if sym := q.Get("symbols"); sym != "" {
		for _, x := range strings.Split(sym, ",") {
			code, _, _ := strings.Cut(strings.ToUpper(x), ".")
			want[code] = true
		}
	}
	t, _ := time.Parse(time.DateOnly, date)
	out := []obj{}
	for _, sec := range sortedSecurities(s.securities) {
		if sec.Exchange != ex || (len(want) > 0 && !want[sec.Code]) {
			continue
		}
		b, ok := sec.barOn(t)
		if !ok {
			continue
		}
		prev, _, _ := sec.lastBars(t.AddDate(0, 0, -1).Format(time.DateOnly))
		vals := obj{{"open", b.Open}, {"high", b.High}, {"low", b.Low}, {"close", b.Close},
			{"adjusted_close", b.AdjustedClose}, {"volume", int64(b.Volume)}}
		exField := "exchange_short"
		if ex == "AU" {
			exField = "exchange_short_name"
			for i := range vals {
				vals[i].v = fmt.Sprint(vals[i].v)
				if j, ok := junk[sec.Code][vals[i].k]; ok {
					vals[i].v = j
				}
			}
		}
		row := obj{{"code", sec.Code}, {exField, ex}, {"date", b.Date}}
		row = append(row, vals...)
		if q.Get("filter") == "extended" {
			row = append(row, field{"name", sec.Name}, field{"prev_close", prev.Close},
				field{"change", round(b.Close-prev.Close, 4)}, field{"MarketCapitalization", int64(sec.shares * b.AdjustedClose)})
		}
		out = append(out, row)
	}
	return out, http.StatusOK
}

// lastTradingDay is the exchange's last day with bars.
func (s *Server) lastTradingDay(ex string) (string, bool) {
	for _, sec := range sortedSecurities(s.securities) {
		if sec.Exchange == ex {
			_, last, ok := sec.lastBars(s.today)
			return last.Date, ok
		}
	}
	return "", false
}

func (s *Server) dividends(arg string, q url.Values) (any, int) {
	sec, ok := s.lookup(arg)
	if !ok {
		return tickerNotFound, http.StatusNotFound
	}
	from, to := q.Get("from"), q.Get("to")
	out := []obj{}
	for i, d := range sec.Dividends(s.today) {
		if (from != "" && d.Date < from) || (to != "" && d.Date > to) {
			continue
		}
		var decl any = d.Declaration
		if i == 0 {
			decl = nil // EODHD lacks declaration dates for older dividends
		}
		out = append(out, obj{{"date", d.Date}, {"declarationDate", decl}, {"recordDate", d.Record},
			{"paymentDate", d.Payment}, {"period", d.Period}, {"value", d.Value}, {"unadjustedValue", d.Unadjusted},
			{"currency", sec.Currency}})
	}
	return out, http.StatusOK
}

func (s *Server) splits(arg string, q url.Values) (any, int) {
	sec, ok := s.lookup(arg)
	if !ok {
		return tickerNotFound, http.StatusNotFound
	}
	from, to := q.Get("from"), q.Get("to")
	out := []obj{}
	for _, sp := range sec.Splits {
		if (from != "" && sp.Date < from) || (to != "" && sp.Date > to) || sp.Date > s.today {
			continue
		}
		out = append(out, obj{{"date", sp.Date}, {"split", fmt.Sprintf("%.6f/%.6f", sp.New, sp.Old)}})
	}
	return out, http.StatusOK
}

func (s *Server) fundamentals(arg string, _ url.Values) (any, int) {
	sec, ok := s.lookup(arg)
	if !ok {
		return tickerNotFound, http.StatusNotFound
	}
	_, last, _ := sec.lastBars(s.today)
	hi, lo := sec.range52(s.today)
	price := last.AdjustedClose
	general := obj{{"Code", sec.Code}, {"Type", sec.Type}, {"Name", sec.Name}, {"Exchange", sec.Exchange},
		{"CurrencyCode", sec.Currency}, {"CountryName", sec.Country}, {"ISIN", sec.ISIN},
		{"Sector", sec.Sector}, {"Industry", sec.Industry}, {"UpdatedAt", s.today}}
	technicals := obj{{"Beta", sec.beta}, {"52WeekHigh", hi}, {"52WeekLow", lo}, {"50DayMA", round(price, 3)}}
	shares := obj{{"SharesOutstanding", int64(sec.shares)}, {"PercentInsiders", "N/A"}}
	splits := obj{{"LastSplitFactor", ""}, {"LastSplitDate", "0000-00-00"}}
	if n := len(sec.Splits); n > 0 {
		sp := sec.Splits[n-1]
		splits = obj{{"LastSplitFactor", fmt.Sprintf("%g:%g", sp.New, sp.Old)}, {"LastSplitDate", sp.Date}}
	}
	if sec.Type == "ETF" {
		technicals[0].v = "NaN"
		return obj{{"General", general}, {"Technicals", technicals},
			{"ETF_Data", obj{{"ISIN", sec.ISIN}, {"Yield", fmt.Sprint(round(sec.yield*100, 2))}, {"Holdings_Count", 300}}}}, http.StatusOK
	}
	var pe any = round(price/sec.eps, 2)
	var dy any = round(sec.yield, 4)
	switch sec.Code {
	case "BHP":
		pe = "N/A"
	case "CBA":
		pe, dy = fmt.Sprint(pe), fmt.Sprint(dy)
	}
	highlights := obj{{"MarketCapitalization", int64(sec.shares * price)}, {"PERatio", pe},
		{"DividendYield", dy}, {"EarningsShare", sec.eps}, {"WallStreetTargetPrice", nil}}
	return obj{{"General", general}, {"Highlights", highlights},
		{"Valuation", obj{{"TrailingPE", pe}, {"PriceBookMRQ", 2.1}}}, {"SharesStats", shares},
		{"Technicals", technicals}, {"SplitsDividends", splits},
		{"AnalystRatings", obj{{"Rating", 3.8}, {"TargetPrice", round(price*1.1, 2)}}},
		{"Financials", obj{{"Balance_Sheet", obj{{"currency_symbol", sec.Currency}}}}}}, http.StatusOK
}

// search matches codes by prefix and names by substring, codes first.
func (s *Server) search(arg string, q url.Values) (any, int) {
	needle := strings.ToLower(strings.TrimSpace(arg))
	limit := 15
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, 500)
	}
	var byCode, byName []obj
	for _, sec := range sortedSecurities(s.securities) {
		prev, _, _ := sec.lastBars(s.today)
		var pc any = prev.Close
		if sec.Exchange == "AU" {
			pc = fmt.Sprint(prev.Close)
		}
		row := obj{{"Code", sec.Code}, {"Exchange", sec.Exchange}, {"Name", sec.Name}, {"Type", sec.Type},
			{"Country", sec.Country}, {"Currency", sec.Currency}, {"ISIN", nilIfEmpty(sec.ISIN)},
			{"previousClose", pc}, {"previousCloseDate", prev.Date}, {"isPrimary", true}}
		switch {
		case strings.HasPrefix(strings.ToLower(sec.Code), needle), strings.EqualFold(sec.ISIN, needle):
			byCode = append(byCode, row)
		case strings.Contains(strings.ToLower(sec.Name), needle):
			byName = append(byName, row)
		}
	}
	out := append(byCode, byName...)
	if len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []obj{}
	}
	return out, http.StatusOK
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) symbols(arg string, _ url.Values) (any, int) {
	ex := strings.ToUpper(arg)
	out := []obj{}
	for _, sec := range sortedSecurities(s.securities) {
		if sec.Exchange != ex {
			continue
		}
		out = append(out, obj{{"Code", sec.Code}, {"Name", sec.Name}, {"Country", sec.Country}, {"Exchange", sec.Venue},
			{"Currency", sec.Currency}, {"Type", sec.Type}, {"Isin", nilIfEmpty(sec.ISIN)}})
	}
	if len(out) == 0 {
		return "Exchange Not Found.", http.StatusNotFound
	}
	return out, http.StatusOK
}

func (s *Server) user(string, url.Values) (any, int) {
	s.mu.Lock()
	used := s.used
	s.mu.Unlock()
	return obj{{"name", "Fake Account"}, {"email", "account@example.invalid"}, {"subscriptionType", "commercial"},
		{"paymentMethod", "Not Available"}, {"apiRequests", used}, {"dailyRateLimit", s.opts.DailyLimit},
		{"apiRequestsDate", s.today}, {"extraLimit", 0}, {"subscriptionMode", "paid"}}, http.StatusOK
}
