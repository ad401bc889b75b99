package sample

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// PortfolioID is the sample portfolio's id.
const PortfolioID = "1001"

const portfolioName = "SMSF Sample"

// plannedTrade is one trade of the sample portfolio. Prices come from the
// generated closes, so they change with the seed; dates and quantities do
// not.
type plannedTrade struct {
	date   string // moved to the next trading day when it falls on a weekend
	kind   sdk.TradeType
	qty    float64 // signed: sells are negative
	amount float64 // cost base adjustments only: signed change of the cost base
}

type plannedHolding struct {
	id     string
	ticker string
	// trades are listed in the order the tracker returns them, which is
	// not date order.
	trades []plannedTrade
}

// plan is the sample portfolio: every trade type, sells with negative
// quantities, one closed position and trades out of date order. All
// holdings are Australian, so no currency conversion is involved.
func samplePlan() []plannedHolding {
	return []plannedHolding{
		{"2001", "BHP.AU", []plannedTrade{
			{"2022-06-01", sdk.TradeSell, -300, 0},
			{"2019-02-01", sdk.TradeOpeningBalance, 800, 0},
			{"2020-03-23", sdk.TradeBuy, 200, 0},
		}},
		{"2002", "CBA.AU", []plannedTrade{
			{"2019-05-06", sdk.TradeBuy, 150, 0},
			{"2021-02-15", sdk.TradeBuy, 50, 0},
		}},
		{"2003", "CSL.AU", []plannedTrade{
			{"2023-03-01", sdk.TradeSell, -10, 0},
			{"2019-09-02", sdk.TradeBuy, 40, 0},
		}},
		{"2004", "VAS.AU", []plannedTrade{
			{"2020-11-02", sdk.TradeBuy, 200, 0},
			{"2022-07-15", sdk.TradeCostBaseIncrease, 0, 42.10},
			{"2019-03-04", sdk.TradeBuy, 300, 0},
			{"2021-07-15", sdk.TradeCostBaseDecrease, 0, -85.50},
		}},
		{"2005", "WES.AU", []plannedTrade{
			{"2019-02-01", sdk.TradeOpeningBalance, 250, 0},
		}},
		{"2006", "NAB.AU", []plannedTrade{
			{"2021-09-01", sdk.TradeSell, -400, 0},
			{"2019-04-01", sdk.TradeBuy, 400, 0},
		}},
		{"2007", "STW.AU", []plannedTrade{
			{"2022-10-03", sdk.TradeBuy, 100, 0},
		}},
	}
}

const brokerage = 19.95

type portfolio struct {
	info     sdk.Portfolio
	holdings []sdk.Holding
	trades   map[string][]sdk.Trade // by holding id, in tracker order
}

func buildPortfolio(ds *dataset) *portfolio {
	p := &portfolio{
		info: sdk.Portfolio{ID: PortfolioID, Name: portfolioName,
			Created: time.Date(2019, 2, 1, 0, 0, 0, 0, time.UTC), BaseCurrency: "AUD"},
		trades: map[string][]sdk.Trade{},
	}
	n := 0
	for _, h := range samplePlan() {
		sr, _ := ds.lookup(h.ticker)
		sec := sr.sec
		p.holdings = append(p.holdings, sdk.Holding{ID: h.id, PortfolioID: PortfolioID, Ticker: sec.ticker(),
			Symbol: sec.code, Exchange: "ASX", Name: sec.name, Currency: sec.currency, Sector: sec.sector, Industry: sec.industry})
		for _, pt := range h.trades {
			n++
			i := sr.index(nextWeekday(pt.date))
			price := sr.days[i].close
			t := sdk.Trade{ID: fmt.Sprint(3000 + n), HoldingID: h.id, Ticker: sec.ticker(), Type: pt.kind,
				Date: sr.days[i].date, Currency: sec.currency}
			switch pt.kind {
			case sdk.TradeCostBaseIncrease, sdk.TradeCostBaseDecrease:
				t.Value = pt.amount
			case sdk.TradeOpeningBalance:
				t.Quantity, t.Price, t.Value = pt.qty, price, round(pt.qty*price, 2)
			default:
				t.Quantity, t.Price, t.Brokerage, t.Value = pt.qty, price, brokerage, round(pt.qty*price, 2)
			}
			p.trades[h.id] = append(p.trades[h.id], t)
		}
	}
	return p
}

// nextWeekday moves a weekend date to the Monday after; every trade date is
// a trading day and on or after Epoch.
func nextWeekday(d string) string {
	t, _ := time.Parse(time.DateOnly, d)
	for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
		t = t.AddDate(0, 0, 1)
	}
	return t.Format(time.DateOnly)
}

// Portfolios lists the one sample portfolio. Credentials are ignored: the
// sample belongs to everyone.
func (s *Source) Portfolios(context.Context, sdk.Credentials) ([]sdk.Portfolio, error) {
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	return []sdk.Portfolio{ds.folio.info}, nil
}

// Holdings lists the portfolio's holdings, the closed NAB position
// included.
func (s *Source) Holdings(_ context.Context, _ sdk.Credentials, portfolioID string) ([]sdk.Holding, error) {
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	if portfolioID != PortfolioID {
		return nil, fmt.Errorf("%w: no sample portfolio %q", sdk.ErrNotFound, portfolioID)
	}
	return append([]sdk.Holding(nil), ds.folio.holdings...), nil
}

// Trades lists a holding's trades in the tracker's order, which is not date
// order.
func (s *Source) Trades(_ context.Context, _ sdk.Credentials, holdingID string) ([]sdk.Trade, error) {
	ds, err := s.data()
	if err != nil {
		return nil, err
	}
	t, ok := ds.folio.trades[holdingID]
	if !ok {
		return nil, fmt.Errorf("%w: no sample holding %q", sdk.ErrNotFound, holdingID)
	}
	return append([]sdk.Trade(nil), t...), nil
}

// Performance values the portfolio between from and to (defaults: the
// portfolio's creation and the last trading day) from its trades and the
// generated prices. Percentages are annualised, as trackers report them.
func (s *Source) Performance(_ context.Context, _ sdk.Credentials, portfolioID, from, to string) (sdk.Performance, error) {
	if err := checkRange(from, to); err != nil {
		return sdk.Performance{}, err
	}
	ds, err := s.data()
	if err != nil {
		return sdk.Performance{}, err
	}
	if portfolioID != PortfolioID {
		return sdk.Performance{}, fmt.Errorf("%w: no sample portfolio %q", sdk.ErrNotFound, portfolioID)
	}
	if from == "" {
		from = ds.folio.info.Created.Format(time.DateOnly)
	}
	if to == "" || to > ds.asOf {
		to = ds.asOf
	}
	if from > to {
		return sdk.Performance{}, fmt.Errorf("%w: from %s is after the data's last date %s", sdk.ErrInvalidArgument, from, to)
	}
	years := yearsBetween(from, to)
	perf := sdk.Performance{From: from, To: to, Holdings: []sdk.HoldingPerformance{}}
	var totalValue, totalGain, totalDiv, totalInvested float64
	for _, h := range ds.folio.holdings {
		sr, _ := ds.lookup(h.Ticker)
		r := valueHolding(sr, ds.folio.trades[h.ID], from, to)
		price := 0.0
		if i := sr.index(to); i >= 0 {
			price = sr.days[i].close
		}
		perf.Holdings = append(perf.Holdings, sdk.HoldingPerformance{
			HoldingID: h.ID, Ticker: h.Ticker, Name: h.Name, CurrentPrice: price, Quantity: r.qty, Currency: h.Currency,
			Return: sdk.Return{
				TotalValue: round(r.value, 2), CapitalGainValue: round(r.gain, 2), DividendReturnValue: round(r.dividends, 2),
				CapitalGainPercent: annualised(r.gain, r.invested, years),
				TotalReturnPercent: annualised(r.gain+r.dividends, r.invested, years),
			},
		})
		totalValue += r.value
		totalGain += r.gain
		totalDiv += r.dividends
		totalInvested += r.invested
	}
	for i := range perf.Holdings {
		if totalValue > 0 {
			perf.Holdings[i].Weight = round(perf.Holdings[i].Return.TotalValue/totalValue*100, 2)
		}
	}
	perf.Total = sdk.Return{
		TotalValue: round(totalValue, 2), CapitalGainValue: round(totalGain, 2), DividendReturnValue: round(totalDiv, 2),
		CapitalGainPercent: annualised(totalGain, totalInvested, years),
		TotalReturnPercent: annualised(totalGain+totalDiv, totalInvested, years),
	}
	return perf, nil
}

type holdingResult struct {
	qty, value, gain, dividends, invested float64
}

// valueHolding replays a holding's trades in date order (average cost):
// gain is realised plus unrealised capital gain, dividends are those with
// an ex-date in [from, to] on the units held the day before.
func valueHolding(sr *series, trades []sdk.Trade, from, to string) holdingResult {
	sorted := append([]sdk.Trade(nil), trades...)
	slices.SortStableFunc(sorted, func(a, b sdk.Trade) int { return strings.Compare(a.Date, b.Date) })
	var r holdingResult
	cost := 0.0
	for _, t := range sorted {
		if t.Date > to {
			break
		}
		switch t.Type {
		case sdk.TradeBuy, sdk.TradeOpeningBalance:
			outlay := t.Value + t.Brokerage
			cost += outlay
			r.invested += outlay
			r.qty += t.Quantity
		case sdk.TradeSell:
			if r.qty > 0 {
				removed := cost * -t.Quantity / r.qty
				r.gain += -t.Value - t.Brokerage - removed
				cost -= removed
			}
			r.qty += t.Quantity
		case sdk.TradeCostBaseIncrease, sdk.TradeCostBaseDecrease:
			cost += t.Value
		}
	}
	if i := sr.index(to); i >= 0 {
		r.value = r.qty * sr.days[i].close
	}
	r.gain += r.value - cost
	for _, d := range sr.divs {
		if d.Date < from || d.Date > to {
			continue
		}
		held := 0.0
		for _, t := range sorted {
			if t.Date < d.Date {
				held += t.Quantity
			}
		}
		r.dividends += held * *d.UnadjustedValue
	}
	return r
}

func yearsBetween(from, to string) float64 {
	a, _ := time.Parse(time.DateOnly, from)
	b, _ := time.Parse(time.DateOnly, to)
	return b.Sub(a).Hours() / 24 / 365.25
}

// annualised turns a gain on an amount invested into a yearly rate in
// percent. Periods under a year are not annualised.
func annualised(gain, invested, years float64) float64 {
	if invested <= 0 {
		return 0
	}
	r := gain / invested
	if years > 1 && 1+r > 0 {
		r = math.Pow(1+r, 1/years) - 1
	}
	return round(r*100, 2)
}
