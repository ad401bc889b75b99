package documents

import (
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/store"
)

// Options configure the services.
type Options struct {
	// HistoryLimit is how many versions each document keeps;
	// 0 means DefaultHistoryLimit.
	HistoryLimit int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger, optional.
	Logger hclog.Logger
}

// Service groups the three document services of a portfolio.
type Service struct {
	Strategies *Strategies
	Plans      *Plans
	Watchlists *Watchlists
}

// New returns the services over s. A nil s gives services that answer every
// call with an error wrapping sdk.ErrUnavailable.
func New(s *store.Store, o Options) *Service {
	if o.HistoryLimit <= 0 {
		o.HistoryLimit = DefaultHistoryLimit
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return &Service{
		Strategies: &Strategies{e: newEngine[Strategy](s, KindStrategy, o)},
		Plans:      &Plans{e: newEngine[Plan](s, KindPlan, o), now: o.Now},
		Watchlists: &Watchlists{e: newEngine[Watchlist](s, KindWatchlist, o), now: o.Now},
	}
}

// Store kinds of the documents; their snapshots use "<kind>-versions".
const (
	KindStrategy  = "strategy"
	KindPlan      = "plan"
	KindWatchlist = "watchlist"
)
