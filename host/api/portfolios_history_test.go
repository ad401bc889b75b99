package api

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vire-dev/vire/host/documents"
)

// TestHistoryAndRestore: ten edits of each document, a restore of the third,
// and the history shows eleven versions, newest first, with time and key id.
func TestHistoryAndRestore(t *testing.T) {
	s := newTestServer(t)
	kinds := []struct {
		doc  string
		edit func(i int) (method, path, body string)
		// content extracts what version i must hold.
		content func(t *testing.T, body []byte) string
	}{
		{"strategy",
			func(i int) (string, string, string) {
				return "PUT", base + "/strategy", fmt.Sprintf(`{"notes":"edit %d"}`, i)
			},
			func(t *testing.T, body []byte) string {
				var d struct{ Strategy documents.Strategy }
				if err := json.Unmarshal(body, &d); err != nil {
					t.Fatal(err)
				}
				return d.Strategy.Notes
			}},
		{"plan",
			func(i int) (string, string, string) {
				return "POST", base + "/plan/items", fmt.Sprintf(`{"action":"buy","ticker":"T%d.AU","target_price":%d}`, i, i)
			},
			func(t *testing.T, body []byte) string {
				var d struct{ Plan documents.Plan }
				if err := json.Unmarshal(body, &d); err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("%d items", len(d.Plan.Items))
			}},
		{"watchlist",
			func(i int) (string, string, string) {
				return "PUT", base + "/watchlist/items/BHP.AU", fmt.Sprintf(`{"notes":"edit %d"}`, i)
			},
			func(t *testing.T, body []byte) string {
				var d struct{ Watchlist documents.Watchlist }
				if err := json.Unmarshal(body, &d); err != nil {
					t.Fatal(err)
				}
				return d.Watchlist.Items[0].Notes
			}},
	}
	for _, k := range kinds {
		t.Run(k.doc, func(t *testing.T) {
			want := map[int]string{}
			for i := 1; i <= 10; i++ {
				m, p, b := k.edit(i)
				if r := s.do(t, "alice", m, p, b); r.status >= 300 {
					t.Fatalf("edit %d: %d %s", i, r.status, r.body)
				}
				cur := s.must(t, 200, "GET", base+"/"+k.doc, "")
				want[i] = k.content(t, cur.body)
			}
			r := s.must(t, 200, "POST", base+"/"+k.doc+"/restore", `{"version":3}`)
			if got := k.content(t, r.body); got != want[3] {
				t.Fatalf("restore answered %q, want version 3's %q", got, want[3])
			}
			want[11] = want[3]
			var h documents.History
			s.must(t, 200, "GET", base+"/"+k.doc+"/history", "").decode(t, &h)
			if len(h.Versions) != 11 || h.Current != 11 || h.Deleted {
				t.Fatalf("history: current %d, %d versions, deleted %v", h.Current, len(h.Versions), h.Deleted)
			}
			for i, v := range h.Versions {
				if v.Version != 11-i || v.KeyID != s.keyIDs["alice"] || v.Time.IsZero() || v.Change == "" {
					t.Errorf("history[%d] = %+v", i, v)
				}
				if i > 0 && v.Time.After(h.Versions[i-1].Time) {
					t.Errorf("version %d is later than version %d", v.Version, h.Versions[i-1].Version)
				}
			}
			if h.Versions[0].RestoredFrom != 3 {
				t.Errorf("version 11: %+v, want restored_from 3", h.Versions[0])
			}
			for v := 1; v <= 11; v++ {
				r := s.must(t, 200, "GET", fmt.Sprintf("%s/%s/history/%d", base, k.doc, v), "")
				if got := k.content(t, r.body); got != want[v] {
					t.Errorf("version %d holds %q, want %q", v, got, want[v])
				}
			}
			cur := s.must(t, 200, "GET", base+"/"+k.doc, "")
			if got := k.content(t, cur.body); got != want[3] {
				t.Fatalf("current content %q, want %q", got, want[3])
			}
		})
	}
}
