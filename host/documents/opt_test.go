package documents

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// TestPatchRoundTrip: a patch encodes to the JSON it came from, so absent,
// null and set stay apart across an encode and decode.
func TestPatchRoundTrip(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"notes":null}`,
		`{"notes":""}`,
		`{"universe":["AU"],"max_position_pct":null,"target_allocation":{"cash":null,"equities":60}}`,
		`{"target_allocation":null,"risk_appetite":"growth"}`,
	} {
		var p StrategyPatch
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		_ = json.Unmarshal([]byte(in), &a)
		_ = json.Unmarshal(out, &b)
		if !bytes.Equal(mustJSON(t, a), mustJSON(t, b)) {
			t.Errorf("%s encoded back as %s", in, out)
		}
	}
	// Built in Go, the same three states.
	p := StrategyPatch{Notes: Null[string](), MaxSectorPct: Some(30.0)}
	out, _ := json.Marshal(p)
	if string(out) != `{"max_sector_pct":30,"notes":null}` {
		t.Fatalf("Go-built patch encodes as %s", out)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzStrategyPatch decodes arbitrary patches and applies them to a full
// strategy: nothing may panic, a strategy that validates must survive an
// encode and decode unchanged, and validation must report fields.
func FuzzStrategyPatch(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"notes":null}`, `{"universe":["au","US","AU"]}`,
		`{"target_allocation":{"a":60,"b":50}}`, `{"target_allocation":{"a":null}}`,
		`{"max_position_pct":20,"max_sector_pct":10}`, `{"risk_appetite":"x"}`,
		`{"allowed_sectors":["E"],"excluded_sectors":["e"]}`, `{"notes":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	base := Strategy{Universe: []string{"AU"}, AllowedSectors: []string{"Energy"}, MaxPositionPct: ptr(5.0), MaxSectorPct: ptr(20.0),
		TargetAllocation: map[string]float64{"equities": 60, "cash": 10}, RiskAppetite: RiskBalanced, Notes: "n"}.normalized()
	f.Fuzz(func(t *testing.T, data []byte) {
		var p StrategyPatch
		if json.Unmarshal(data, &p) != nil {
			return
		}
		next := p.Apply(base)
		err := next.Validate()
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 {
				t.Fatalf("validation error without fields: %v", err)
			}
			return
		}
		enc, err := json.Marshal(next)
		if err != nil {
			t.Fatal(err)
		}
		var back Strategy
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatal(err)
		}
		if !sameJSON(back.normalized(), next) {
			t.Fatalf("%s changed on a round trip", enc)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("a valid strategy fails validation after a round trip: %v", err)
		}
	})
}
