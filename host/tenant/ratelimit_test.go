package tenant

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/backends/redis"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/internal/testsvc"
	"github.com/vire-dev/vire/sdk"
)

func TestGCRA(t *testing.T) {
	clk := newClock()
	// 60 a minute (one a second), three at once.
	l, err := NewLocalLimiter(Limits{Default: Rate{PerMinute: 60, Burst: 3}}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	type step struct {
		advance   time.Duration
		allowed   bool
		remaining int
		retry     time.Duration
	}
	for i, s := range []step{
		{0, true, 2, 0},
		{0, true, 1, 0},
		{0, true, 0, 0},
		{0, false, 0, time.Second},
		{400 * time.Millisecond, false, 0, 600 * time.Millisecond},
		{600 * time.Millisecond, true, 0, 0},
		{0, false, 0, time.Second},
		{10 * time.Second, true, 2, 0}, // a quiet spell refills the burst, no more
		{0, true, 1, 0},
	} {
		clk.Add(s.advance)
		d, err := l.Allow(ctx, "k1", ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != s.allowed || d.Remaining != s.remaining || d.RetryAfter != s.retry || d.Limit != 60 {
			t.Fatalf("step %d: %+v, want allowed=%v remaining=%d retry=%s", i, d, s.allowed, s.remaining, s.retry)
		}
	}
	// Keys have their own budgets.
	if d, _ := l.Allow(ctx, "k2", ScopeRead); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("another key: %+v", d)
	}
	if _, err := NewLocalLimiter(Limits{}, nil); err == nil {
		t.Fatal("a zero rate was accepted")
	}
}

// sharedBackends are the real stores a shared limiter runs on; each open
// returns two handles on one store, as two server instances have.
var sharedBackends = []struct {
	name string
	open func(t *testing.T) (sdk.BlobStore, sdk.BlobStore)
}{
	{"file", func(t *testing.T) (sdk.BlobStore, sdk.BlobStore) {
		dir := t.TempDir()
		return servertest.FileBackend(t, dir), servertest.FileBackend(t, dir)
	}},
	{"redis", func(t *testing.T) (sdk.BlobStore, sdk.BlobStore) {
		addr := testsvc.Redis(t)
		prefix := "rl" + testsvc.RandomToken(4) + ":"
		open := func() sdk.BlobStore {
			s := redis.New(nil)
			cfg, err := s.Schema().Complete(sdk.ConfigValue{"url": "redis://" + addr + "/0", "prefix": prefix})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Configure(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		return open(), open()
	}},
}

// TestSharedLimiterOneBudget: two limiters over one store, hammered at
// once with the clock stopped (so nothing refills), allow exactly the burst
// between them.
func TestSharedLimiterOneBudget(t *testing.T) {
	for _, be := range sharedBackends {
		t.Run(be.name, func(t *testing.T) {
			b1, b2 := be.open(t)
			clk := newClock()
			var logs bytes.Buffer
			var logMu sync.Mutex
			log := hclog.New(&hclog.LoggerOptions{Output: &lockedWriter{w: &logs, mu: &logMu}, Level: hclog.Warn})
			rate := Rate{PerMinute: 60, Burst: 10}
			var limiters []*SharedLimiter
			for _, b := range []sdk.BlobStore{b1, b2} {
				l, err := NewSharedLimiter(b, Limits{Default: rate}, SharedOptions{Now: clk.Now, Logger: log, MaxAttempts: 10_000})
				if err != nil {
					t.Fatal(err)
				}
				limiters = append(limiters, l)
			}
			var allowed, denied atomic.Int64
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := limiters[g%2]
					for range 6 {
						d, err := l.Allow(context.Background(), "key1", ScopeRead)
						if err != nil {
							t.Error(err)
							return
						}
						if d.Allowed {
							allowed.Add(1)
						} else {
							denied.Add(1)
							if d.RetryAfter <= 0 {
								t.Errorf("a refusal without Retry-After: %+v", d)
							}
						}
					}
				}()
			}
			wg.Wait()
			if allowed.Load() != 10 || denied.Load() != 38 {
				t.Fatalf("allowed %d, denied %d; want one budget of 10 across both instances", allowed.Load(), denied.Load())
			}
			logMu.Lock()
			defer logMu.Unlock()
			if logs.Len() > 0 {
				t.Fatalf("the limiters fell back to local limiting:\n%s", logs.String())
			}
			// One second refills one request, for either instance.
			clk.Add(time.Second)
			if d, _ := limiters[1].Allow(context.Background(), "key1", ScopeRead); !d.Allowed {
				t.Fatalf("after a second: %+v", d)
			}
			if d, _ := limiters[0].Allow(context.Background(), "key1", ScopeRead); d.Allowed {
				t.Fatalf("the refill was spent twice: %+v", d)
			}
		})
	}
}

// TestSharedLimiterFallsBack: when the shared store fails, the limiter
// keeps limiting in-process.
func TestSharedLimiterFallsBack(t *testing.T) {
	b := servertest.FileBackend(t, t.TempDir())
	clk := newClock()
	l, err := NewSharedLimiter(b, Limits{Default: Rate{PerMinute: 60, Burst: 2}}, SharedOptions{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	var got []bool
	for range 3 {
		d, err := l.Allow(context.Background(), "k", ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Allowed)
	}
	if !got[0] || !got[1] || got[2] {
		t.Fatalf("decisions %v, want two allowed then a refusal", got)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func BenchmarkSharedLimiterFile(b *testing.B) {
	s := servertest.FileBackend(b, b.TempDir())
	l, err := NewSharedLimiter(s, Limits{Default: Rate{PerMinute: 1 << 30, Burst: 1 << 20}}, SharedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.Allow(context.Background(), "k", ScopeRead); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLocalLimiter(b *testing.B) {
	l, _ := NewLocalLimiter(Limits{Default: Rate{PerMinute: 1 << 30, Burst: 1 << 20}}, nil)
	for b.Loop() {
		l.Allow(context.Background(), "k", ScopeRead)
	}
}

func BenchmarkSharedLimiterRedis(b *testing.B) {
	addr := testsvc.Redis(b)
	s := redis.New(nil)
	cfg, err := s.Schema().Complete(sdk.ConfigValue{"url": "redis://" + addr + "/0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Configure(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	l, err := NewSharedLimiter(s, Limits{Default: Rate{PerMinute: 1 << 30, Burst: 1 << 20}}, SharedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := l.Allow(context.Background(), "k", ScopeRead); err != nil {
			b.Fatal(err)
		}
	}
}
