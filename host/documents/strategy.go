package documents

import (
	"context"
	"math"
	"sort"
	"strings"
)

// RiskAppetite is how much risk a strategy accepts.
type RiskAppetite string

// Risk appetites, from least to most risk.
const (
	RiskConservative RiskAppetite = "conservative"
	RiskModerate     RiskAppetite = "moderate"
	RiskBalanced     RiskAppetite = "balanced"
	RiskGrowth       RiskAppetite = "growth"
	RiskAggressive   RiskAppetite = "aggressive"
)

// RiskAppetites lists the valid risk appetites in order.
var RiskAppetites = []RiskAppetite{RiskConservative, RiskModerate, RiskBalanced, RiskGrowth, RiskAggressive}

// Limits of a strategy.
const (
	MaxUniverse          = 100
	MaxSectors           = 100
	MaxAllocationEntries = 50
	MaxLabelLength       = 100
	MaxStrategyNotes     = 20000
)

// Strategy is a portfolio's investment strategy. Unset values are empty
// lists and maps, null percentages and empty strings.
type Strategy struct {
	// Universe lists the exchange codes the portfolio invests on ("AU", "US").
	Universe        []string `json:"universe"`
	AllowedSectors  []string `json:"allowed_sectors"`
	ExcludedSectors []string `json:"excluded_sectors"`
	// MaxPositionPct caps one holding's share of the portfolio, in percent.
	MaxPositionPct *float64 `json:"max_position_pct"`
	// MaxSectorPct caps one sector's share of the portfolio, in percent.
	MaxSectorPct *float64 `json:"max_sector_pct"`
	// TargetAllocation maps an asset class or sector to its target share in
	// percent; the shares sum to at most 100.
	TargetAllocation map[string]float64 `json:"target_allocation"`
	RiskAppetite     RiskAppetite       `json:"risk_appetite"`
	Notes            string             `json:"notes"`
}

// StrategyPatch is a JSON merge patch (RFC 7396) of a Strategy: absent
// fields keep their value, null clears, a value replaces. Lists are replaced
// whole; target_allocation is merged key by key, a null value removing the
// key.
type StrategyPatch struct {
	Universe         Opt[[]string]            `json:"universe,omitzero"`
	AllowedSectors   Opt[[]string]            `json:"allowed_sectors,omitzero"`
	ExcludedSectors  Opt[[]string]            `json:"excluded_sectors,omitzero"`
	MaxPositionPct   Opt[float64]             `json:"max_position_pct,omitzero"`
	MaxSectorPct     Opt[float64]             `json:"max_sector_pct,omitzero"`
	TargetAllocation Opt[map[string]*float64] `json:"target_allocation,omitzero"`
	RiskAppetite     Opt[RiskAppetite]        `json:"risk_appetite,omitzero"`
	Notes            Opt[string]              `json:"notes,omitzero"`
}

// fields names the fields the patch touches, in declaration order.
func (p *StrategyPatch) fields() []string {
	var out []string
	for _, f := range []struct {
		name    string
		present bool
	}{
		{"universe", p.Universe.Present}, {"allowed_sectors", p.AllowedSectors.Present},
		{"excluded_sectors", p.ExcludedSectors.Present}, {"max_position_pct", p.MaxPositionPct.Present},
		{"max_sector_pct", p.MaxSectorPct.Present}, {"target_allocation", p.TargetAllocation.Present},
		{"risk_appetite", p.RiskAppetite.Present}, {"notes", p.Notes.Present},
	} {
		if f.present {
			out = append(out, f.name)
		}
	}
	return out
}

// Apply returns s with the patch applied; it does not validate.
func (p *StrategyPatch) Apply(s Strategy) Strategy {
	setValue(&s.Universe, p.Universe)
	setValue(&s.AllowedSectors, p.AllowedSectors)
	setValue(&s.ExcludedSectors, p.ExcludedSectors)
	setPtr(&s.MaxPositionPct, p.MaxPositionPct)
	setPtr(&s.MaxSectorPct, p.MaxSectorPct)
	switch ta := p.TargetAllocation; {
	case !ta.Present:
	case ta.Null:
		s.TargetAllocation = nil
	default:
		next := make(map[string]float64, len(s.TargetAllocation)+len(ta.Value))
		for k, v := range s.TargetAllocation {
			next[k] = v
		}
		for k, v := range ta.Value {
			if v == nil {
				delete(next, k)
			} else {
				next[k] = *v
			}
		}
		s.TargetAllocation = next
	}
	setValue(&s.RiskAppetite, p.RiskAppetite)
	setValue(&s.Notes, p.Notes)
	return s.normalized()
}

// normalized upper-cases exchange codes and turns nil lists and maps into
// empty ones, so equal strategies encode alike.
func (s Strategy) normalized() Strategy {
	s.Universe = upperAll(s.Universe)
	if s.AllowedSectors == nil {
		s.AllowedSectors = []string{}
	}
	if s.ExcludedSectors == nil {
		s.ExcludedSectors = []string{}
	}
	if s.TargetAllocation == nil {
		s.TargetAllocation = map[string]float64{}
	}
	return s
}

func upperAll(l []string) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = strings.ToUpper(strings.TrimSpace(v))
	}
	return out
}

// Validate reports every problem of the strategy as a *ValidationError.
func (s Strategy) Validate() error {
	var fe fieldErrs
	if len(s.Universe) > MaxUniverse {
		fe.add("universe", "at most %d exchanges", MaxUniverse)
	}
	seen := map[string]bool{}
	for i, x := range s.Universe {
		e, err := NormalizeExchange(x)
		switch {
		case err != nil:
			fe.add(idx("universe", i), "%v", err)
		case seen[e]:
			fe.add(idx("universe", i), "%s is listed twice", e)
		}
		seen[e] = true
	}
	allowed := checkSectors(&fe, "allowed_sectors", s.AllowedSectors)
	excluded := checkSectors(&fe, "excluded_sectors", s.ExcludedSectors)
	for i, x := range s.ExcludedSectors {
		if allowed[strings.ToLower(x)] && excluded[strings.ToLower(x)] {
			fe.add(idx("excluded_sectors", i), "%q is also an allowed sector", x)
		}
	}
	if s.MaxPositionPct != nil {
		checkPercent(&fe, "max_position_pct", *s.MaxPositionPct, false)
	}
	if s.MaxSectorPct != nil {
		checkPercent(&fe, "max_sector_pct", *s.MaxSectorPct, false)
	}
	if s.MaxPositionPct != nil && s.MaxSectorPct != nil && *s.MaxPositionPct > *s.MaxSectorPct {
		fe.add("max_position_pct", "%g%% is above max_sector_pct (%g%%): one position cannot exceed its sector", *s.MaxPositionPct, *s.MaxSectorPct)
	}
	checkAllocation(&fe, s.TargetAllocation)
	if s.RiskAppetite != "" && !validRisk(s.RiskAppetite) {
		fe.add("risk_appetite", "want one of %s", joinRisk())
	}
	checkText(&fe, "notes", s.Notes, MaxStrategyNotes)
	return fe.err()
}

func checkSectors(fe *fieldErrs, field string, l []string) map[string]bool {
	if len(l) > MaxSectors {
		fe.add(field, "at most %d sectors", MaxSectors)
	}
	seen := map[string]bool{}
	for i, x := range l {
		checkLabel(fe, idx(field, i), x, MaxLabelLength)
		if seen[strings.ToLower(x)] {
			fe.add(idx(field, i), "%q is listed twice", x)
		}
		seen[strings.ToLower(x)] = true
	}
	return seen
}

// allocationSlack absorbs float rounding in the sum (33.3+33.3+33.4).
const allocationSlack = 1e-9

func checkAllocation(fe *fieldErrs, m map[string]float64) {
	if len(m) > MaxAllocationEntries {
		fe.add("target_allocation", "at most %d entries", MaxAllocationEntries)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	sum := 0.0
	for _, k := range keys {
		f := "target_allocation." + k
		checkLabel(fe, f, k, MaxLabelLength)
		checkPercent(fe, f, m[k], true)
		sum += m[k]
	}
	if sum > 100+allocationSlack && !math.IsNaN(sum) {
		fe.add("target_allocation", "the targets sum to %g%%; they must sum to at most 100%%", sum)
	}
}

func validRisk(r RiskAppetite) bool {
	for _, v := range RiskAppetites {
		if r == v {
			return true
		}
	}
	return false
}

func joinRisk() string {
	s := make([]string, len(RiskAppetites))
	for i, r := range RiskAppetites {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// StrategyDoc is a stored strategy with its version metadata.
type StrategyDoc struct {
	Meta
	Strategy Strategy `json:"strategy"`
}

// StrategyVersion is the content of one retained version.
type StrategyVersion struct {
	Portfolio string      `json:"portfolio"`
	Info      VersionInfo `json:"info"`
	Strategy  Strategy    `json:"strategy"`
}

// Strategies stores one strategy per portfolio.
type Strategies struct {
	e *engine[Strategy]
}

// Get returns the portfolio's strategy; an error wrapping sdk.ErrNotFound
// when it has none (or it was deleted).
func (s *Strategies) Get(ctx context.Context, c Caller, portfolio string) (StrategyDoc, error) {
	st, m, err := s.e.get(ctx, c, portfolio)
	if err != nil {
		return StrategyDoc{}, err
	}
	return StrategyDoc{Meta: m, Strategy: st.normalized()}, nil
}

// Update merges the patch into the portfolio's strategy, creating it when
// there is none (created is then true). An invalid result is a
// *ValidationError and nothing is written; a patch that changes nothing
// writes no new version.
func (s *Strategies) Update(ctx context.Context, c Caller, portfolio string, p StrategyPatch, o WriteOpts) (doc StrategyDoc, created bool, err error) {
	change := "update " + strings.Join(p.fields(), ", ")
	if len(p.fields()) == 0 {
		change = "create"
	}
	rec, m, err := s.e.mutate(ctx, c, portfolio, o, func(cur Strategy, exists bool) (*Strategy, VersionInfo, error) {
		created = !exists
		next := p.Apply(cur)
		if err := next.Validate(); err != nil {
			return nil, VersionInfo{}, err
		}
		if exists && sameJSON(next, cur.normalized()) {
			return nil, VersionInfo{}, errNoChange
		}
		info := VersionInfo{Change: change}
		if !exists {
			info.Change = "create"
		}
		return &next, info, nil
	})
	if err != nil {
		return StrategyDoc{}, false, err
	}
	return StrategyDoc{Meta: m, Strategy: rec.Body.normalized()}, created, nil
}

// Delete deletes the strategy, recording a deletion version that Restore
// can undo. An error wrapping sdk.ErrNotFound when there is none.
func (s *Strategies) Delete(ctx context.Context, c Caller, portfolio string, o WriteOpts) (Meta, error) {
	return s.e.remove(ctx, c, portfolio, o)
}

// History lists the retained versions, newest first.
func (s *Strategies) History(ctx context.Context, c Caller, portfolio string) (History, error) {
	return s.e.history(ctx, c, portfolio)
}

// Version returns the content of one retained version. A version not in the
// history wraps sdk.ErrNotFound; a deletion version is a *ConflictError.
func (s *Strategies) Version(ctx context.Context, c Caller, portfolio string, version int) (StrategyVersion, error) {
	st, info, err := s.e.version(ctx, c, portfolio, version)
	if err != nil {
		return StrategyVersion{}, err
	}
	return StrategyVersion{Portfolio: portfolio, Info: info, Strategy: st.normalized()}, nil
}

// Restore makes an earlier version current again, as a new version. It
// writes nothing when the content is already that of the version.
func (s *Strategies) Restore(ctx context.Context, c Caller, portfolio string, version int, o WriteOpts) (StrategyDoc, error) {
	st, m, err := s.e.restore(ctx, c, portfolio, version, o)
	if err != nil {
		return StrategyDoc{}, err
	}
	return StrategyDoc{Meta: m, Strategy: st.normalized()}, nil
}
