package sample

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// Label marks every name and description in the data set as synthetic.
const Label = "Sample data — not real prices"

// Epoch is the first trading day of every series. Prices walk forward from
// it, so a given seed gives the same close on a given date whatever as_of
// is; only adjusted closes move as later dividends arrive, as they do
// upstream.
const Epoch = "2019-01-01"

// security is one synthetic listing.
type security struct {
	code, exchange, name, kind, sector, industry, currency, country string

	start  float64 // price on Epoch, in today's (post-split) shares
	drift  float64 // expected annual log return
	vol    float64 // annual volatility
	volume float64 // typical daily volume, today's shares
	shares float64 // shares outstanding
	eps    float64 // 0 for funds: no earnings, so no P/E
	beta   float64
	yield  float64 // annual dividend yield
	// divMonths are the months of ex-dividend dates, on day divDay.
	divMonths []time.Month
	divDay    int
	splits    []sdk.Split
}

func (s *security) ticker() string { return s.code + "." + s.exchange }

// universe is the sample's fixed set of listings. Names echo familiar
// companies so the data reads naturally; every price, dividend and figure
// is generated.
func universe() []*security {
	au := func(code, name, kind, sector, industry string, start, drift, vol, eps, beta, yield float64, months ...time.Month) *security {
		return &security{code: code, exchange: "AU", name: name + " (sample)", kind: kind, sector: sector, industry: industry,
			currency: "AUD", country: "Australia", start: start, drift: drift, vol: vol, volume: 3e6, shares: 1e9,
			eps: eps, beta: beta, yield: yield, divMonths: months, divDay: 22}
	}
	us := func(code, name, kind, sector, industry string, start, drift, vol, eps, beta, yield float64) *security {
		return &security{code: code, exchange: "US", name: name + " (sample)", kind: kind, sector: sector, industry: industry,
			currency: "USD", country: "USA", start: start, drift: drift, vol: vol, volume: 2e7, shares: 5e9,
			eps: eps, beta: beta, yield: yield, divMonths: []time.Month{2, 5, 8, 11}, divDay: 10}
	}
	const stock, etf = "Common Stock", "ETF"
	list := []*security{
		au("BHP", "BHP Group", stock, "Basic Materials", "Other Industrial Metals & Mining", 34, 0.06, 0.26, 3.4, 0.95, 0.055, 2, 8),
		au("CBA", "Commonwealth Bank of Australia", stock, "Financial Services", "Banks - Diversified", 72, 0.09, 0.21, 5.6, 0.8, 0.042, 2, 8),
		au("CSL", "CSL", stock, "Healthcare", "Biotechnology", 190, 0.05, 0.24, 6.3, 0.55, 0.013, 3, 9),
		au("WES", "Wesfarmers", stock, "Consumer Cyclical", "Home Improvement Retail", 32, 0.08, 0.22, 2.2, 0.85, 0.036, 2, 8),
		au("NAB", "National Australia Bank", stock, "Financial Services", "Banks - Diversified", 24, 0.05, 0.24, 2.3, 0.9, 0.05, 5, 11),
		au("WOW", "Woolworths Group", stock, "Consumer Defensive", "Grocery Stores", 29, 0.03, 0.18, 1.3, 0.5, 0.028, 3, 9),
		au("VAS", "Vanguard Australian Shares Index ETF", etf, "", "", 78, 0.05, 0.16, 0, 1, 0.04, 1, 4, 7, 10),
		au("STW", "SPDR S&P/ASX 200 Fund", etf, "", "", 56, 0.05, 0.16, 0, 1, 0.038, 1, 4, 7, 10),
		us("AAPL", "Apple", stock, "Technology", "Consumer Electronics", 39, 0.2, 0.3, 6.1, 1.25, 0.006),
		us("MSFT", "Microsoft", stock, "Technology", "Software - Infrastructure", 100, 0.18, 0.27, 11.5, 0.9, 0.009),
		us("JNJ", "Johnson & Johnson", stock, "Healthcare", "Drug Manufacturers - General", 130, 0.03, 0.17, 6.9, 0.55, 0.029),
		us("VOO", "Vanguard S&P 500 ETF", etf, "", "", 230, 0.1, 0.18, 0, 1, 0.015),
	}
	// One split, as AAPL had: four new shares for each old one. Prices
	// before it are as traded (four times the adjusted price).
	list[8].splits = []sdk.Split{{Date: "2020-08-31", New: 4, Old: 1}}
	return list
}

// day is one generated trading day; prices as traded, except adj.
type day struct {
	date                                string
	open, high, low, close, adj, volume float64
}

// series is one listing's generated history up to as_of.
type series struct {
	sec    *security
	days   []day
	divs   []sdk.Dividend
	splits []sdk.Split
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// splitFactor is how many of today's shares one share held on date is.
func splitFactor(splits []sdk.Split, date string) float64 {
	f := 1.0
	for _, sp := range splits {
		if date < sp.Date {
			f *= sp.New / sp.Old
		}
	}
	return f
}

// generate builds a listing's series from Epoch to asOf. The random walk
// draws a fixed number of values per weekday, so extending asOf never
// changes earlier closes.
func generate(sec *security, seed uint64, asOf time.Time) *series {
	rng := rand.New(rand.NewPCG(seed, hashString(sec.ticker())))
	s := &series{sec: sec}
	for _, sp := range sec.splits {
		if sp.Date <= asOf.Format(time.DateOnly) {
			s.splits = append(s.splits, sp)
		}
	}
	mu := (sec.drift - sec.vol*sec.vol/2) / 252
	sigma := sec.vol / math.Sqrt(252)
	price := sec.start
	start, _ := time.Parse(time.DateOnly, Epoch)
	for d := start; !d.After(asOf); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		z1, z2, z3, z4 := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		prev := price
		price *= math.Exp(mu + sigma*z1)
		date := d.Format(time.DateOnly)
		f := splitFactor(sec.splits, date)
		open := prev * math.Exp(sigma*0.3*z2)
		high := math.Max(open, price) * (1 + math.Abs(z3)*sigma*0.4)
		low := math.Min(open, price) * (1 - math.Min(0.5, math.Abs(z4)*sigma*0.4))
		s.days = append(s.days, day{
			date: date, open: round(open*f, 2), high: round(high*f, 2), low: round(low*f, 2), close: round(price*f, 2),
			volume: math.Round(sec.volume * math.Exp(0.35*z3) / f),
		})
	}
	s.dividends(asOf)
	s.adjust()
	return s
}

// dividends pays the listing's yield on its ex-dates, sized from the
// previous close. value is split-adjusted; unadjustedValue is as paid.
func (s *series) dividends(asOf time.Time) {
	sec := s.sec
	if sec.yield == 0 {
		return
	}
	per := sec.yield / float64(len(sec.divMonths))
	start, _ := time.Parse(time.DateOnly, Epoch)
	for y := start.Year(); y <= asOf.Year(); y++ {
		for _, m := range sec.divMonths {
			ex := time.Date(y, m, sec.divDay, 0, 0, 0, 0, time.UTC)
			for ex.Weekday() == time.Saturday || ex.Weekday() == time.Sunday {
				ex = ex.AddDate(0, 0, 1)
			}
			date := ex.Format(time.DateOnly)
			i := s.index(date)
			if ex.After(asOf) || i < 1 || s.days[i].date != date {
				continue
			}
			prev := s.days[i-1]
			f := splitFactor(s.splits, prev.date)
			adjusted := round(prev.close/f*per, 4)
			period := "Quarterly"
			if sec.exchange == "AU" && len(sec.divMonths) == 2 {
				period = "Interim"
				if m == sec.divMonths[1] {
					period = "Final"
				}
			}
			s.divs = append(s.divs, sdk.Dividend{
				Date: date, DeclarationDate: ex.AddDate(0, 0, -14).Format(time.DateOnly),
				RecordDate:  ex.AddDate(0, 0, 1).Format(time.DateOnly),
				PaymentDate: ex.AddDate(0, 0, 21).Format(time.DateOnly),
				Period:      period, Value: ptr(adjusted), UnadjustedValue: ptr(round(adjusted*splitFactor(s.splits, date), 4)),
				Currency: sec.currency,
			})
		}
	}
}

// adjust fills adjusted closes: the close divided by the split factor and
// reduced by every later dividend, the way EODHD's adjusted_close is.
func (s *series) adjust() {
	exDates := map[string]float64{}
	for _, d := range s.divs {
		exDates[d.Date] = *d.Value
	}
	factor := 1.0
	for i := len(s.days) - 1; i >= 0; i-- {
		d := &s.days[i]
		f := splitFactor(s.splits, d.date)
		d.adj = round(d.close/f*factor, 4)
		if v, ok := exDates[d.date]; ok && i > 0 {
			prev := s.days[i-1]
			factor *= 1 - v/(prev.close/splitFactor(s.splits, prev.date))
		}
	}
}

// index returns the position of the last day on or before date, or -1.
func (s *series) index(date string) int {
	return sort.Search(len(s.days), func(i int) bool { return s.days[i].date > date }) - 1
}

func (s *series) bar(d day) sdk.Bar {
	return sdk.Bar{Ticker: s.sec.ticker(), Date: d.date, Open: ptr(d.open), High: ptr(d.high), Low: ptr(d.low),
		Close: ptr(d.close), AdjustedClose: ptr(d.adj), Volume: ptr(d.volume)}
}

func ptr(v float64) *float64 { return &v }

// dataset is every series for one seed and as_of, plus the portfolio.
type dataset struct {
	asOf   string
	series map[string]*series // by upper-case ticker
	order  []*series          // universe order
	folio  *portfolio
}

func buildDataset(seed uint64, asOf time.Time) *dataset {
	ds := &dataset{asOf: asOf.Format(time.DateOnly), series: map[string]*series{}}
	for _, sec := range universe() {
		s := generate(sec, seed, asOf)
		ds.series[strings.ToUpper(sec.ticker())] = s
		ds.order = append(ds.order, s)
	}
	ds.folio = buildPortfolio(ds)
	return ds
}

func (ds *dataset) lookup(ticker string) (*series, bool) {
	s, ok := ds.series[strings.ToUpper(ticker)]
	return s, ok
}
