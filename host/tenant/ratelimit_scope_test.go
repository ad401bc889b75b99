package tenant

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/sdk"
)

func TestScopeRate(t *testing.T) {
	for _, tt := range []struct {
		perMinute, burst int
		want             Rate
	}{
		{120, 60, Rate{PerMinute: 120, Burst: 60}},
		{30, 60, Rate{PerMinute: 30, Burst: 30}},
		{2, 60, Rate{PerMinute: 2, Burst: 2}},
		{0, 60, Rate{PerMinute: 0, Burst: 0}},
	} {
		if got := ScopeRate(tt.perMinute, tt.burst); got != tt.want {
			t.Errorf("ScopeRate(%d, %d) = %+v, want %+v", tt.perMinute, tt.burst, got, tt.want)
		}
	}
}

// scopeLimiters builds the limiter kinds over the same limits and clock:
// in-process, and shared through a real file store.
var scopeLimiters = []struct {
	name string
	open func(t *testing.T, l Limits, now func() time.Time) (Limiter, error)
}{
	{"local", func(t *testing.T, l Limits, now func() time.Time) (Limiter, error) {
		return NewLocalLimiter(l, now)
	}},
	{"shared", func(t *testing.T, l Limits, now func() time.Time) (Limiter, error) {
		return NewSharedLimiter(servertest.FileBackend(t, t.TempDir()), l, SharedOptions{Now: now})
	}},
}

// TestScopeBudgets: requests needing a scope with a budget of its own
// spend only that budget; every other request spends the key's default
// budget; keys never share.
func TestScopeBudgets(t *testing.T) {
	limits := Limits{
		Default: Rate{PerMinute: 60, Burst: 3},
		Scopes: map[Scope]Rate{
			ScopeWrite: ScopeRate(2, 3), // 2 a minute, burst 2
			ScopeAdmin: ScopeRate(0, 3), // unlimited
		},
	}
	type step struct {
		advance   time.Duration
		key       string
		scope     Scope
		allowed   bool
		remaining int
		limit     int
		retry     time.Duration
		budget    Scope
	}
	steps := []step{
		{0, "k1", ScopeWrite, true, 1, 2, 0, ScopeWrite},
		{0, "k1", ScopeWrite, true, 0, 2, 0, ScopeWrite},
		{0, "k1", ScopeWrite, false, 0, 2, 30 * time.Second, ScopeWrite},
		{0, "k1", ScopeRead, true, 2, 60, 0, ""}, // writes left reads whole
		{0, "k1", "", true, 1, 60, 0, ""},        // no particular scope: the default budget
		{0, "k1", ScopeAdmin, true, 0, 0, 0, ScopeAdmin},
		{0, "k1", ScopeAdmin, true, 0, 0, 0, ScopeAdmin},
		{0, "k1", ScopeRead, true, 0, 60, 0, ""},
		{0, "k1", ScopeRead, false, 0, 60, time.Second, ""},
		{0, "k1", ScopeWrite, false, 0, 2, 30 * time.Second, ScopeWrite},
		{0, "k2", ScopeWrite, true, 1, 2, 0, ScopeWrite}, // another key has its own budgets
		{0, "k2", ScopeRead, true, 2, 60, 0, ""},
		{30 * time.Second, "k1", ScopeWrite, true, 0, 2, 0, ScopeWrite},
		{0, "k1", ScopeWrite, false, 0, 2, 30 * time.Second, ScopeWrite},
		{0, "k1", ScopeRead, true, 2, 60, 0, ""}, // 30 s refilled the reads' burst
	}
	for _, kind := range scopeLimiters {
		t.Run(kind.name, func(t *testing.T) {
			clk := newClock()
			l, err := kind.open(t, limits, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range steps {
				clk.Add(s.advance)
				d, err := l.Allow(context.Background(), s.key, s.scope)
				if err != nil {
					t.Fatal(err)
				}
				want := Decision{Allowed: s.allowed, Remaining: s.remaining, Limit: s.limit, RetryAfter: s.retry, Scope: s.budget}
				if d != want {
					t.Fatalf("step %d (%s %q): %+v, want %+v", i, s.key, s.scope, d, want)
				}
			}
		})
	}
}

// TestScopeBudgetsWithoutDefault: with no default rate, only the scopes
// with a budget are limited.
func TestScopeBudgetsWithoutDefault(t *testing.T) {
	for _, kind := range scopeLimiters {
		t.Run(kind.name, func(t *testing.T) {
			clk := newClock()
			l, err := kind.open(t, Limits{Scopes: map[Scope]Rate{ScopeWrite: ScopeRate(1, 60)}}, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := range 100 {
				if d, err := l.Allow(ctx, "k", ScopeRead); err != nil || d != (Decision{Allowed: true}) {
					t.Fatalf("read %d: %+v %v", i, d, err)
				}
			}
			if d, _ := l.Allow(ctx, "k", ScopeWrite); !d.Allowed || d.Limit != 1 {
				t.Fatalf("first write: %+v", d)
			}
			if d, _ := l.Allow(ctx, "k", ScopeWrite); d.Allowed || d.RetryAfter != time.Minute || d.Scope != ScopeWrite {
				t.Fatalf("second write: %+v", d)
			}
		})
	}
}

func TestLimitsRejected(t *testing.T) {
	for _, tt := range []struct {
		name    string
		limits  Limits
		invalid bool
	}{
		{"nothing limited", Limits{}, false},
		{"every budget unlimited", Limits{Scopes: map[Scope]Rate{ScopeWrite: {PerMinute: 0, Burst: 5}}}, false},
		{"an unknown scope", Limits{Default: Rate{PerMinute: 60, Burst: 1}, Scopes: map[Scope]Rate{"delete": {PerMinute: 1, Burst: 1}}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLocalLimiter(tt.limits, nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, sdk.ErrInvalidArgument) != tt.invalid {
				t.Fatalf("error %v: invalid argument = %v, want %v", err, !tt.invalid, tt.invalid)
			}
			if _, err := NewSharedLimiter(servertest.FileBackend(t, t.TempDir()), tt.limits, SharedOptions{}); err == nil {
				t.Fatal("the shared limiter accepted")
			}
		})
	}
}

// TestSharedScopeBudget: two instances over one real store, hammered at
// once with the clock stopped, allow exactly the write budget between them
// and leave the default budget whole, each budget in a blob of its own.
func TestSharedScopeBudget(t *testing.T) {
	for _, be := range sharedBackends {
		t.Run(be.name, func(t *testing.T) {
			b1, b2 := be.open(t)
			clk := newClock()
			limits := Limits{Default: Rate{PerMinute: 60, Burst: 10}, Scopes: map[Scope]Rate{ScopeWrite: ScopeRate(5, 10)}}
			var limiters []*SharedLimiter
			for _, b := range []sdk.BlobStore{b1, b2} {
				l, err := NewSharedLimiter(b, limits, SharedOptions{Now: clk.Now, MaxAttempts: 10_000})
				if err != nil {
					t.Fatal(err)
				}
				limiters = append(limiters, l)
			}
			hammer := func(scope Scope) (allowed, denied int64) {
				var a, d atomic.Int64
				var wg sync.WaitGroup
				for g := range 8 {
					wg.Go(func() {
						for range 4 {
							dec, err := limiters[g%2].Allow(context.Background(), "key1", scope)
							if err != nil {
								t.Error(err)
								return
							}
							if dec.Scope != scope && scope == ScopeWrite {
								t.Errorf("a write decided by the %q budget", dec.Scope)
							}
							if dec.Allowed {
								a.Add(1)
							} else {
								d.Add(1)
							}
						}
					})
				}
				wg.Wait()
				return a.Load(), d.Load()
			}
			if a, d := hammer(ScopeWrite); a != 5 || d != 27 {
				t.Fatalf("writes: %d allowed, %d denied; want one write budget of 5 across both instances", a, d)
			}
			if a, d := hammer(ScopeRead); a != 10 || d != 22 {
				t.Fatalf("reads: %d allowed, %d denied; want the whole default budget of 10", a, d)
			}
			var names []string
			for k := range servertest.AllBlobs(t, b1) {
				names = append(names, k)
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"ratelimit/key1", "ratelimit/key1/write"}) {
				t.Fatalf("stored state %v", names)
			}
		})
	}
}
