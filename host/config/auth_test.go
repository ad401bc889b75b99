package config

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func TestScopeRateLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		opts LoadOptions
		want map[string]int
	}{
		{name: "unset", src: minimal, want: nil},
		{name: "an object", src: minimal + "auth {\n  scope_rate_limits = { write = 120, admin = 30 }\n}\n",
			want: map[string]int{"write": 120, "admin": 30}},
		{name: "quoted keys, zero and a number as a string", src: minimal + "auth {\n  scope_rate_limits = {\n    \"read\" = 0\n    write  = \"7\"\n  }\n}\n",
			want: map[string]int{"read": 0, "write": 7}},
		{name: "a null rate leaves the scope on the default budget", src: minimal + "auth {\n  scope_rate_limits = { write = 5, admin = null }\n}\n",
			want: map[string]int{"write": 5}},
		{name: "empty", src: minimal + "auth {\n  scope_rate_limits = {}\n}\n", want: map[string]int{}},
		{name: "null", src: minimal + "auth {\n  scope_rate_limits = null\n}\n", want: nil},
		{name: "a variable set from the environment",
			src:  "variable \"limits\" {\n  type = map(number)\n}\n" + minimal + "auth {\n  scope_rate_limits = var.limits\n}\n",
			opts: LoadOptions{LookupEnv: EnvironLookup([]string{`VIRE_VAR_limits={ admin = 3 }`})},
			want: map[string]int{"admin": 3}},
		{name: "a for expression", src: minimal + "auth {\n  scope_rate_limits = { for s in [\"write\", \"admin\"] : s => 10 }\n}\n",
			want: map[string]int{"write": 10, "admin": 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.src, tt.opts)
			got := c.Auth.ScopeRateLimits
			if (got == nil) != (tt.want == nil) || !maps.Equal(got, tt.want) {
				t.Fatalf("ScopeRateLimits = %#v, want %#v", got, tt.want)
			}
			if c.Auth.RateLimit != DefaultRateLimit || c.Auth.RateBurst != DefaultRateBurst {
				t.Fatalf("the default budget changed: %+v", c.Auth)
			}
		})
	}
}

// TestScopeRateLimitsRendering: String and JSON show the scope budgets, in
// a fixed order, and leave them out when there are none.
func TestScopeRateLimitsRendering(t *testing.T) {
	c := mustLoad(t, minimal+"auth {\n  rate_limit        = 600\n  scope_rate_limits = { write = 120, admin = 30 }\n}\n", LoadOptions{})
	if s := c.String(); !strings.Contains(s, "auth{mode=\"none\" rate_limit=600 rate_burst=60 scope_rate_limits={admin=30 write=120}}") {
		t.Errorf("String() = %s", s)
	}
	var v struct {
		Auth map[string]any `json:"auth"`
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	scopes, _ := v.Auth["scope_rate_limits"].(map[string]any)
	if len(scopes) != 2 || scopes["write"] != float64(120) || scopes["admin"] != float64(30) {
		t.Errorf("JSON auth = %v", v.Auth)
	}

	c = mustLoad(t, minimal, LoadOptions{})
	if s := c.String(); strings.Contains(s, "scope_rate_limits") || !strings.Contains(s, "rate_burst=60}") {
		t.Errorf("String() without scope budgets = %s", s)
	}
	if b, err := json.Marshal(c); err != nil || strings.Contains(string(b), "scope_rate_limits") {
		t.Errorf("JSON without scope budgets = %s %v", b, err)
	}
}
