package api

import (
	"net/http"
	"strconv"

	"github.com/vire-dev/vire/host/market"
)

// marketOperations documents registerMarketRoutes's routes.
func marketOperations() []operation {
	const base = "/api/market"
	errs := func(ok string) map[int]string {
		return withErrors(map[int]string{200: ok}, 400, 404, 502, 503, 504)
	}
	date := func(name, desc string) queryParam {
		return queryParam{Name: name, Description: desc, Schema: schema{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2}$`}}
	}
	upstream := " Upstream trouble is never the client's: a quota or rate limit answers 503 with Retry-After, " +
		"a source that refuses the server's own credentials 502 (the operator must fix them). " +
		"When the source fails but older data is stored, that data is served with stale: true."
	return []operation{
		{Method: http.MethodGet, Path: base + "/quote/{ticker}", ID: "getQuote", Tag: "market",
			Summary:     "A ticker's latest (delayed) quote",
			Description: "Refreshed at most once a minute while the exchange trades; after the close, the session's final quote until the next session." + upstream,
			Responses:   errs("MarketQuote")},
		{Method: http.MethodGet, Path: base + "/history/{ticker}", ID: "getHistory", Tag: "market",
			Summary: "A ticker's end-of-day bars, ascending by date",
			Description: "Daily bars are kept per ticker and merged by date; weekly and monthly bars are built from them, one per ISO week or calendar month, dated by their first trading day. " +
				"A bar whose close jumps more than 40% away from both neighbours and back is marked suspect. Refreshed once per session, after the exchange's EOD data is out." + upstream,
			Query: []queryParam{
				date("from", "First date, YYYY-MM-DD; open when left out"),
				date("to", "Last date, YYYY-MM-DD, not before from; open when left out"),
				{Name: "period", Description: "d (daily, the default), w (weekly) or m (monthly)", Schema: schema{"type": "string", "enum": []string{"d", "w", "m"}}},
			},
			Responses: errs("MarketHistory")},
		{Method: http.MethodGet, Path: base + "/fundamentals/{ticker}", ID: "getFundamentals", Tag: "market",
			Summary: "A ticker's fundamentals", Description: "Refreshed every 7 days." + upstream,
			Responses: errs("MarketFundamentals")},
		{Method: http.MethodGet, Path: base + "/dividends/{ticker}", ID: "getDividends", Tag: "market",
			Summary: "A ticker's dividends by ex-date, ascending", Description: "Refreshed once per session." + upstream,
			Query: []queryParam{
				date("from", "First ex-date, YYYY-MM-DD; open when left out"),
				date("to", "Last ex-date, YYYY-MM-DD; open when left out"),
			},
			Responses: errs("MarketDividends")},
		{Method: http.MethodGet, Path: base + "/search", ID: "searchSecurities", Tag: "market",
			Summary: "Find securities by code, name or ISIN", Description: "Results are kept for a day." + upstream,
			Query: []queryParam{
				{Name: "q", Required: true, Description: "Free text, up to 100 bytes", Schema: schema{"type": "string", "minLength": 1, "maxLength": 100}},
				{Name: "limit", Description: "At most this many results (default " + strconv.Itoa(market.DefaultSearchLimit) + ")",
					Schema: schema{"type": "integer", "minimum": 1, "maximum": market.MaxSearchLimit}},
			},
			Responses: errs("MarketSearch")},
	}
}

// withSchemas adds more named schemas to a set.
func withSchemas(s schema, more schema) schema {
	for k, v := range more {
		s[k] = v
	}
	return s
}

// marketSchemas are the market endpoints' response bodies.
func marketSchemas() schema {
	num := func(desc string) schema { return typed("number", desc) }
	price := func(desc string) schema {
		return schema{"type": "number", "exclusiveMinimum": 0, "description": desc + "; absent when the source has none (never zero)"}
	}
	date := func(desc string) schema {
		return schema{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2}$`, "description": desc}
	}
	meta := func(props schema, required ...string) schema {
		props["source"] = typed("string", "The plugin serving market data, e.g. eodhd or sample")
		props["fetched"] = dateTime("When the source last answered with this data; 0001-01-01T00:00:00Z when it never has")
		props["stale"] = typed("boolean", "The data could not be refreshed (the source failed or answered nothing new); it is the latest Vire has")
		return object(append([]string{"source", "fetched"}, required...), props)
	}
	quote := object([]string{"ticker", "time"}, schema{
		"ticker": typed("string", tickerDesc), "time": dateTime("When the quote was made upstream"),
		"open": price("Session open"), "high": price("Session high"), "low": price("Session low"),
		"last": price("Last trade"), "previous_close": price("Previous session's close"),
		"change": num("Last minus previous close"), "change_percent": num("Change in percent"),
		"volume": schema{"type": "number", "minimum": 0},
	})
	bar := object([]string{"date"}, schema{
		"ticker": typed("string", tickerDesc), "date": date("The bar's (first) trading day"),
		"open": price("Open"), "high": price("High"), "low": price("Low"), "close": price("Close, as traded"),
		"adjusted_close": price("Close adjusted for later splits and dividends"),
		"volume":         schema{"type": "number", "minimum": 0, "description": "Shares traded; 0 is a real zero"},
		"suspect":        typed("boolean", "The close jumps more than 40% away from both neighbours and back; for w and m, the period holds such a day"),
	})
	dividend := object([]string{"date"}, schema{
		"date": date("Ex-date"), "declaration_date": date(""), "record_date": date(""), "payment_date": date(""),
		"period": typed("string", "e.g. Interim, Final, Quarterly"), "value": price("Per share, split-adjusted"),
		"unadjusted_value": price("Per share, as paid"), "currency": typed("string", "ISO 4217"),
	})
	result := object([]string{"ticker", "code", "exchange", "name"}, schema{
		"ticker": typed("string", tickerDesc), "code": typed("string", ""), "exchange": typed("string", "Exchange code, e.g. AU"),
		"name": typed("string", ""), "type": typed("string", "e.g. Common Stock, ETF"), "country": typed("string", ""),
		"currency": typed("string", ""), "isin": typed("string", ""), "previous_close": price("Last close"),
	})
	fundamentals := object([]string{"ticker"}, schema{
		"ticker": typed("string", tickerDesc), "name": typed("string", ""), "type": typed("string", ""),
		"sector": typed("string", ""), "industry": typed("string", ""), "currency": typed("string", ""),
		"country": typed("string", ""), "isin": typed("string", ""),
		"market_cap": num(""), "pe_ratio": num(""), "dividend_yield": num("A fraction: 0.04 is 4%"), "eps": num("Earnings per share"),
		"beta": num(""), "high_52_week": num(""), "low_52_week": num(""),
		"sections": schema{"type": "object", "additionalProperties": schema{"type": "object"},
			"description": "The source's own sections (General, Highlights, Valuation, Technicals, ETF_Data, …) as it sends them"},
	})
	return schema{
		"MarketQuote": meta(schema{"quote": ref("Quote")}, "quote"),
		"Quote":       quote,
		"MarketHistory": meta(schema{
			"ticker": typed("string", tickerDesc), "period": schema{"type": "string", "enum": []string{"d", "w", "m"}},
			"from": date("As asked"), "to": date("As asked"),
			"bars": arrayOf(ref("Bar"), "Ascending by date, one per date, within from..to"),
		}, "ticker", "period", "bars"),
		"Bar":                bar,
		"MarketFundamentals": meta(schema{"fundamentals": ref("Fundamentals")}, "fundamentals"),
		"Fundamentals":       fundamentals,
		"MarketDividends": meta(schema{
			"ticker": typed("string", tickerDesc), "from": date("As asked"), "to": date("As asked"),
			"dividends": arrayOf(ref("Dividend"), "Ascending by ex-date"),
		}, "ticker", "dividends"),
		"Dividend": dividend,
		"MarketSearch": meta(schema{
			"query":   typed("string", "The query as searched: trimmed, lower case"),
			"results": arrayOf(ref("SearchResult"), "Best first"),
		}, "query", "results"),
		"SearchResult": result,
	}
}
