package plugintest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func (b *blobSuite) concurrency(t *testing.T) {
	t.Run("LastWriterWinsNoTornBlob", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		const writers, rounds = 8, 4
		blobs := make([][]byte, writers)
		for i := range blobs {
			blobs[i] = pattern(256<<10+i, uint64(100+i))
		}
		isWhole := func(got []byte) bool {
			for _, w := range blobs {
				if bytes.Equal(got, w) {
					return true
				}
			}
			return false
		}
		_, err := s.Put(ctx, "contended", blobs[0], sdk.PutOptions{})
		noErr(t, err, "initial Put")

		var wg sync.WaitGroup
		var stop atomic.Bool
		var torn atomic.Int32
		var readErr atomic.Value
		// Readers run while writers replace the blob; every read must see
		// one whole blob.
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					got, m, err := s.Get(ctx, "contended")
					if err != nil {
						readErr.Store(err)
						return
					}
					if !isWhole(got) || m.Size != int64(len(got)) {
						torn.Add(1)
					}
				}
			})
		}
		var writeWG sync.WaitGroup
		for i := range writers {
			writeWG.Go(func() {
				for r := range rounds {
					var err error
					if r%2 == 0 {
						_, err = s.Put(ctx, "contended", blobs[i], sdk.PutOptions{})
					} else {
						_, err = s.PutReader(ctx, "contended", bytes.NewReader(blobs[i]), -1, sdk.PutOptions{})
					}
					if err != nil {
						t.Errorf("writer %d: %v", i, err)
						return
					}
				}
			})
		}
		writeWG.Wait()
		stop.Store(true)
		wg.Wait()
		if err, _ := readErr.Load().(error); err != nil {
			t.Errorf("Get during concurrent writes: %v", err)
		}
		if n := torn.Load(); n > 0 {
			t.Errorf("%d reads during concurrent writes saw a blob no writer wrote (torn or mixed)", n)
		}
		got, m, err := s.Get(ctx, "contended")
		noErr(t, err, "final Get")
		if !isWhole(got) {
			t.Errorf("after concurrent writes the blob (%d bytes) is no writer's blob", len(got))
		}
		sm, err := s.Stat(ctx, "contended")
		noErr(t, err, "Stat")
		if sm.ETag != m.ETag || sm.Size != int64(len(got)) {
			t.Errorf("Stat %+v disagrees with Get %+v", sm, m)
		}
	})

	if !b.open(t).Capabilities().ConditionalWrite {
		return
	}

	t.Run("CreateRaceHasOneWinner", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		const racers = 16
		for round := range 5 {
			key := fmt.Sprintf("race/%d", round)
			var wg sync.WaitGroup
			var wins atomic.Int32
			var winner atomic.Int32
			start := make(chan struct{})
			for i := range racers {
				wg.Go(func() {
					<-start
					var err error
					payload := fmt.Appendf(nil, "racer %d", i)
					if i%2 == 0 {
						_, err = s.Put(ctx, key, payload, sdk.PutOptions{IfNoneMatch: "*"})
					} else {
						_, err = s.PutReader(ctx, key, bytes.NewReader(payload), int64(len(payload)), sdk.PutOptions{IfNoneMatch: "*"})
					}
					switch {
					case err == nil:
						wins.Add(1)
						winner.Store(int32(i))
					case !errors.Is(err, sdk.ErrPrecondition):
						t.Errorf("racer %d: got %v, want success or ErrPrecondition", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d of %d IfNoneMatch * writers succeeded, want exactly 1", round, n, racers)
			}
			expectBlob(t, s, key, fmt.Sprintf("racer %d", winner.Load()), "")
		}
	})

	t.Run("ReadModifyWriteLosesNoUpdate", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		const workers, increments = 8, 12
		_, err := s.Put(ctx, "counter", []byte("0"), sdk.PutOptions{})
		noErr(t, err, "Put")
		var wg sync.WaitGroup
		var applied atomic.Int32
		for w := range workers {
			wg.Go(func() {
				for range increments {
					for attempt := 0; ; attempt++ {
						if attempt > 10000 {
							t.Errorf("worker %d: no progress after %d attempts", w, attempt)
							return
						}
						cur, m, err := s.Get(ctx, "counter")
						if err != nil {
							t.Errorf("worker %d: Get: %v", w, err)
							return
						}
						n, err := strconv.Atoi(string(cur))
						if err != nil {
							t.Errorf("worker %d: counter holds %q", w, cur)
							return
						}
						_, err = s.Put(ctx, "counter", []byte(strconv.Itoa(n+1)), sdk.PutOptions{IfMatch: m.ETag})
						if err == nil {
							applied.Add(1)
							break
						}
						if !errors.Is(err, sdk.ErrPrecondition) {
							t.Errorf("worker %d: Put IfMatch: %v", w, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		got, _, err := s.Get(ctx, "counter")
		noErr(t, err, "final Get")
		if want := strconv.Itoa(int(applied.Load())); string(got) != want || applied.Load() != workers*increments {
			t.Errorf("counter = %s after %d successful conditional increments (%d intended): updates were lost",
				got, applied.Load(), workers*increments)
		}
	})

	t.Run("ConditionalDeleteRaceHasOneWinner", func(t *testing.T) {
		s, ctx := b.open(t), ctxFor(t)
		for round := range 5 {
			m, err := s.Put(ctx, "doomed", fmt.Appendf(nil, "round %d", round), sdk.PutOptions{})
			noErr(t, err, "Put")
			var wg sync.WaitGroup
			var wins atomic.Int32
			start := make(chan struct{})
			for i := range 8 {
				wg.Go(func() {
					<-start
					err := s.Delete(ctx, "doomed", sdk.DeleteOptions{IfMatch: m.ETag})
					switch {
					case err == nil:
						wins.Add(1)
					case !errors.Is(err, sdk.ErrPrecondition):
						t.Errorf("deleter %d: got %v, want success or ErrPrecondition", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d conditional deletes of one ETag succeeded, want exactly 1", round, n)
			}
		}
	})

	t.Run("CreateVersusDeleteRace", func(t *testing.T) {
		// Writers that each create the key only if absent and delete it only
		// if it is still theirs: at any time at most one owns it, so every
		// owner's conditional delete must succeed.
		s, ctx := b.open(t), ctxFor(t)
		var wg sync.WaitGroup
		var owned atomic.Int32
		for i := range 6 {
			wg.Go(func() {
				for range 20 {
					m, err := s.Put(ctx, "lock", fmt.Appendf(nil, "owner %d", i), sdk.PutOptions{IfNoneMatch: "*"})
					if errors.Is(err, sdk.ErrPrecondition) {
						continue
					}
					if err != nil {
						t.Errorf("owner %d: Put: %v", i, err)
						return
					}
					if n := owned.Add(1); n != 1 {
						t.Errorf("%d writers hold the key at once", n)
					}
					got, _, err := s.Get(ctx, "lock")
					if err != nil || string(got) != fmt.Sprintf("owner %d", i) {
						t.Errorf("owner %d reads back %q, %v", i, got, err)
					}
					owned.Add(-1)
					if err := s.Delete(ctx, "lock", sdk.DeleteOptions{IfMatch: m.ETag}); err != nil {
						t.Errorf("owner %d: conditional Delete of its own blob: %v", i, err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}
