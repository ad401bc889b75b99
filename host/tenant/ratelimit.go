package tenant

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/sdk"
)

// Rate is a per-key request budget: PerMinute requests a minute on
// average, and up to Burst at once after a quiet spell.
type Rate struct {
	PerMinute int
	Burst     int
}

// Unlimited reports whether the rate limits nothing.
func (r Rate) Unlimited() bool { return r.PerMinute <= 0 }

// ScopeRate is the budget of a scope given perMinute requests a minute of
// its own, on keys whose default burst is burst: the burst never exceeds
// the scope's own rate, so a scope limited to 30 a minute never lets 60
// through at once.
func ScopeRate(perMinute, burst int) Rate {
	return Rate{PerMinute: perMinute, Burst: min(burst, perMinute)}
}

// Limits are an API key's request budgets: Default for every request
// except those needing a scope that Scopes lists, which count against that
// scope's own budget for the key instead.
type Limits struct {
	Default Rate
	// Scopes gives the scopes it names budgets of their own; an unlimited
	// rate leaves requests needing that scope unlimited.
	Scopes map[Scope]Rate
}

// Unlimited reports whether the limits limit nothing.
func (l Limits) Unlimited() bool {
	if !l.Default.Unlimited() {
		return false
	}
	for _, r := range l.Scopes {
		if !r.Unlimited() {
			return false
		}
	}
	return true
}

// Decision is a limiter's answer for one request.
type Decision struct {
	Allowed bool
	// RetryAfter is how long until a request would be allowed (zero when
	// allowed).
	RetryAfter time.Duration
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// Limit is the budget's requests a minute; zero when the request is not
	// limited at all.
	Limit int
	// Scope is the scope whose own budget decided, or "" when the key's
	// default budget did.
	Scope Scope
}

// Limiter decides whether a request on a key may go ahead. scope is the
// scope the request needs ("" when it needs none in particular): it picks
// the budget the request counts against.
type Limiter interface {
	Allow(ctx context.Context, key string, scope Scope) (Decision, error)
}

// budgets picks the budget a request counts against.
type budgets struct {
	def    *gcra           // nil: unlimited
	scopes map[Scope]*gcra // a nil entry: that scope is unlimited
}

func newBudgets(l Limits) (budgets, error) {
	if l.Unlimited() {
		return budgets{}, errors.New("tenant: a limiter needs a positive rate")
	}
	b := budgets{scopes: map[Scope]*gcra{}}
	if !l.Default.Unlimited() {
		g := newGCRA(l.Default)
		b.def = &g
	}
	for sc, r := range l.Scopes {
		if !slices.Contains(AllScopes, sc) {
			return budgets{}, fmt.Errorf("tenant: a rate limit for the unknown scope %q (the scopes are read, write and admin): %w", sc, sdk.ErrInvalidArgument)
		}
		b.scopes[sc] = nil
		if !r.Unlimited() {
			g := newGCRA(r)
			b.scopes[sc] = &g
		}
	}
	return b, nil
}

// pick returns the name of the budget's state, its rule (nil when
// unlimited) and the scope whose budget it is. A scope's state is named
// key/scope, apart from the key's default budget (named key) and from
// every other scope's.
func (b budgets) pick(key string, scope Scope) (string, *gcra, Scope) {
	if g, ok := b.scopes[scope]; ok {
		return key + "/" + string(scope), g, scope
	}
	return key, b.def, ""
}

// The limiters implement the generic cell rate algorithm (GCRA): each
// budget has a theoretical arrival time (TAT), the time at which it would
// be whole again. A request costs one emission interval T = 1min/PerMinute
// and is allowed when it would not push the TAT more than Burst·T past now.
// The whole state is one timestamp per budget.
type gcra struct {
	interval  time.Duration // T
	tolerance time.Duration // Burst·T
	limit     int
}

func newGCRA(r Rate) gcra {
	burst := max(r.Burst, 1)
	t := time.Minute / time.Duration(r.PerMinute)
	return gcra{interval: t, tolerance: t * time.Duration(burst), limit: r.PerMinute}
}

// decide returns the decision and the new TAT (unchanged when denied).
func (g gcra) decide(tat, now time.Time) (Decision, time.Time) {
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(g.interval)
	ahead := next.Sub(now)
	if ahead > g.tolerance {
		return Decision{Allowed: false, RetryAfter: ahead - g.tolerance, Limit: g.limit}, tat
	}
	return Decision{Allowed: true, Remaining: int((g.tolerance - ahead) / g.interval), Limit: g.limit}, next
}

// LocalLimiter keeps the budgets in this process: right for one instance.
type LocalLimiter struct {
	b   budgets
	now func() time.Time

	mu    sync.Mutex
	tat   map[string]time.Time
	calls int
}

// NewLocalLimiter returns an in-process limiter; now may be nil.
func NewLocalLimiter(l Limits, now func() time.Time) (*LocalLimiter, error) {
	b, err := newBudgets(l)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &LocalLimiter{b: b, now: now, tat: map[string]time.Time{}}, nil
}

// Allow implements Limiter.
func (l *LocalLimiter) Allow(_ context.Context, key string, scope Scope) (Decision, error) {
	state, g, sc := l.b.pick(key, scope)
	if g == nil {
		return Decision{Allowed: true, Scope: sc}, nil
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	d, tat := g.decide(l.tat[state], now)
	d.Scope = sc
	l.tat[state] = tat
	// Forget keys whose budget is whole again now and then, so the map
	// holds only keys in use.
	if l.calls++; l.calls%1024 == 0 {
		for k, t := range l.tat {
			if !t.After(now) {
				delete(l.tat, k)
			}
		}
	}
	return d, nil
}

// SharedLimiter keeps each budget's TAT in a small blob of a BlobStore
// with conditional writes (the configured cache, typically Redis), so every
// instance sharing it enforces one budget per key (and one per key and
// scope for the scopes with budgets of their own: <prefix><key id> and
// <prefix><key id>/<scope>). Each decision is a read
// and, when allowed, a compare-and-swap write (If-Match) retried when
// another instance got in first.
//
// When the store fails, or loses too many races in a row, the decision falls
// back to an in-process limiter with the same rate: the server keeps
// limiting (per instance) rather than refusing every request or none.
type SharedLimiter struct {
	b        sdk.BlobStore
	budgets  budgets
	prefix   string
	now      func() time.Time
	log      hclog.Logger
	local    *LocalLimiter
	attempts int
}

// SharedOptions configure a SharedLimiter.
type SharedOptions struct {
	// Prefix of the state blobs' keys; "ratelimit/" when empty.
	Prefix string
	Logger hclog.Logger
	Now    func() time.Time
	// MaxAttempts bounds compare-and-swap retries; 16 when zero.
	MaxAttempts int
}

// NewSharedLimiter returns a limiter whose budgets live in b.
func NewSharedLimiter(b sdk.BlobStore, l Limits, o SharedOptions) (*SharedLimiter, error) {
	if b == nil {
		return nil, errors.New("tenant: a shared limiter needs a blob store")
	}
	if !b.Capabilities().ConditionalWrite {
		return nil, fmt.Errorf("tenant: the shared rate limiter needs a store with conditional writes: %w", sdk.ErrUnsupported)
	}
	if o.Prefix == "" {
		o.Prefix = "ratelimit/"
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 16
	}
	local, err := NewLocalLimiter(l, o.Now)
	if err != nil {
		return nil, err
	}
	return &SharedLimiter{b: b, budgets: local.b, prefix: o.Prefix, now: o.Now, log: o.Logger.Named("ratelimit"), local: local, attempts: o.MaxAttempts}, nil
}

// Allow implements Limiter.
func (l *SharedLimiter) Allow(ctx context.Context, key string, scope Scope) (Decision, error) {
	state, g, sc := l.budgets.pick(key, scope)
	if g == nil {
		return Decision{Allowed: true, Scope: sc}, nil
	}
	d, err := l.allow(ctx, state, *g)
	if err == nil {
		d.Scope = sc
		return d, nil
	}
	if ctx.Err() != nil {
		return Decision{}, ctx.Err()
	}
	l.log.Warn("shared rate limit unavailable; limiting in this instance only", "key_id", key, "scope", string(sc), "error", err)
	return l.local.Allow(ctx, key, scope)
}

// allow spends one request of the budget whose state is named state.
func (l *SharedLimiter) allow(ctx context.Context, state string, g gcra) (Decision, error) {
	name := l.prefix + state
	for attempt := 1; ; attempt++ {
		var tat time.Time
		opts := sdk.PutOptions{IfNoneMatch: "*", ContentType: "text/plain"}
		data, m, err := l.b.Get(ctx, name)
		switch {
		case err == nil:
			ns, perr := strconv.ParseInt(string(data), 10, 64)
			if perr != nil {
				// Unreadable state starts the budget afresh rather than
				// locking the key out.
				l.log.Warn("discarding unreadable rate-limit state", "state", state)
			} else {
				tat = time.Unix(0, ns)
			}
			opts = sdk.PutOptions{IfMatch: m.ETag, ContentType: "text/plain"}
		case errors.Is(err, sdk.ErrNotFound):
		default:
			return Decision{}, err
		}
		d, next := g.decide(tat, l.now())
		if !d.Allowed {
			return d, nil // a refusal changes nothing
		}
		_, err = l.b.Put(ctx, name, []byte(strconv.FormatInt(next.UnixNano(), 10)), opts)
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, sdk.ErrPrecondition) {
			return Decision{}, err
		}
		if attempt >= l.attempts {
			return Decision{}, fmt.Errorf("lost %d races for the rate-limit state: %w", attempt, err)
		}
		// Another instance spent budget meanwhile: a short random pause
		// keeps contending instances from colliding in lockstep.
		t := time.NewTimer(time.Duration(rand.N(int64(attempt) * int64(time.Millisecond))))
		select {
		case <-ctx.Done():
			t.Stop()
			return Decision{}, ctx.Err()
		case <-t.C:
		}
	}
}
