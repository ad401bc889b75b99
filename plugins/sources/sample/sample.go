// Package sample is Vire's offline data source: a small synthetic market
// (twelve listings on the AU and US exchanges, daily bars from 2019, one
// dividend history per listing, one share split, fundamentals, search and
// symbol lists) and a sample SMSF portfolio with trades of every kind. It
// needs no network, files or credentials, so a new installation, a demo or
// a test has data to work with.
//
// Everything is generated in code from a seeded random walk: the same seed
// gives the same data on every machine. Names and descriptions say that the
// data is not real; no figure in it describes a real security.
package sample

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

const (
	// MinAsOf is the earliest as_of accepted: the portfolio's trades run
	// until 2023.
	MinAsOf = "2024-01-01"
	maxAsOf = "2100-12-31"
)

// Source is the sample market-data and portfolio source.
type Source struct {
	log hclog.Logger
	// now supplies "today" when as_of is not set.
	now func() time.Time

	mu    sync.Mutex
	cfg   *config
	cache *dataset

	calls atomic.Int64
}

type config struct {
	seed uint64
	asOf string // "" means today
}

var (
	_ sdk.MarketData      = (*Source)(nil)
	_ sdk.PortfolioSource = (*Source)(nil)
)

// New returns an unconfigured source.
func New(log hclog.Logger) *Source {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Source{log: log, now: time.Now}
}

// Schema declares seed and as_of.
func (s *Source) Schema() sdk.ConfigSchema {
	return sdk.ConfigSchema{Attributes: []sdk.Attribute{
		{
			Name: "seed", Type: sdk.TypeNumber, Default: 1,
			Description: "Seed of the random walk behind every price. The same seed gives the same data everywhere.",
		},
		{
			Name: "as_of", Type: sdk.TypeString,
			Description: "The last date with data (YYYY-MM-DD, " + MinAsOf + " or later). Unset means today (UTC), " +
				"so the data grows by a day every weekday.",
		},
	}}
}

// Configure validates seed and as_of.
func (s *Source) Configure(_ context.Context, cv sdk.ConfigValue) error {
	var errs sdk.ConfigErrors
	c := &config{seed: 1}
	if raw, ok := cv["seed"]; ok && raw != nil {
		seed := cv.Number("seed")
		if !isNumber(raw) || seed != math.Trunc(seed) || math.Abs(seed) > 1<<53 {
			errs = append(errs, sdk.ConfigError{Attribute: "seed", Message: "must be a whole number"})
		} else {
			c.seed = uint64(int64(seed))
		}
	}
	if raw, ok := cv["as_of"]; ok && raw != nil {
		d, isString := raw.(string)
		t, err := time.Parse(time.DateOnly, d)
		switch {
		case !isString || err != nil:
			errs = append(errs, sdk.ConfigError{Attribute: "as_of", Message: "must be a date in the form YYYY-MM-DD"})
		case d < MinAsOf || d > maxAsOf:
			errs = append(errs, sdk.ConfigError{Attribute: "as_of",
				Message: fmt.Sprintf("must be between %s and %s: the sample portfolio's trades run until 2023", MinAsOf, maxAsOf)})
		default:
			c.asOf = t.Format(time.DateOnly)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg, s.cache = c, nil
	s.log.Debug("configured", "seed", c.seed, "as_of", c.asOf)
	return nil
}

// Health reports whether the source is configured.
func (s *Source) Health(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil {
		return fmt.Errorf("%w: sample source is not configured", sdk.ErrUnavailable)
	}
	return nil
}

// data returns the data set for the configured seed and as_of, building it
// when as_of (or, unset, today) has moved.
func (s *Source) data() (*dataset, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg == nil {
		return nil, fmt.Errorf("%w: sample source is not configured", sdk.ErrUnavailable)
	}
	asOf := s.cfg.asOf
	if asOf == "" {
		asOf = s.now().UTC().Format(time.DateOnly)
		if asOf < MinAsOf {
			asOf = MinAsOf
		}
	}
	if s.cache == nil || s.cache.asOf != asOf {
		t, _ := time.Parse(time.DateOnly, asOf)
		start := time.Now()
		s.cache = buildDataset(s.cfg.seed, t)
		s.log.Debug("generated sample data", "as_of", asOf, "duration", time.Since(start).Round(time.Microsecond).String())
	}
	return s.cache, nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, float32, int, int32, int64, uint32:
		return true
	}
	return false
}
