package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/internal/servertest"
	"github.com/vire-dev/vire/sdk"
)

func newAudit(t *testing.T, st *store.Store, o AuditOptions) *AuditLog {
	t.Helper()
	o.Store = st
	l, err := NewAuditLog(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	return l
}

func rec(i int) Record {
	return Record{Time: time.Unix(int64(1900000000+i), 0).UTC(), KeyID: "KEYID0000001", Method: "GET",
		Route: "/api/portfolios/{name}", Status: 200, LatencyUS: int64(i), RequestID: fmt.Sprintf("req-%d", i)}
}

// appendN appends n records and closes the log, so all are written.
func appendN(t *testing.T, l *AuditLog, tenant string, n int) {
	t.Helper()
	for i := range n {
		if err := l.Append(context.Background(), tenant, rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func verifyOK(t *testing.T, st *store.Store, tenant string, records uint64) VerifyReport {
	t.Helper()
	rep, err := Verify(context.Background(), st, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != records {
		t.Fatalf("Verify = %+v (broken: %v), want %d records and no break", rep, rep.Broken, records)
	}
	return rep
}

func TestAuditChain(t *testing.T) {
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprintf("sealed=%v", sealed), func(t *testing.T) {
			st := newStore(t, servertest.FileBackend(t, t.TempDir()), sealed)
			l := newAudit(t, st, AuditOptions{FlushInterval: 5 * time.Millisecond, MaxSegment: 50})
			appendN(t, l, "alice", 520)
			rep := verifyOK(t, st, "alice", 520)
			if rep.Segments < 11 || rep.Unanchored != 0 || len(rep.LastHash) != 64 {
				t.Fatalf("report %+v", rep)
			}
			// Another tenant's log is separate, and an empty log verifies.
			verifyOK(t, st, "bob", 0)
			if s := l.Stats(); s.Written != 520 || s.Pending != 0 || s.Failures != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// TestAuditTwoInstances: two logs over two handles of one directory append
// to one tenant at once; the chain is whole and holds every record.
func TestAuditTwoInstances(t *testing.T) {
	dir := t.TempDir()
	st1, st2 := newStore(t, servertest.FileBackend(t, dir), true), newStore(t, servertest.FileBackend(t, dir), true)
	logs := []*AuditLog{
		newAudit(t, st1, AuditOptions{FlushInterval: time.Millisecond, MaxSegment: 7}),
		newAudit(t, st2, AuditOptions{FlushInterval: time.Millisecond, MaxSegment: 7}),
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := logs[g%2].Append(context.Background(), "alice", rec(g*1000+i)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for _, l := range logs {
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	rep := verifyOK(t, st2, "alice", 300)
	// Every request id is there exactly once.
	seen := map[string]int{}
	for seq := uint64(1); seq <= rep.Segments; seq++ {
		var seg segment
		if _, err := st1.Get(context.Background(), "alice", kindAudit, segName(seq), &seg); err != nil {
			t.Fatal(err)
		}
		for _, raw := range seg.Records {
			var r Record
			json.Unmarshal(raw, &r)
			seen[r.RequestID]++
		}
	}
	if len(seen) != 300 {
		t.Fatalf("%d distinct records, want 300", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s appears %d times", id, n)
		}
	}
}

// editSegment rewrites one stored segment of a plain store.
func editSegment(t *testing.T, st *store.Store, seq uint64, fn func(recs []json.RawMessage) []json.RawMessage) {
	t.Helper()
	ctx := context.Background()
	var seg segment
	if _, err := st.Get(ctx, "alice", kindAudit, segName(seq), &seg); err != nil {
		t.Fatal(err)
	}
	seg.Records = fn(seg.Records)
	if _, err := st.Put(ctx, "alice", kindAudit, segName(seq), seg, store.PutOpts{}); err != nil {
		t.Fatal(err)
	}
}

func TestAuditDetectsTampering(t *testing.T) {
	ctx := context.Background()
	const perSeg, segs = 4, 3
	for _, tc := range []struct {
		name    string
		tamper  func(t *testing.T, st *store.Store, b sdk.BlobStore)
		segment uint64
		index   int
		reason  string
	}{
		{"edited record", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			editSegment(t, st, 2, func(r []json.RawMessage) []json.RawMessage {
				r[1] = json.RawMessage(strings.Replace(string(r[1]), `"status":200`, `"status":204`, 1))
				return r
			})
		}, 2, 2, "does not follow"},
		{"edited last record of a segment", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			editSegment(t, st, 1, func(r []json.RawMessage) []json.RawMessage {
				r[3] = json.RawMessage(strings.Replace(string(r[3]), `"GET"`, `"PUT"`, 1))
				return r
			})
		}, 2, 0, "does not follow"},
		{"edited very last record", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			editSegment(t, st, 3, func(r []json.RawMessage) []json.RawMessage {
				r[3] = json.RawMessage(strings.Replace(string(r[3]), `"GET"`, `"PUT"`, 1))
				return r
			})
		}, 3, -1, "does not match the hash its head recorded"},
		{"deleted record", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			editSegment(t, st, 2, func(r []json.RawMessage) []json.RawMessage { return append(r[:1], r[2:]...) })
		}, 2, 1, "says it is #7"},
		{"reordered records", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			editSegment(t, st, 2, func(r []json.RawMessage) []json.RawMessage { r[1], r[2] = r[2], r[1]; return r })
		}, 2, 1, "says it is #7"},
		{"renumbered reorder", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			// Swap two records and fix their numbers: the hashes still give it away.
			editSegment(t, st, 2, func(r []json.RawMessage) []json.RawMessage {
				a := strings.Replace(string(r[2]), `"n":7`, `"n":6`, 1)
				b := strings.Replace(string(r[1]), `"n":6`, `"n":7`, 1)
				r[1], r[2] = json.RawMessage(a), json.RawMessage(b)
				return r
			})
		}, 2, 1, "does not follow"},
		{"deleted segment", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			if err := st.Delete(ctx, "alice", kindAudit, segName(2), store.DeleteOpts{}); err != nil {
				t.Fatal(err)
			}
		}, 2, -1, "segment 2 is missing"},
		{"deleted last segment", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			if err := st.Delete(ctx, "alice", kindAudit, segName(3), store.DeleteOpts{}); err != nil {
				t.Fatal(err)
			}
		}, 3, -1, "removed from the end"},
		{"swapped segments", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			one, _, _ := st.GetBytes(ctx, "alice", kindAudit, segName(1))
			two, _, _ := st.GetBytes(ctx, "alice", kindAudit, segName(2))
			st.PutBytes(ctx, "alice", kindAudit, segName(1), two, store.PutOpts{})
			st.PutBytes(ctx, "alice", kindAudit, segName(2), one, store.PutOpts{})
		}, 1, -1, "says it is segment 2"},
		{"foreign document", func(t *testing.T, st *store.Store, _ sdk.BlobStore) {
			st.PutBytes(ctx, "alice", kindAudit, "zz", []byte(`{}`), store.PutOpts{})
		}, 4, -1, "does not belong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := servertest.FileBackend(t, t.TempDir())
			st := newStore(t, b, false)
			l := newAudit(t, st, AuditOptions{FlushInterval: time.Hour, MaxSegment: perSeg})
			// One flush per segment's worth of records, so every segment is
			// full: a flush that found a few more records queued behind a
			// full segment would write them as a short extra segment.
			for i := range perSeg * segs {
				if err := l.Append(ctx, "alice", rec(i)); err != nil {
					t.Fatal(err)
				}
				if (i+1)%perSeg == 0 {
					if err := l.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := l.Close(ctx); err != nil {
				t.Fatal(err)
			}
			verifyOK(t, st, "alice", perSeg*segs)
			tc.tamper(t, st, b)
			rep, err := Verify(ctx, st, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() {
				t.Fatalf("tampering went unnoticed: %+v", rep)
			}
			if rep.Broken.Segment != tc.segment || rep.Broken.Index != tc.index || !strings.Contains(rep.Broken.Reason, tc.reason) {
				t.Fatalf("break %s, want segment %d index %d mentioning %q", rep.Broken, tc.segment, tc.index, tc.reason)
			}
		})
	}
	t.Run("sealed byte flipped", func(t *testing.T) {
		b := servertest.FileBackend(t, t.TempDir())
		st := newStore(t, b, true)
		l := newAudit(t, st, AuditOptions{FlushInterval: time.Hour, MaxSegment: perSeg})
		appendN(t, l, "alice", perSeg*segs)
		key := "users/alice/audit/" + segName(2)
		raw, _, err := b.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		raw[len(raw)-5] ^= 1
		if _, err := b.Put(ctx, key, raw, sdk.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		rep, err := Verify(ctx, st, "alice")
		if err != nil || rep.OK() || rep.Broken.Segment != 2 || !strings.Contains(rep.Broken.Reason, "cannot be opened") {
			t.Fatalf("Verify = %+v %v", rep.Broken, err)
		}
	})
}

func TestAuditSynchronous(t *testing.T) {
	st := newStore(t, servertest.FileBackend(t, t.TempDir()), true)
	l := newAudit(t, st, AuditOptions{FlushInterval: -1})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Append(context.Background(), "alice", rec(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Written before Append returned: no Close or Flush needed.
	rep := verifyOK(t, st, "alice", 20)
	if rep.Segments > 20 {
		t.Fatalf("%d segments for 20 records", rep.Segments)
	}
	t.Logf("20 concurrent synchronous appends took %d segments", rep.Segments)
}

// failingPuts wraps a real backend and fails writes while fail is set, as a
// storage outage would.
type failingPuts struct {
	sdk.BlobStore
	fail atomic.Bool
}

func (f *failingPuts) Put(ctx context.Context, key string, data []byte, o sdk.PutOptions) (sdk.Meta, error) {
	if f.fail.Load() {
		return sdk.Meta{}, fmt.Errorf("injected outage: %w", sdk.ErrUnavailable)
	}
	return f.BlobStore.Put(ctx, key, data, o)
}

// TestAuditOutageLosesNothing: while writes fail, records stay queued and
// Admit refuses new requests beyond MaxPending; once storage is back every
// record is written.
func TestAuditOutageLosesNothing(t *testing.T) {
	b := &failingPuts{BlobStore: servertest.FileBackend(t, t.TempDir())}
	st := newStore(t, b, false)
	l := newAudit(t, st, AuditOptions{FlushInterval: time.Millisecond, MaxSegment: 5, MaxPending: 30})
	ctx := context.Background()
	appendSome := func(from, n int) {
		for i := range n {
			if err := l.Append(ctx, "alice", rec(from+i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendSome(0, 10)
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	b.fail.Store(true)
	appendSome(10, 30)
	if err := l.Admit("alice"); !errors.Is(err, ErrAuditBacklog) {
		t.Fatalf("Admit during the outage = %v", err)
	}
	if err := l.Admit("bob"); err != nil {
		t.Fatalf("another tenant is refused: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Failures == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s := l.Stats(); s.Failures == 0 || s.Pending != 30 {
		t.Fatalf("stats during the outage %+v", s)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := l.Flush(short); err == nil || !strings.Contains(err.Error(), "30 audit records") {
		t.Fatalf("Flush during the outage = %v", err)
	}
	b.fail.Store(false)
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, st, "alice", 40)
}

func TestAuditDropsRecordsOfDeletedTenants(t *testing.T) {
	st := newStore(t, servertest.FileBackend(t, t.TempDir()), false)
	l := newAudit(t, st, AuditOptions{FlushInterval: time.Hour, Active: func(_ context.Context, tenant string) (bool, error) {
		return tenant != "gone", nil
	}})
	ctx := context.Background()
	l.Append(ctx, "gone", rec(1))
	l.Append(ctx, "alice", rec(2))
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	verifyOK(t, st, "alice", 1)
	if p, err := st.List(ctx, "gone", kindAudit, store.ListOpts{}); err != nil || len(p.Items) != 0 {
		t.Fatalf("a deleted tenant's log was written: %+v %v", p, err)
	}
	if err := l.Append(ctx, "alice", rec(3)); !errors.Is(err, ErrAuditClosed) {
		t.Fatalf("Append after Close = %v", err)
	}
}
