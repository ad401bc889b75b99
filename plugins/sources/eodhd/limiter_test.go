package eodhd

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock is a clock that only moves when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// TestLimiterWindows simulates callers that go as fast as the limiter lets
// them and counts the calls admitted in every 60-second window.
func TestLimiterWindows(t *testing.T) {
	for _, perMinute := range []float64{900, 1000, 60, 7, 1} {
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		l := newLimiter(perMinute, clock.now)
		var admitted []time.Time
		for len(admitted) < int(perMinute)*5+10 {
			// Four callers arrive together; each waits as told.
			var waits []time.Duration
			for range 4 {
				waits = append(waits, l.reserve())
			}
			for _, w := range waits {
				admitted = append(admitted, clock.t.Add(w))
			}
			clock.t = admitted[len(admitted)-1]
		}
		burst := max(1, float64(int(perMinute/20)))
		limit := int(perMinute + burst)
		busiest := 0
		for i := range admitted {
			j := i
			for j < len(admitted) && admitted[j].Sub(admitted[i]) < time.Minute {
				j++
			}
			busiest = max(busiest, j-i)
		}
		if busiest > limit {
			t.Errorf("%v/min: %d calls in one minute, limit %d", perMinute, busiest, limit)
		}
		if perMinute >= 900 && busiest >= 1000 && perMinute < 1000 {
			t.Errorf("%v/min: %d calls in one minute reach EODHD's 1,000", perMinute, busiest)
		}
		// Over five minutes the pace settles at the configured rate.
		span := admitted[len(admitted)-1].Sub(admitted[0]).Minutes()
		if rate := float64(len(admitted)-int(burst)) / span; rate > perMinute*1.01 || rate < perMinute*0.95 {
			t.Errorf("%v/min: sustained %.1f/min", perMinute, rate)
		}
		if l.granted() != int64(len(admitted)) {
			t.Errorf("granted %d, admitted %d", l.granted(), len(admitted))
		}
	}
}

func TestLimiterIdleRefillsToBurstOnly(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(900, clock.now)
	clock.t = clock.t.Add(time.Hour)
	free := 0
	for l.reserve() == 0 {
		free++
	}
	if free != 45 {
		t.Fatalf("after an idle hour %d calls went without waiting, want the burst of 45", free)
	}
}

func TestLimiterCancelReturnsToken(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(1, clock.now) // a burst of one, then a minute per call
	if err := l.wait(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait = %v", err)
	}
	if l.granted() != 1 {
		t.Fatalf("a cancelled wait kept its token: granted %d", l.granted())
	}
	// The next caller waits one interval, not two.
	if d := l.reserve(); d > time.Minute {
		t.Fatalf("next wait %v", d)
	}
}

func BenchmarkLimiterReserve(b *testing.B) {
	l := newLimiter(1000, nil)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.reserve()
		}
	})
}
