package sample_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/plugins/sources/sample"
	"github.com/vire-dev/vire/sdk"
)

// TestBinary runs vire-plugin-sample as the host does: one process serves
// both MarketData and PortfolioSource, and what it serves over gRPC equals
// what the package serves in-process.
func TestBinary(t *testing.T) {
	h := pluginhost.New(pluginhost.Options{HealthInterval: -1})
	defer h.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p, err := h.Start(ctx, pluginhost.Spec{Name: "sample", Path: testbuild.Binary(t, "./cmd/vire-plugin-sample")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sdk.ConfigValue{"seed": 5, "as_of": "2026-11-27"}
	md, ps, err := p.Source(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if md == nil || ps == nil {
		t.Fatalf("the sample serves both interfaces: %v %v", md, ps)
	}
	local := sample.New(nil)
	full, _ := local.Schema().Complete(cfg)
	if err := local.Configure(ctx, full); err != nil {
		t.Fatal(err)
	}

	remote, err := md.History(ctx, sdk.Credentials{}, "AAPL.US", sdk.HistoryQuery{From: "2020-08-01", To: "2020-09-30"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := local.History(ctx, sdk.Credentials{}, "AAPL.US", sdk.HistoryQuery{From: "2020-08-01", To: "2020-09-30"})
	if len(remote) != len(want) || len(want) == 0 {
		t.Fatalf("%d bars over gRPC, %d in-process", len(remote), len(want))
	}
	for i := range want {
		if *remote[i].Close != *want[i].Close || *remote[i].AdjustedClose != *want[i].AdjustedClose || remote[i].Date != want[i].Date {
			t.Fatalf("bar %d differs: %+v vs %+v", i, remote[i], want[i])
		}
	}
	f, err := md.Fundamentals(ctx, sdk.Credentials{}, "VAS.AU")
	if err != nil || f.PERatio != nil || f.Beta == nil {
		t.Fatalf("fundamentals: %+v %v", f, err)
	}
	perf, err := ps.Performance(ctx, sdk.Credentials{}, sample.PortfolioID, "", "")
	localPerf, _ := local.Performance(ctx, sdk.Credentials{}, sample.PortfolioID, "", "")
	if err != nil || perf.Total != localPerf.Total {
		t.Fatalf("performance: %+v vs %+v (%v)", perf.Total, localPerf.Total, err)
	}
	if _, err := ps.Trades(ctx, sdk.Credentials{}, "nope"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("unknown holding: %v", err)
	}
	if _, err := md.History(ctx, sdk.Credentials{}, "BHP", sdk.HistoryQuery{}); !errors.Is(err, sdk.ErrInvalidArgument) {
		t.Fatalf("bad ticker: %v", err)
	}
	_, _, err = p.Source(ctx, sdk.ConfigValue{"as_of": "2020-01-01"})
	var ce sdk.ConfigErrors
	if !errors.As(err, &ce) || ce[0].Attribute != "as_of" {
		t.Fatalf("bad as_of: %v", err)
	}
}
