package documents

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func TestHistoryRestoreThirdOfTen(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		if _, _, err := svc.Strategies.Update(ctx, alice, "smsf", StrategyPatch{Notes: Some(fmt.Sprintf("edit %d", i))}, WriteOpts{}); err != nil {
			t.Fatalf("edit %d: %v", i, err)
		}
	}
	doc, err := svc.Strategies.Restore(ctx, alice, "smsf", 3, WriteOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Strategy.Notes != "edit 3" || doc.Version != 11 {
		t.Fatalf("after restoring version 3: version %d, notes %q", doc.Version, doc.Strategy.Notes)
	}
	h, err := svc.Strategies.History(ctx, alice, "smsf")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Versions) != 11 || h.Current != 11 {
		t.Fatalf("history has %d versions (current %d), want 11", len(h.Versions), h.Current)
	}
	for i, v := range h.Versions {
		if want := 11 - i; v.Version != want {
			t.Errorf("history[%d] is version %d, want %d (newest first)", i, v.Version, want)
		}
		if v.KeyID != alice.KeyID || v.Time.IsZero() {
			t.Errorf("version %d: key %q, time %v", v.Version, v.KeyID, v.Time)
		}
	}
	if h.Versions[0].RestoredFrom != 3 {
		t.Errorf("version 11 restored_from = %d, want 3", h.Versions[0].RestoredFrom)
	}
	for v := 1; v <= 11; v++ {
		got, err := svc.Strategies.Version(ctx, alice, "smsf", v)
		if err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		want := fmt.Sprintf("edit %d", min(v, 10))
		if v == 11 {
			want = "edit 3"
		}
		if got.Strategy.Notes != want {
			t.Errorf("version %d holds %q, want %q", v, got.Strategy.Notes, want)
		}
	}
}

func TestHistoryLimitDropsOldSnapshots(t *testing.T) {
	const limit = 4
	svc, st := newService(t, Options{HistoryLimit: limit})
	ctx := context.Background()
	for i := 1; i <= 9; i++ {
		if _, _, _, err := svc.Watchlists.PutItem(ctx, alice, "p", "BHP.AU", WatchItemPatch{Notes: Some(fmt.Sprint(i))}, WriteOpts{}); err != nil {
			t.Fatal(err)
		}
	}
	h, err := svc.Watchlists.History(ctx, alice, "p")
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, v := range h.Versions {
		got = append(got, v.Version)
	}
	if !slices.Equal(got, []int{9, 8, 7, 6}) {
		t.Fatalf("retained versions %v, want [9 8 7 6]", got)
	}
	page, err := st.List(ctx, alice.Tenant, KindWatchlist+"-versions", storeListAll)
	if err != nil {
		t.Fatal(err)
	}
	var snaps []string
	for _, e := range page.Items {
		snaps = append(snaps, e.Name)
	}
	slices.Sort(snaps)
	if want := []string{"p@6", "p@7", "p@8"}; !slices.Equal(snaps, want) {
		t.Fatalf("snapshots %v, want %v (the current version lives in the record)", snaps, want)
	}
	if _, err := svc.Watchlists.Version(ctx, alice, "p", 5); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("version 5 after it left the window: %v, want not found", err)
	}
	v6, err := svc.Watchlists.Version(ctx, alice, "p", 6)
	if err != nil || v6.Watchlist.Items[0].Notes != "6" {
		t.Fatalf("version 6: %+v, %v", v6, err)
	}
}

func TestDeleteIsUndoable(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	if _, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{RiskAppetite: Some(RiskGrowth)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Strategies.Delete(ctx, alice, "p", WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Strategies.Get(ctx, alice, "p"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("get after delete: %v, want not found", err)
	}
	if _, err := svc.Strategies.Delete(ctx, alice, "p", WriteOpts{}); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("second delete: %v, want not found", err)
	}
	h, err := svc.Strategies.History(ctx, alice, "p")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Deleted || h.Current != 2 || !h.Versions[0].Deleted {
		t.Fatalf("history after delete: %+v", h)
	}
	var ce *ConflictError
	if _, err := svc.Strategies.Restore(ctx, alice, "p", 2, WriteOpts{}); !errors.As(err, &ce) || ce.Code != CodeDeletedVersion {
		t.Fatalf("restoring the deletion: %v, want a %s conflict", err, CodeDeletedVersion)
	}
	doc, err := svc.Strategies.Restore(ctx, alice, "p", 1, WriteOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != 3 || doc.Strategy.RiskAppetite != RiskGrowth {
		t.Fatalf("restored: %+v", doc)
	}
}

func TestNoChangeAddsNoVersion(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	p := StrategyPatch{Universe: Some([]string{"au", "US"}), MaxPositionPct: Some(10.0)}
	first, created, err := svc.Strategies.Update(ctx, alice, "p", p, WriteOpts{})
	if err != nil || !created {
		t.Fatalf("create: created=%v, %v", created, err)
	}
	// Lower case normalises to what is stored: nothing changes.
	again, created, err := svc.Strategies.Update(ctx, alice, "p", p, WriteOpts{})
	if err != nil || created {
		t.Fatalf("same patch again: created=%v, %v", created, err)
	}
	if again.Version != first.Version || again.ETag != first.ETag {
		t.Fatalf("an unchanged strategy got version %d (etag %s), was %d (%s)", again.Version, again.ETag, first.Version, first.ETag)
	}
	if _, err := svc.Strategies.Restore(ctx, alice, "p", 1, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if h, _ := svc.Strategies.History(ctx, alice, "p"); len(h.Versions) != 1 {
		t.Fatalf("restoring the current content added a version: %+v", h.Versions)
	}
}

func TestConditions(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	patch := StrategyPatch{Notes: Some("x")}
	if _, _, err := svc.Strategies.Update(ctx, alice, "p", patch, WriteOpts{IfMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Fatalf("If-Match * on a missing strategy: %v", err)
	}
	d1, _, err := svc.Strategies.Update(ctx, alice, "p", patch, WriteOpts{IfNoneMatch: "*"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{Notes: Some("y")}, WriteOpts{IfNoneMatch: "*"}); !errors.Is(err, sdk.ErrPrecondition) {
		t.Fatalf("If-None-Match * on an existing strategy: %v", err)
	}
	d2, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{Notes: Some("y")}, WriteOpts{IfMatch: d1.ETag})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct {
		name string
		run  func(o WriteOpts) error
	}{
		{"update", func(o WriteOpts) error {
			_, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{Notes: Some("z")}, o)
			return err
		}},
		{"delete", func(o WriteOpts) error { _, err := svc.Strategies.Delete(ctx, alice, "p", o); return err }},
		{"restore", func(o WriteOpts) error { _, err := svc.Strategies.Restore(ctx, alice, "p", 1, o); return err }},
	} {
		if err := call.run(WriteOpts{IfMatch: d1.ETag}); !errors.Is(err, sdk.ErrPrecondition) {
			t.Errorf("%s with a stale ETag: %v, want a precondition error", call.name, err)
		}
	}
	if cur, _ := svc.Strategies.Get(ctx, alice, "p"); cur.Version != d2.Version || cur.Strategy.Notes != "y" {
		t.Fatalf("a failed conditional write changed the strategy: %+v", cur)
	}
}

func TestTenantsAreSeparate(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	bob := Caller{Tenant: "bob", KeyID: "key-bob"}
	if _, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{Notes: Some("alice's")}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Strategies.Get(ctx, bob, "p"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("bob reads alice's strategy: %v", err)
	}
	if _, err := svc.Strategies.History(ctx, bob, "p"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("bob reads alice's history: %v", err)
	}
	if _, err := svc.Strategies.Get(ctx, Caller{}, "p"); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Fatalf("no tenant: %v", err)
	}
}

func TestPlanTransitions(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	for _, from := range Statuses {
		for _, to := range Statuses {
			t.Run(fmt.Sprintf("%s-%s", from, to), func(t *testing.T) {
				portfolio := fmt.Sprintf("%s-%s", from, to)
				it, _, err := svc.Plans.AddItem(ctx, alice, portfolio, PlanItemPatch{
					Action: Some(ActionBuy), Ticker: Some("bhp.au"), TargetPrice: Some(40.0), Status: Some(from),
				}, WriteOpts{})
				if err != nil {
					t.Fatal(err)
				}
				if it.Ticker != "BHP.AU" {
					t.Errorf("ticker stored as %q", it.Ticker)
				}
				got, _, err := svc.Plans.UpdateItem(ctx, alice, portfolio, it.ID, PlanItemPatch{Status: Some(to)}, WriteOpts{})
				allowed := from == to || slices.Contains(Transitions[from], to)
				var ce *ConflictError
				switch {
				case allowed && err != nil:
					t.Fatalf("%s → %s refused: %v", from, to, err)
				case allowed && got.Status != to:
					t.Fatalf("%s → %s gave %s", from, to, got.Status)
				case !allowed && (!errors.As(err, &ce) || ce.Code != CodeInvalidTransition):
					t.Fatalf("%s → %s: %v, want an %s conflict", from, to, err, CodeInvalidTransition)
				}
			})
		}
	}
	// The rule the brief names: completed never goes back to pending.
	if CanTransition(StatusCompleted, StatusPending) {
		t.Fatal("completed → pending is allowed")
	}
}

func TestPlanDuplicates(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	p := PlanItemPatch{Action: Some(ActionSell), Ticker: Some("CBA.AU"), TargetDate: Some("2026-06-30")}
	first, _, err := svc.Plans.AddItem(ctx, alice, "p", p, WriteOpts{})
	if err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if _, _, err := svc.Plans.AddItem(ctx, alice, "p", p, WriteOpts{}); !errors.As(err, &ce) || ce.Code != CodeDuplicate {
		t.Fatalf("duplicate add: %v", err)
	}
	if d, ok := ce.Details.(map[string]string); !ok || d["existing_id"] != first.ID {
		t.Fatalf("duplicate details %#v, want existing_id %s", ce.Details, first.ID)
	}
	// Once the first is done, the same intent may be planned again.
	if _, _, err := svc.Plans.UpdateItem(ctx, alice, "p", first.ID, PlanItemPatch{Status: Some(StatusCompleted)}, WriteOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Plans.AddItem(ctx, alice, "p", p, WriteOpts{}); err != nil {
		t.Fatalf("re-adding after completion: %v", err)
	}
}

// TestConcurrentWriters runs writers on one watchlist at once: every change
// must land, versions must be contiguous, and each version's content must be
// the one that version committed.
func TestConcurrentWriters(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, err := svc.Watchlists.PutItem(ctx, alice, "p", fmt.Sprintf("T%d.AU", i), WatchItemPatch{Verdict: Some(VerdictWatch)}, WriteOpts{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	doc, err := svc.Watchlists.Get(ctx, alice, "p")
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Watchlist.Items) != writers || doc.Version != writers {
		t.Fatalf("%d items at version %d, want %d and %d", len(doc.Watchlist.Items), doc.Version, writers, writers)
	}
	var prev []string
	for v := 1; v <= writers; v++ {
		ver, err := svc.Watchlists.Version(ctx, alice, "p", v)
		if err != nil {
			t.Fatal(err)
		}
		var tickers []string
		for _, it := range ver.Watchlist.Items {
			tickers = append(tickers, it.Ticker)
		}
		if len(tickers) != v {
			t.Fatalf("version %d holds %v", v, tickers)
		}
		for _, p := range prev {
			if !slices.Contains(tickers, p) {
				t.Fatalf("version %d (%v) lost %s from version %d", v, tickers, p, v-1)
			}
		}
		prev = tickers
	}
}

func TestBadNames(t *testing.T) {
	svc, _ := newService(t, Options{})
	ctx := context.Background()
	for _, name := range []string{"", "a/b", "..", "x\x00y", strings.Repeat("n", MaxPortfolioNameLength+1)} {
		_, err := svc.Strategies.Get(ctx, alice, name)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != "name" {
			t.Errorf("portfolio name %q: %v, want a validation error on name", name, err)
		}
	}
}
