package s3

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vire-dev/vire/sdk"
)

// TestCreateDeleteOwnership repeats the suite's create-versus-delete race
// with a trace: on versitygw an object's headers can mix two versions while
// it is replaced, which once let a create overwrite a live blob it had taken
// for a tombstone.
func TestCreateDeleteOwnership(t *testing.T) {
	g := startGateway(t)
	for round := range 10 {
		s := open(t, g, nil)
		ctx := t.Context()
		var mu sync.Mutex
		var log []string
		start := time.Now()
		rec := func(f string, a ...any) {
			mu.Lock()
			log = append(log, fmt.Sprintf("%8dµs ", time.Since(start).Microseconds())+fmt.Sprintf(f, a...))
			mu.Unlock()
		}
		var bad atomic.Bool
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				for range 20 {
					m, err := s.Put(ctx, "lock", fmt.Appendf(nil, "owner %d", i), sdk.PutOptions{IfNoneMatch: "*"})
					if errors.Is(err, sdk.ErrPrecondition) {
						continue
					}
					rec("owner %d created etag %s err %v", i, m.ETag, err)
					got, gm, err := s.Get(ctx, "lock")
					rec("owner %d get %q etag %s %v", i, got, gm.ETag, err)
					err = s.Delete(ctx, "lock", sdk.DeleteOptions{IfMatch: m.ETag})
					rec("owner %d delete etag %s: %v", i, m.ETag, err)
					if err != nil {
						bad.Store(true)
						return
					}
				}
			})
		}
		wg.Wait()
		if bad.Load() {
			for _, l := range log {
				t.Log(l)
			}
			t.Fatalf("round %d failed", round)
		}
	}
}
