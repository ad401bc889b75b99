package sample_test

import (
	"context"
	"testing"
	"time"

	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/internal/testbuild"
	"github.com/vire-dev/vire/plugins/sources/sample"
	"github.com/vire-dev/vire/sdk"
	"github.com/vire-dev/vire/sdk/plugintest"
)

var conformanceConfig = sdk.ConfigValue{"seed": 7, "as_of": "2026-11-27"}

// harness describes the sample universe: BHP.AU pays dividends twice a
// year and AAPL.US split 4-for-1 on 2020-08-31.
func harness(open func(t *testing.T) sdk.MarketData) plugintest.MarketHarness {
	return plugintest.MarketHarness{
		Open:      open,
		Known:     []string{"BHP.AU", "AAPL.US", "VAS.AU"},
		Unknown:   "NOPE.AU",
		From:      "2020-06-01",
		To:        "2020-10-30",
		Dividends: "BHP.AU",
		Splits:    "AAPL.US",
	}
}

func TestConformance(t *testing.T) {
	h := harness(func(t *testing.T) sdk.MarketData {
		src := sample.New(nil)
		cfg, err := src.Schema().Complete(conformanceConfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Configure(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
		return src
	})
	t.Run("ByCode", func(t *testing.T) { plugintest.RunMarketData(t, h) })
	// The sample searches names as well as codes.
	h.Known, h.Search = []string{"CBA.AU", "JNJ.US"}, "Commonwealth"
	h.Dividends, h.Splits = "", ""
	t.Run("ByName", func(t *testing.T) { plugintest.RunMarketData(t, h) })
}

// TestConformanceBinary runs the suite through vire-plugin-sample, started
// as the host starts it: every reply and error crosses gRPC.
func TestConformanceBinary(t *testing.T) {
	h := pluginhost.New(pluginhost.Options{HealthInterval: -1})
	t.Cleanup(h.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p, err := h.Start(ctx, pluginhost.Spec{Name: "sample", Path: testbuild.Binary(t, "./cmd/vire-plugin-sample")})
	if err != nil {
		t.Fatal(err)
	}
	md, _, err := p.Source(ctx, conformanceConfig)
	if err != nil {
		t.Fatal(err)
	}
	plugintest.RunMarketData(t, harness(func(*testing.T) sdk.MarketData { return md }))
}
