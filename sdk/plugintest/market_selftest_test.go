package plugintest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

const marketDefectEnv = "PLUGINTEST_MARKET_DEFECT"

func memHarness(defect string) MarketHarness {
	return MarketHarness{
		Open:    func(*testing.T) sdk.MarketData { return &memMarket{defect: defect} },
		Known:   []string{"AAA.AU", "BBB.US"},
		Unknown: "ZZZ.AU",
		From:    "2020-06-01", To: "2020-10-30",
		Dividends: "AAA.AU", Splits: "BBB.US",
	}
}

// TestReferenceMarketPasses proves the market suite accepts a correct
// source.
func TestReferenceMarketPasses(t *testing.T) {
	RunMarketData(t, memHarness(""))
}

// TestMarketSuiteCatchesDefects proves the market suite is not toothless:
// each deliberately broken source must fail the named subtest.
func TestMarketSuiteCatchesDefects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary once per defect")
	}
	cases := []struct{ defect, run string }{
		{"zero-missing", "History"},
		{"descending", "History"},
		{"outside-range", "History"},
		{"daily-weeks", "Periods"},
		{"unknown-empty", "UnknownTicker"},
		{"double-kind", "UnknownTicker"},
		{"unknown-quote-error", "Quotes"},
		{"lenient-ticker", "MalformedArguments"},
		{"div-range-ignored", "Dividends"},
		{"search-miss", "Search"},
	}
	for _, tc := range cases {
		t.Run(tc.defect, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run", "^TestMarketDefect$/^"+tc.run+"$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), marketDefectEnv+"="+tc.defect)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a source with defect %q:\n%s", tc.defect, out)
			}
			if want := "--- FAIL: TestMarketDefect/" + tc.run; !strings.Contains(string(out), want) {
				t.Fatalf("defect %q: output lacks %q:\n%s", tc.defect, want, out)
			}
		})
	}
}

// TestMarketDefect runs the market suite against a broken source; only
// TestMarketSuiteCatchesDefects starts it, in a child process.
func TestMarketDefect(t *testing.T) {
	defect := os.Getenv(marketDefectEnv)
	if defect == "" {
		t.Skip("run by TestMarketSuiteCatchesDefects in a child process")
	}
	RunMarketData(t, memHarness(defect))
}
