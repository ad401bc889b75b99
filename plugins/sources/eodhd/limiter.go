package eodhd

import (
	"context"
	"math"
	"sync"
	"time"
)

// limiter is a token bucket that keeps the plugin under EODHD's per-minute
// limit, which rejects (429) rather than queues the excess. Tokens refill at
// perMinute/60 a second into a bucket of perMinute/20 (three seconds'
// worth), so no window of 60 seconds ever admits more than 1.05 × perMinute
// calls: 945 at the default 900, under EODHD's 1,000.
type limiter struct {
	now   func() time.Time
	rate  float64 // tokens per second
	burst float64

	mu     sync.Mutex
	tokens float64 // may go negative: callers queued behind the bucket
	last   time.Time
	taken  int64 // tokens handed out, for tests and diagnostics
}

func newLimiter(perMinute float64, now func() time.Time) *limiter {
	if now == nil {
		now = time.Now
	}
	burst := math.Max(1, math.Floor(perMinute/20))
	return &limiter{now: now, rate: perMinute / 60, burst: burst, tokens: burst, last: now()}
}

// reserve takes a token and says how long the caller must wait before
// using it.
func (l *limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if elapsed := now.Sub(l.last); elapsed > 0 {
		l.tokens = math.Min(l.burst, l.tokens+elapsed.Seconds()*l.rate)
		l.last = now
	}
	l.tokens--
	l.taken++
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-l.tokens / l.rate * float64(time.Second)))
}

// release returns a reserved token that will not be used.
func (l *limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = math.Min(l.burst, l.tokens+1)
	l.taken--
}

// wait blocks until the caller may make one call.
func (l *limiter) wait(ctx context.Context) error {
	d := l.reserve()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.release()
		return ctx.Err()
	}
}

// granted reports how many calls the limiter has admitted.
func (l *limiter) granted() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.taken
}
