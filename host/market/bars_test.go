package market

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vire-dev/vire/sdk"
)

func f(v float64) *float64 { return &v }

// bars builds daily bars from "date:close" pairs; close "-" is missing.
func bars(spec string) []sdk.Bar {
	var out []sdk.Bar
	for _, p := range strings.Fields(spec) {
		date, c, _ := strings.Cut(p, ":")
		b := sdk.Bar{Date: date}
		if v, err := strconv.ParseFloat(c, 64); err == nil {
			b.Close = f(v)
		}
		out = append(out, b)
	}
	return out
}

func show(p *float64) string {
	if p == nil {
		return "-"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

func dates(bs []sdk.Bar) string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Date+":"+show(b.Close))
	}
	return strings.Join(out, " ")
}

func TestMergeBars(t *testing.T) {
	cases := []struct {
		name, stored, incoming, want string
		added                        int
	}{
		{"into nothing", "", "2024-01-03:3 2024-01-02:2", "2024-01-02:2 2024-01-03:3", 2},
		{"shorter reply keeps the rest", "2024-01-01:1 2024-01-02:2 2024-01-03:3", "2024-01-03:9", "2024-01-01:1 2024-01-02:2 2024-01-03:9", 0},
		{"new bars appended", "2024-01-01:1 2024-01-02:2", "2024-01-02:2 2024-01-03:3 2024-01-04:4", "2024-01-01:1 2024-01-02:2 2024-01-03:3 2024-01-04:4", 2},
		{"gap filled", "2024-01-01:1 2024-01-04:4", "2024-01-02:2 2024-01-03:3", "2024-01-01:1 2024-01-02:2 2024-01-03:3 2024-01-04:4", 2},
		{"empty reply changes nothing", "2024-01-01:1", "", "2024-01-01:1", 0},
		{"later duplicate wins", "", "2024-01-02:5 2024-01-02:6", "2024-01-02:6", 1},
		{"bad dates dropped", "2024-01-01:1", "2024-1-2:7 2024-02-30:8 nonsense:9", "2024-01-01:1", 0},
		{"correction to missing", "2024-01-01:1", "2024-01-01:-", "2024-01-01:-", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := bars(tc.incoming)
			for i := range in {
				in[i].Ticker = "X.AU"
			}
			got, added := mergeBars(bars(tc.stored), in)
			if dates(got) != tc.want || added != tc.added {
				t.Errorf("got %q (+%d), want %q (+%d)", dates(got), added, tc.want, tc.added)
			}
			for _, b := range got {
				if b.Ticker != "" {
					t.Errorf("stored bar %s keeps its ticker", b.Date)
				}
			}
		})
	}
}

func TestSuspectDates(t *testing.T) {
	cases := []struct {
		name, bars string
		want       []string
	}{
		{"spike up and back", "2024-01-01:100 2024-01-02:101 2024-01-03:150 2024-01-04:102 2024-01-05:103", []string{"2024-01-03"}},
		{"spike down and back", "2024-01-01:100 2024-01-02:60 2024-01-03:100", []string{"2024-01-02"}},
		{"under 40% is no spike", "2024-01-01:100 2024-01-02:135 2024-01-03:100", nil},
		{"a lasting step (a split in raw closes)", "2024-01-01:400 2024-01-02:400 2024-01-03:100 2024-01-04:101", nil},
		{"a step up with noise", "2024-01-01:100 2024-01-02:202 2024-01-03:200 2024-01-04:201", nil},
		{"neighbours disagree: a zig-zag is not one bad bar", "2024-01-01:100 2024-01-02:300 2024-01-03:180", nil},
		{"first and last bars have one neighbour", "2024-01-01:300 2024-01-02:100 2024-01-03:100 2024-01-04:300", nil},
		{"missing closes are skipped", "2024-01-01:100 2024-01-02:- 2024-01-03:200 2024-01-04:- 2024-01-05:101", []string{"2024-01-03"}},
		{"too short", "2024-01-01:100 2024-01-02:500", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := suspectDates(bars(tc.bars)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestShape(t *testing.T) {
	daily := []sdk.Bar{
		{Date: "2024-01-29", Open: f(10), High: f(12), Low: f(9), Close: f(11), AdjustedClose: f(5.5), Volume: f(100)},
		{Date: "2024-01-30", Open: nil, High: f(15), Low: nil, Close: f(14), AdjustedClose: f(7), Volume: nil},
		{Date: "2024-01-31", Open: f(14), High: f(14), Low: f(8), Close: nil, AdjustedClose: nil, Volume: f(50)},
		{Date: "2024-02-01", Open: nil, High: nil, Low: nil, Close: f(13), AdjustedClose: f(6.5), Volume: f(0)},
		{Date: "2024-02-05", Open: f(13), High: f(13), Low: f(13), Close: f(13), AdjustedClose: f(6.5), Volume: f(1)},
	}
	row := func(b Bar) string {
		return strings.Join([]string{b.Date, show(b.Open), show(b.High), show(b.Low), show(b.Close), show(b.AdjustedClose),
			show(b.Volume), map[bool]string{true: "suspect", false: "ok"}[b.Suspect], b.Ticker}, " ")
	}
	cases := []struct {
		period sdk.Period
		want   []string
	}{
		{sdk.Weekly, []string{
			"2024-01-29 10 15 8 13 6.5 150 suspect X.AU", // Monday to Thursday of one ISO week
			"2024-02-05 13 13 13 13 6.5 1 ok X.AU",
		}},
		{sdk.Monthly, []string{
			"2024-01-29 10 15 8 14 7 150 suspect X.AU", // the last close of January is the 30th's: the 31st has none
			"2024-02-01 13 13 13 13 6.5 1 ok X.AU",
		}},
	}
	for _, tc := range cases {
		got := shape(daily, tc.period, "X.AU", []string{"2024-01-30"})
		var rows []string
		for _, b := range got {
			rows = append(rows, row(b))
		}
		if !slices.Equal(rows, tc.want) {
			t.Errorf("period %s:\n got %q\nwant %q", tc.period, rows, tc.want)
		}
	}
	d := shape(daily, sdk.Daily, "X.AU", []string{"2024-01-30"})
	if len(d) != len(daily) || !d[1].Suspect || d[0].Suspect || d[2].Ticker != "X.AU" || d[3].Volume == nil || *d[3].Volume != 0 {
		t.Errorf("daily: %+v", d)
	}
	if daily[0].Ticker != "" {
		t.Error("shape changed the stored bars")
	}
}
