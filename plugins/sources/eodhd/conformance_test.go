package eodhd_test

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/fakeeodhd"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/plugins/sources/eodhd"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

const conformanceKey = "conformance.key.8d1f"

// harness describes what the fake EODHD holds: BHP.AU pays dividends twice
// a year and AAPL.US split 4-for-1 on 2020-08-31.
func harness(open func(t *testing.T) sdk.MarketData) plugintest.MarketHarness {
	return plugintest.MarketHarness{
		Open:      open,
		Known:     []string{"BHP.AU", "AAPL.US", "VAS.AU"},
		Unknown:   "NOPE.AU",
		From:      "2020-06-01",
		To:        "2020-10-30",
		Dividends: "BHP.AU",
		Splits:    "AAPL.US",
		Search:    "BHP",
	}
}

func newFake(t *testing.T) *fakeeodhd.Server {
	fake := fakeeodhd.New(fakeeodhd.Options{Tokens: []string{conformanceKey}, Today: "2026-11-27"})
	t.Cleanup(fake.Close)
	return fake
}

func TestConformance(t *testing.T) {
	plugintest.RunMarketData(t, harness(func(t *testing.T) sdk.MarketData {
		fake := newFake(t)
		src := eodhd.New(hclog.NewNullLogger())
		cfg, err := src.Schema().Complete(sdk.ConfigValue{"api_key": conformanceKey, "base_url": fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Configure(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
		return src
	}))
}

// TestConformanceBinary runs the suite through vire-plugin-eodhd, started
// as the host starts it: every reply and error crosses gRPC.
func TestConformanceBinary(t *testing.T) {
	h := pluginhost.New(pluginhost.Options{HealthInterval: -1})
	t.Cleanup(h.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p, err := h.Start(ctx, pluginhost.Spec{Name: "eodhd", Path: testbuild.Binary(t, "./cmd/vire-plugin-eodhd")})
	if err != nil {
		t.Fatal(err)
	}
	plugintest.RunMarketData(t, harness(func(t *testing.T) sdk.MarketData {
		// One process serves every subtest; each subtest points it at a
		// fresh fake server.
		fake := newFake(t)
		md, _, err := p.Source(t.Context(), sdk.ConfigValue{"api_key": conformanceKey, "base_url": fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		return md
	}))
}
