package market

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// Defaults for Options.
const (
	DefaultQuoteTTL        = time.Minute
	DefaultFundamentalsTTL = 7 * 24 * time.Hour
	DefaultSearchTTL       = 24 * time.Hour
	DefaultUpstreamTimeout = time.Minute
	DefaultMemoryBudget    = 64 << 20
	DefaultRefreshInterval = 10 * time.Minute
	// notFoundTTL is how long an unknown ticker is remembered in memory,
	// so a client repeating a typo does not spend upstream calls.
	notFoundTTL = 10 * time.Minute
)

// Document kinds in the store's market namespace: market/<kind>/<name>.
const (
	kindEOD          = "eod"
	kindQuote        = "quote"
	kindFundamentals = "fundamentals"
	kindDividends    = "dividends"
	kindSearch       = "search"
	kindRefresh      = "refresh"
)

// Options configure a Service.
type Options struct {
	// Source serves the data. nil means no configured source serves market
	// data: every call then fails with sdk.ErrUnavailable.
	Source sdk.MarketData
	// SourceName is the plugin behind Source ("eodhd", "sample"). Stored
	// documents record it, and documents of another source are ignored, so
	// switching sources never mixes their data.
	SourceName string
	// Store holds the documents in its market namespace; required with a
	// Source.
	Store  *store.Store
	Logger hclog.Logger
	// Now is the clock; nil means time.Now. Tests move it.
	Now func() time.Time
	// UpstreamTimeout bounds one refresh from the source.
	UpstreamTimeout time.Duration
	// QuoteTTL is how long a quote stays fresh while its exchange trades.
	QuoteTTL time.Duration
	// FundamentalsTTL is how long fundamentals stay fresh.
	FundamentalsTTL time.Duration
	// SearchTTL is how long search results stay fresh.
	SearchTTL time.Duration
	// MemoryBudget bounds the decoded documents kept in memory, in
	// approximate bytes; 0 means DefaultMemoryBudget, negative none.
	MemoryBudget int64
	// RefreshInterval is how often Run looks for exchanges due a daily
	// refresh.
	RefreshInterval time.Duration
}

// Service is the shared market-data cache in front of the source. It is
// safe for concurrent use; several instances may share one store.
type Service struct {
	src      sdk.MarketData
	name     string
	market   store.Market
	log      hclog.Logger
	now      func() time.Time
	cal      *Calendar
	o        Options
	mem      *memCache
	flights  flight
	instance string // names this process in refresh leases
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil && o.Source != nil {
		return nil, errors.New("market: Options.Store is required with a Source")
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Source != nil && o.SourceName == "" {
		return nil, errors.New("market: Options.SourceName is required with a Source")
	}
	defaults := []struct {
		v *time.Duration
		d time.Duration
	}{
		{&o.UpstreamTimeout, DefaultUpstreamTimeout}, {&o.QuoteTTL, DefaultQuoteTTL},
		{&o.FundamentalsTTL, DefaultFundamentalsTTL}, {&o.SearchTTL, DefaultSearchTTL},
		{&o.RefreshInterval, DefaultRefreshInterval},
	}
	for _, x := range defaults {
		if *x.v <= 0 {
			*x.v = x.d
		}
	}
	if o.MemoryBudget == 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	cal, err := NewCalendar()
	if err != nil {
		return nil, err
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	s := &Service{
		src: o.Source, name: o.SourceName, log: o.Logger, now: o.Now, cal: cal, o: o,
		mem: newMemCache(o.MemoryBudget), instance: hex.EncodeToString(id),
	}
	if o.Store != nil {
		s.market = o.Store.Market()
	}
	return s, nil
}

// SourceName names the plugin serving market data, or "" when none does.
func (s *Service) SourceName() string { return s.name }

// Calendar returns the exchange hours the service judges freshness by.
func (s *Service) Calendar() *Calendar { return s.cal }

// Meta says where served data came from and how old it is.
type Meta struct {
	Source string `json:"source"`
	// Fetched is when the source last answered with this data; zero when
	// it never has (an empty history).
	Fetched time.Time `json:"fetched"`
	// Stale is true when the data could not be refreshed: the source
	// failed or answered nothing new. The data is the latest Vire has.
	Stale bool `json:"stale,omitempty"`
}

// doc is the stored form of every market document.
type doc[T any] struct {
	Source  string    `json:"source"`
	Fetched time.Time `json:"fetched"`
	Value   T         `json:"value"`
}

// kindSpec describes one kind of document to lookup.
type kindSpec[T any] struct {
	kind string
	// fresh reports whether d may be served at now without asking the
	// source.
	fresh func(d *doc[T], now time.Time) bool
	// fetch asks the source; cur is the stored document, or nil. keep is
	// false when the reply holds nothing worth storing (an empty history):
	// nothing is written and the data is not marked fresh.
	fetch func(ctx context.Context, cur *doc[T]) (val T, keep bool, err error)
	// merge combines a reply with the value stored when the write happens
	// (another instance may have written since the read; the zero value
	// when nothing usable is stored); nil replaces it. It may run more
	// than once and must not have side effects.
	merge func(stored, got T) T
	// cost approximates the bytes a value holds in memory.
	cost func(T) int64
}

type lookupResult[T any] struct {
	d     *doc[T]
	stale bool
}

func (r lookupResult[T]) meta(source string) Meta {
	return Meta{Source: source, Fetched: r.d.Fetched, Stale: r.stale}
}

// notFoundMark remembers, in memory only, that the source does not know a
// name.
type notFoundMark struct {
	until time.Time
	err   error
}

// lookup serves a document from memory when fresh, else from the store
// when fresh there (another instance may have refreshed it), else from the
// source. Concurrent lookups of one document share one refresh.
func lookup[T any](ctx context.Context, s *Service, spec kindSpec[T], name string) (lookupResult[T], error) {
	key := spec.kind + "/" + name
	if r, ok, err := fromMemory(s, key, spec.fresh); ok || err != nil {
		return r, err
	}
	if s.src == nil {
		return lookupResult[T]{}, s.noSource()
	}
	v, err := s.flights.do(ctx, context.WithoutCancel(ctx), key, func(fctx context.Context) (any, error) {
		fctx, cancel := context.WithTimeout(fctx, s.o.UpstreamTimeout)
		defer cancel()
		return refresh(fctx, s, spec, key, name)
	})
	if err != nil {
		return lookupResult[T]{}, err
	}
	return v.(lookupResult[T]), nil
}

// fromMemory returns a fresh memory entry, or a remembered not-found
// error.
func fromMemory[T any](s *Service, key string, fresh func(*doc[T], time.Time) bool) (lookupResult[T], bool, error) {
	now := s.now()
	if v, ok := s.mem.get("nf/" + key); ok {
		if m := v.(notFoundMark); now.Before(m.until) {
			return lookupResult[T]{}, false, m.err
		}
		s.mem.remove("nf/" + key)
	}
	if v, ok := s.mem.get(key); ok {
		if d := v.(*doc[T]); fresh(d, now) {
			return lookupResult[T]{d: d}, true, nil
		}
	}
	return lookupResult[T]{}, false, nil
}

func refresh[T any](ctx context.Context, s *Service, spec kindSpec[T], key, name string) (lookupResult[T], error) {
	// Another flight may have finished between this caller's memory check
	// and its joining: look again before spending an upstream call.
	if r, ok, err := fromMemory(s, key, spec.fresh); ok || err != nil {
		return r, err
	}
	var cur *doc[T]
	var stored doc[T]
	_, err := s.market.Get(ctx, spec.kind, name, &stored)
	switch {
	case err == nil && stored.Source == s.name:
		cur = &stored
		if spec.fresh(cur, s.now()) {
			s.mem.put(key, cur, spec.cost(cur.Value))
			return lookupResult[T]{d: cur}, nil
		}
	case err == nil, errors.Is(err, sdk.ErrNotFound):
		// Nothing stored, or another source's data: ask the source.
	default:
		// Market data can be served without the store; say so and go on.
		s.log.Warn("cannot read stored market data; asking the source", "document", key, "error", err)
	}

	val, keep, err := spec.fetch(ctx, cur)
	if err != nil {
		if cur != nil && !errors.Is(err, sdk.ErrInvalidArgument) {
			s.log.Warn("serving stale market data: the source failed", "document", key, "fetched", cur.Fetched, "error", err)
			return lookupResult[T]{d: cur, stale: true}, nil
		}
		if errors.Is(err, sdk.ErrNotFound) {
			s.mem.put("nf/"+key, notFoundMark{until: s.now().Add(notFoundTTL), err: err}, 256)
		}
		return lookupResult[T]{}, err
	}
	if !keep {
		if cur != nil {
			return lookupResult[T]{d: cur, stale: true}, nil
		}
		return lookupResult[T]{d: &doc[T]{Source: s.name, Value: val}, stale: true}, nil
	}

	fetched := s.now()
	var written *doc[T]
	_, err = s.market.UpdateBytes(ctx, spec.kind, name, func(raw []byte, exists bool) ([]byte, error) {
		next := &doc[T]{Source: s.name, Fetched: fetched, Value: val}
		if spec.merge != nil {
			var base doc[T]
			if !exists || json.Unmarshal(raw, &base) != nil || base.Source != s.name {
				base = doc[T]{} // nothing usable stored: merge into nothing
			}
			next.Value = spec.merge(base.Value, val)
			if base.Fetched.After(fetched) {
				next.Fetched = base.Fetched
			}
		}
		written = next
		return json.Marshal(next)
	})
	if err != nil {
		s.log.Warn("cannot store market data; serving it anyway", "document", key, "error", err)
		written = &doc[T]{Source: s.name, Fetched: fetched, Value: val}
		if spec.merge != nil {
			var base T
			if cur != nil {
				base = cur.Value
			}
			written.Value = spec.merge(base, val)
		}
	}
	s.mem.put(key, written, spec.cost(written.Value))
	return lookupResult[T]{d: written}, nil
}

func (s *Service) noSource() error {
	return fmt.Errorf("%w: no source block serves market data; add one, e.g. source \"sample\" \"market\" {} (offline) "+
		"or source \"eodhd\" \"market\" { api_key = var.eodhd_api_key }", sdk.ErrUnavailable)
}

var noCreds = sdk.Credentials{}
