package documents

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/vire-dev/vire/backends/file"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/plugins/keys/env"
	"github.com/vire-dev/vire/sdk"
)

// benchService is the service over an encrypted store on the file backend
// (without fsync), as a personal server runs it less the disk syncs.
func benchService(b *testing.B) *Service {
	ctx := context.Background()
	be := file.New(nil)
	if err := sdk.Configure(ctx, be, sdk.ConfigValue{"root": b.TempDir(), "fsync": false}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	kp := env.New(nil)
	if err := sdk.Configure(ctx, kp, sdk.ConfigValue{"master_key": base64.StdEncoding.EncodeToString(key)}); err != nil {
		b.Fatal(err)
	}
	e, err := crypt.New(crypt.Options{Provider: kp, ProviderID: "env", Keyrings: store.NewKeyrings(be, store.Layout{})})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	st, err := store.New(store.Options{Backend: be, Sealer: e})
	if err != nil {
		b.Fatal(err)
	}
	return New(st, Options{})
}

func BenchmarkStrategyUpdate(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{Notes: Some(fmt.Sprint(i))}, WriteOpts{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStrategyGet(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	if _, _, err := svc.Strategies.Update(ctx, alice, "p", StrategyPatch{Notes: Some("x")}, WriteOpts{}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := svc.Strategies.Get(ctx, alice, "p"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanUpdateItem edits one item of a plan of 200 items: every
// edit rewrites the plan record and one snapshot.
func BenchmarkPlanUpdateItem(b *testing.B) {
	svc := benchService(b)
	ctx := context.Background()
	var id string
	for i := range 200 {
		it, _, err := svc.Plans.AddItem(ctx, alice, "p", PlanItemPatch{Action: Some(ActionBuy), Ticker: Some(fmt.Sprintf("T%d.AU", i)),
			TargetPrice: Some(10.0), Notes: Some("a note of a realistic length, a sentence or two about why")}, WriteOpts{})
		if err != nil {
			b.Fatal(err)
		}
		id = it.ID
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, _, err := svc.Plans.UpdateItem(ctx, alice, "p", id, PlanItemPatch{Notes: Some(fmt.Sprint(i))}, WriteOpts{}); err != nil {
			b.Fatal(err)
		}
	}
}
