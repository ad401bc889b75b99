package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// markType is private so no other package's marks collide with ours.
type markType string

// sensitiveMark is the cty mark carried by sensitive values. Marks survive
// expressions and function calls, so a value computed from a secret is a
// secret too.
const sensitiveMark markType = "sensitive"

const redactedText = "(sensitive)"

// minRedactLen is the shortest secret scrubbed from diagnostic text; shorter
// strings would turn ordinary words into noise.
const minRedactLen = 4

// secretSet remembers what must never be shown: the clear text of every
// sensitive value, and the source ranges of sensitive attributes, whose
// snippets may hold a literal secret.
type secretSet struct {
	values map[string]bool
	ranges []hcl.Range
}

func (s *secretSet) addRange(r hcl.Range) { s.ranges = append(s.ranges, r) }

// collect records the strings inside v that are sensitive: all of them when
// all is set, otherwise those reached through a sensitive mark.
func (s *secretSet) collect(v cty.Value, all bool) {
	if v == cty.NilVal {
		return
	}
	if v.HasMark(sensitiveMark) {
		all = true
	}
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		if all {
			s.add(v.AsString())
		}
	case ty == cty.Number:
		// Only numbers of a size anyone would print: the decimal form of
		// 1e100000000 alone would take seconds to build.
		if bf := v.AsBigFloat(); all && bf.MantExp(nil) <= 128 {
			s.add(bf.Text('f', -1))
		}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			s.collect(e, all)
		}
	}
}

func (s *secretSet) add(v string) {
	if len(v) < minRedactLen {
		return
	}
	if s.values == nil {
		s.values = map[string]bool{}
	}
	s.values[v] = true
}

func (s *secretSet) redact(text string) string {
	if len(s.values) == 0 || text == "" {
		return text
	}
	// Longest first, so a secret containing another is scrubbed whole.
	vals := make([]string, 0, len(s.values))
	for v := range s.values {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		text = strings.ReplaceAll(text, v, redactedText)
	}
	return text
}

func (s *secretSet) coversSource(r *hcl.Range) bool {
	if r == nil {
		return false
	}
	for _, sr := range s.ranges {
		if sr.Filename == r.Filename && sr.Overlaps(*r) {
			return true
		}
	}
	return false
}

// sanitize makes diagnostics safe to show and ties them to their source.
// A diagnostic about an expression that reads a sensitive value loses its
// expression and evaluation context (HCL's text writer would print the
// values of the variables involved), and a failed function call on a secret
// loses its detail, which may quote the argument. Diagnostics whose source
// range holds a sensitive attribute are marked so the writers show no
// snippet. Any secret's clear text left in a summary or detail is replaced.
func (c *Config) sanitize(diags hcl.Diagnostics) hcl.Diagnostics {
	s := c.secrets
	if s == nil {
		s = &secretSet{}
	}
	for _, d := range diags {
		if d == nil {
			continue
		}
		if d.Subject != nil && d.Subject.Filename == "" {
			// HCL gives a few diagnostics an empty range; a position that
			// names no file is worse than none.
			d.Subject, d.Context = nil, nil
		}
		if d.Expression != nil && d.EvalContext != nil && readsSensitive(d.Expression, d.EvalContext) {
			hideValueDetails(hcl.Diagnostics{d})
		}
		hidden := s.coversSource(d.Subject) || s.coversSource(d.Context)
		if hidden {
			d.Expression, d.EvalContext = nil, nil
		}
		if x, ok := d.Extra.(*diagExtra); ok {
			x.hidden = x.hidden || hidden
			x.files = c.Files
		} else {
			d.Extra = &diagExtra{files: c.Files, hidden: hidden, wrapped: d.Extra}
		}
		d.Summary = s.redact(d.Summary)
		d.Detail = s.redact(d.Detail)
	}
	return diags
}

// mayHoldLiteral reports whether an expression's source may spell out a
// secret: it holds a string or number literal other than the name given to
// env() or file(). A bare reference such as var.master_key is safe to show.
func mayHoldLiteral(expr hcl.Expression) bool {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		return true
	}
	w := &literalFinder{}
	hclsyntax.Walk(e, w)
	return w.found
}

type literalFinder struct {
	found bool
	// inName counts the env() and file() calls being walked, whose
	// arguments name a secret's location rather than hold it.
	inName int
}

func (w *literalFinder) Enter(n hclsyntax.Node) hcl.Diagnostics {
	switch x := n.(type) {
	case *hclsyntax.FunctionCallExpr:
		if x.Name == "env" || x.Name == "file" {
			w.inName++
		}
	case *hclsyntax.LiteralValueExpr:
		if w.inName == 0 && (x.Val.Type() == cty.String || x.Val.Type() == cty.Number) {
			w.found = true
		}
	}
	return nil
}

func (w *literalFinder) Exit(n hclsyntax.Node) hcl.Diagnostics {
	if x, ok := n.(*hclsyntax.FunctionCallExpr); ok && (x.Name == "env" || x.Name == "file") {
		w.inName--
	}
	return nil
}

// hideValueDetails strips everything that could describe a sensitive value
// from diagnostics raised while evaluating it.
func hideValueDetails(diags hcl.Diagnostics) {
	for _, d := range diags {
		d.Expression, d.EvalContext = nil, nil
		if fc, ok := hcl.DiagnosticExtra[hclsyntax.FunctionCallDiagExtra](d); ok {
			d.Detail = fmt.Sprintf("The call to %s() failed on a sensitive value; the details are hidden so the value is not revealed.", fc.CalledFunctionName())
		}
	}
}

func readsSensitive(expr hcl.Expression, ctx *hcl.EvalContext) bool {
	for _, t := range expr.Variables() {
		if t.IsRelative() {
			continue
		}
		v, diags := t.TraverseAbs(ctx)
		if diags.HasErrors() {
			continue
		}
		if v.ContainsMarked() {
			return true
		}
	}
	return false
}

// diagExtra travels with every diagnostic this package returns: the files
// it refers to, so DiagnosticsJSON can show snippets, and whether its source
// must stay hidden because it holds a sensitive value.
type diagExtra struct {
	files   map[string]*hcl.File
	hidden  bool
	wrapped any
}

func (x *diagExtra) UnwrapDiagnosticExtra() any { return x.wrapped }

func extraOf(d *hcl.Diagnostic) *diagExtra {
	x, _ := hcl.DiagnosticExtra[*diagExtra](d)
	return x
}

func sourceHidden(d *hcl.Diagnostic) bool {
	x := extraOf(d)
	return x != nil && x.hidden
}

// String describes the component without any sensitive value.
func (c Component) String() string {
	var b strings.Builder
	b.WriteString(c.Address())
	b.WriteString(" {")
	if c.Value != nil {
		red := c.Redacted()
		keys := make([]string, 0, len(red))
		for k := range red {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s = %s", k, displayValue(red[k]))
		}
		b.WriteString(" ")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is the same as String, so %#v cannot print secrets either.
func (c Component) GoString() string { return c.String() }

// Format makes every fmt verb print String, so no verb walks the fields.
func (c Component) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

func displayValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// MarshalJSON writes the component with sensitive values redacted.
func (c Component) MarshalJSON() ([]byte, error) {
	type view struct {
		Kind   string         `json:"kind"`
		Plugin string         `json:"plugin"`
		Name   string         `json:"name"`
		Value  map[string]any `json:"value,omitempty"`
	}
	v := view{Kind: string(c.Kind), Plugin: c.Plugin, Name: c.Name}
	if c.Value != nil {
		v.Value = c.Redacted()
	}
	return json.Marshal(v)
}

// String summarises the configuration without any sensitive value.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config{dir=%q server{listen=%q log_level=%q log_format=%q shutdown_timeout=%s allow_remote_without_auth=%t}",
		c.Dir, c.Server.Listen, c.Server.LogLevel, c.Server.LogFormat, c.Server.ShutdownTimeout, c.Server.AllowRemoteWithoutAuth)
	fmt.Fprintf(&b, " auth{mode=%q rate_limit=%d rate_burst=%d", c.Auth.Mode, c.Auth.RateLimit, c.Auth.RateBurst)
	if len(c.Auth.ScopeRateLimits) > 0 {
		b.WriteString(" scope_rate_limits={")
		for i, s := range slices.Sorted(maps.Keys(c.Auth.ScopeRateLimits)) {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s=%d", s, c.Auth.ScopeRateLimits[s])
		}
		b.WriteString("}")
	}
	fmt.Fprintf(&b, "} plugin_dir=%q", c.PluginDir)
	for _, comp := range c.Components() {
		b.WriteString(" ")
		b.WriteString(comp.String())
	}
	for _, p := range c.Plugins {
		fmt.Fprintf(&b, " plugin %q{path=%q sha256=%q env=%q}", p.Name, p.Path, p.SHA256, p.Env)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is the same as String.
func (c Config) GoString() string { return c.String() }

// Format makes every fmt verb print String.
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// MarshalJSON writes the configuration with sensitive values redacted.
func (c Config) MarshalJSON() ([]byte, error) {
	type server struct {
		Listen                 string `json:"listen"`
		LogLevel               string `json:"log_level"`
		LogFormat              string `json:"log_format"`
		ShutdownTimeout        string `json:"shutdown_timeout"`
		AllowRemoteWithoutAuth bool   `json:"allow_remote_without_auth"`
	}
	type auth struct {
		Mode            string         `json:"mode"`
		RateLimit       int            `json:"rate_limit"`
		RateBurst       int            `json:"rate_burst"`
		ScopeRateLimits map[string]int `json:"scope_rate_limits,omitempty"`
	}
	type plugin struct {
		Name   string   `json:"name"`
		Path   string   `json:"path,omitempty"`
		SHA256 string   `json:"sha256,omitempty"`
		Env    []string `json:"env,omitempty"`
	}
	v := struct {
		Server     server       `json:"server"`
		Auth       auth         `json:"auth"`
		PluginDir  string       `json:"plugin_dir"`
		Components []*Component `json:"components"`
		Plugins    []plugin     `json:"plugins,omitempty"`
	}{
		Server: server{c.Server.Listen, c.Server.LogLevel, c.Server.LogFormat,
			c.Server.ShutdownTimeout.String(), c.Server.AllowRemoteWithoutAuth},
		Auth:       auth{c.Auth.Mode, c.Auth.RateLimit, c.Auth.RateBurst, c.Auth.ScopeRateLimits},
		PluginDir:  c.PluginDir,
		Components: c.Components(),
	}
	for _, p := range c.Plugins {
		v.Plugins = append(v.Plugins, plugin{p.Name, p.Path, p.SHA256, p.Env})
	}
	return json.Marshal(v)
}
