package config

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// evalAttr evaluates a host-side attribute and converts it to ty. ok is
// false when the attribute is unusable (errors reported, or null meaning
// "use the default"). The value comes back without marks: host settings are
// not secrets, and errors about them never quote the value.
func (c *Config) evalAttr(a *hcl.Attribute, ty cty.Type) (v cty.Value, ok bool, diags hcl.Diagnostics) {
	if a == nil {
		return cty.NilVal, false, nil
	}
	v, diags = a.Expr.Value(c.eval.ctx)
	if diags.HasErrors() {
		return cty.NilVal, false, diags
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		return cty.NilVal, false, append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf("Inappropriate value for attribute %q: %s.", a.Name, err),
			Subject:  a.Expr.Range().Ptr(),
			Context:  hcl.RangeBetween(a.NameRange, a.Expr.Range()).Ptr(),
		})
	}
	if !cv.IsWhollyKnown() || cv.IsNull() {
		// Unknown only follows an error already reported (an undeclared
		// reference, a cycle); null leaves the default in place.
		return cty.NilVal, false, diags
	}
	cv, _ = cv.UnmarkDeep()
	return cv, true, diags
}

func (c *Config) evalString(a *hcl.Attribute) (string, bool, hcl.Diagnostics) {
	v, ok, diags := c.evalAttr(a, cty.String)
	if !ok {
		return "", false, diags
	}
	return v.AsString(), true, diags
}

func (c *Config) evalBool(a *hcl.Attribute) (bool, bool, hcl.Diagnostics) {
	v, ok, diags := c.evalAttr(a, cty.Bool)
	if !ok {
		return false, false, diags
	}
	return v.True(), true, diags
}

// evalInt accepts a whole number between min and max.
func (c *Config) evalInt(a *hcl.Attribute, minV, maxV int64) (int, bool, hcl.Diagnostics) {
	v, ok, diags := c.evalAttr(a, cty.Number)
	if !ok {
		return 0, false, diags
	}
	n, d := wholeNumber(v, fmt.Sprintf("%q", a.Name), a.Expr.Range(), minV, maxV)
	return n, d == nil, append(diags, d...)
}

// wholeNumber checks that a known number is whole and between min and max;
// what names the value in the diagnostic, which points at rng.
func wholeNumber(v cty.Value, what string, rng hcl.Range, minV, maxV int64) (int, hcl.Diagnostics) {
	i, acc := v.AsBigFloat().Int64()
	if acc != big.Exact || i < minV || i > maxV {
		return 0, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid number",
			Detail:   fmt.Sprintf("%s must be a whole number from %d to %d.", what, minV, maxV),
			Subject:  rng.Ptr(),
		}}
	}
	return int(i), nil
}

func (c *Config) evalStrings(a *hcl.Attribute) ([]string, bool, hcl.Diagnostics) {
	v, ok, diags := c.evalAttr(a, cty.List(cty.String))
	if !ok {
		return nil, false, diags
	}
	out := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			return nil, false, append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid list element",
				Detail:   fmt.Sprintf("%q must not contain null.", a.Name),
				Subject:  a.Expr.Range().Ptr(),
			})
		}
		out = append(out, e.AsString())
	}
	return out, true, diags
}

func invalid(a *hcl.Attribute, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  a.Expr.Range().Ptr(),
		Context:  a.Range.Ptr(),
	}
}

var logLevels = []string{"trace", "debug", "info", "warn", "error"}

func (c *Config) decodeServer(m *merged) hcl.Diagnostics {
	var diags hcl.Diagnostics
	c.Server = Server{
		Listen:          DefaultListen,
		LogLevel:        DefaultLogLevel,
		LogFormat:       DefaultLogFormat,
		ShutdownTimeout: DefaultShutdownTimeout,
		Ranges:          map[string]hcl.Range{},
	}
	if len(m.servers) == 0 {
		return nil
	}
	for _, b := range m.servers[1:] {
		diags = append(diags, duplicate("server block", m.servers[0].DeclRange, b.DeclRange))
	}
	b := m.servers[0]
	c.Server.DeclRange = b.DeclRange
	note := func(a *hcl.Attribute) {
		if a != nil {
			c.Server.Ranges[a.Name] = a.Expr.Range()
		}
	}
	for _, a := range []*hcl.Attribute{b.Listen, b.LogLevel, b.LogFormat, b.ShutdownTimeout, b.AllowRemoteWithoutAuth} {
		note(a)
	}

	if s, ok, d := c.evalString(b.Listen); ok {
		if err := checkListen(s); err != nil {
			d = append(d, invalid(b.Listen, "Invalid listen address",
				fmt.Sprintf(`"listen" must be host:port, for example "127.0.0.1:8080" or ":8080": %s.`, err)))
		} else {
			c.Server.Listen = s
		}
		diags = append(diags, d...)
	} else {
		diags = append(diags, d...)
	}
	if s, ok, d := c.evalString(b.LogLevel); ok {
		if !contains(logLevels, s) {
			d = append(d, invalid(b.LogLevel, "Invalid log level",
				fmt.Sprintf(`"log_level" must be one of %s.`, quoteList(logLevels))))
		} else {
			c.Server.LogLevel = s
		}
		diags = append(diags, d...)
	} else {
		diags = append(diags, d...)
	}
	if s, ok, d := c.evalString(b.LogFormat); ok {
		if s != "text" && s != "json" {
			d = append(d, invalid(b.LogFormat, "Invalid log format", `"log_format" must be "text" or "json".`))
		} else {
			c.Server.LogFormat = s
		}
		diags = append(diags, d...)
	} else {
		diags = append(diags, d...)
	}
	if s, ok, d := c.evalString(b.ShutdownTimeout); ok {
		dur, err := time.ParseDuration(s)
		if err != nil || dur < 0 {
			d = append(d, invalid(b.ShutdownTimeout, "Invalid duration",
				`"shutdown_timeout" must be a duration that is not negative, such as "15s" or "1m30s".`))
		} else {
			c.Server.ShutdownTimeout = dur
		}
		diags = append(diags, d...)
	} else {
		diags = append(diags, d...)
	}
	if v, ok, d := c.evalBool(b.AllowRemoteWithoutAuth); ok {
		c.Server.AllowRemoteWithoutAuth = v
		diags = append(diags, d...)
	} else {
		diags = append(diags, d...)
	}
	return diags
}

func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return errors.New(ae.Err)
		}
		return err
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("the host is not a name or an IP address")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("the port must be a number from 0 to 65535")
	}
	return nil
}

// isLoopback reports whether a listen address only accepts local
// connections.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) decodeAuth(m *merged) hcl.Diagnostics {
	var diags hcl.Diagnostics
	c.Auth = Auth{Mode: AuthNone, RateLimit: DefaultRateLimit, RateBurst: DefaultRateBurst, Ranges: map[string]hcl.Range{}}
	if len(m.auths) == 0 {
		return nil
	}
	for _, b := range m.auths[1:] {
		diags = append(diags, duplicate("auth block", m.auths[0].DeclRange, b.DeclRange))
	}
	b := m.auths[0]
	c.Auth.DeclRange = b.DeclRange
	for _, a := range []*hcl.Attribute{b.Mode, b.RateLimit, b.RateBurst, b.ScopeRateLimits} {
		if a != nil {
			c.Auth.Ranges[a.Name] = a.Expr.Range()
		}
	}
	s, ok, d := c.evalString(b.Mode)
	diags = append(diags, d...)
	if ok {
		if s != AuthNone && s != AuthAPIKey {
			diags = append(diags, invalid(b.Mode, "Invalid auth mode", `"mode" must be "none" or "api_key".`))
		} else {
			c.Auth.Mode = s
		}
	}
	n, ok, d := c.evalInt(b.RateLimit, 0, 1<<31-1)
	diags = append(diags, d...)
	if ok {
		c.Auth.RateLimit = n
	}
	n, ok, d = c.evalInt(b.RateBurst, 1, 1<<31-1)
	diags = append(diags, d...)
	if ok {
		c.Auth.RateBurst = n
	}
	limits, d := c.evalScopeRates(b.ScopeRateLimits)
	diags = append(diags, d...)
	c.Auth.ScopeRateLimits = limits
	return diags
}

// evalScopeRates decodes scope_rate_limits, a map from scope name to
// requests a minute. Written as an object constructor ({ write = 120 }),
// each mistake is reported at its own key or value; computed any other way
// (a variable, merge()), at the attribute's value.
func (c *Config) evalScopeRates(a *hcl.Attribute) (map[string]int, hcl.Diagnostics) {
	if a == nil {
		return nil, nil
	}
	out := map[string]int{}
	var diags hcl.Diagnostics
	pairs, pd := hcl.ExprMap(a.Expr)
	if pd.HasErrors() {
		v, ok, d := c.evalAttr(a, cty.Map(cty.Number))
		if !ok {
			return nil, d
		}
		diags = d
		rng := a.Expr.Range()
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			diags = append(diags, scopeRate(out, a, k.AsString(), rng, ev, rng)...)
		}
		return out, diags
	}
	seen := map[string]hcl.Range{}
	for _, p := range pairs {
		kv, d := p.Key.Value(c.eval.ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		key, err := convert.Convert(kv, cty.String)
		if err != nil || key.IsNull() {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid scope",
				Detail:   fmt.Sprintf(`The keys of "scope_rate_limits" must be scope names: %s.`, scopeList()),
				Subject:  p.Key.Range().Ptr(),
				Context:  a.Range.Ptr(),
			})
			continue
		}
		if !key.IsKnown() {
			continue // follows an error already reported
		}
		key, _ = key.Unmark()
		name := key.AsString()
		if first, dup := seen[name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate scope",
				Detail:   fmt.Sprintf(`The scope %q is already given a rate at %s.`, name, where(first)),
				Subject:  p.Key.Range().Ptr(),
				Context:  a.Range.Ptr(),
			})
			continue
		}
		seen[name] = p.Key.Range()
		val, d := p.Value.Value(c.eval.ctx)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		diags = append(diags, scopeRate(out, a, name, p.Key.Range(), val, p.Value.Range())...)
	}
	return out, diags
}

// scopeRate checks one scope_rate_limits entry and records it in out. A
// null or unknown rate is skipped: null leaves the scope on the key's
// default budget, and unknown follows an error already reported.
func scopeRate(out map[string]int, a *hcl.Attribute, name string, keyRng hcl.Range, val cty.Value, valRng hcl.Range) hcl.Diagnostics {
	if !slices.Contains(AuthScopes(), name) {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid scope",
			Detail:   fmt.Sprintf(`%q is not a scope: the keys of "scope_rate_limits" must be %s.`, name, scopeList()),
			Subject:  keyRng.Ptr(),
			Context:  a.Range.Ptr(),
		}}
	}
	n, err := convert.Convert(val, cty.Number)
	if err != nil {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Incorrect attribute value type",
			Detail:   fmt.Sprintf(`Inappropriate value for the %q rate in "scope_rate_limits": %s.`, name, err),
			Subject:  valRng.Ptr(),
			Context:  a.Range.Ptr(),
		}}
	}
	if !n.IsWhollyKnown() || n.IsNull() {
		return nil
	}
	n, _ = n.Unmark()
	rate, d := wholeNumber(n, fmt.Sprintf(`The %q rate in "scope_rate_limits"`, name), valRng, 0, 1<<31-1)
	if d == nil {
		out[name] = rate
	}
	return d
}

// scopeList names the scopes for a message: "read", "write" or "admin".
func scopeList() string {
	var q []string
	for _, s := range AuthScopes() {
		q = append(q, strconv.Quote(s))
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// checkRemoteAuth refuses to expose an unauthenticated server beyond this
// machine unless the operator says so explicitly.
func (c *Config) checkRemoteAuth() hcl.Diagnostics {
	if c.Auth.Mode != AuthNone || c.Server.AllowRemoteWithoutAuth || isLoopback(c.Server.Listen) {
		return nil
	}
	subject, ok := c.Server.Ranges["listen"]
	if !ok {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Remote access without authentication",
		Detail: `The server would accept connections from other machines with no authentication. ` +
			`Set auth { mode = "api_key" }, listen on a loopback address, or set allow_remote_without_auth = true in the server block.`,
		Subject: subject.Ptr(),
	}}
}

var (
	sha256Hex = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (c *Config) decodePlugins(m *merged) hcl.Diagnostics {
	var diags hcl.Diagnostics
	c.PluginDir = filepath.Join(c.Dir, DefaultPluginDir)
	if len(m.pluginDir) > 0 {
		for _, a := range m.pluginDir[1:] {
			diags = append(diags, duplicate("plugin_dir attribute", m.pluginDir[0].Range, a.Range))
		}
		s, ok, d := c.evalString(m.pluginDir[0])
		diags = append(diags, d...)
		if ok {
			if s == "" {
				diags = append(diags, invalid(m.pluginDir[0], "Invalid plugin directory", `"plugin_dir" must not be empty.`))
			} else {
				c.PluginDir = c.resolve(s)
			}
		}
	}
	seen := map[string]*pluginBlock{}
	for _, b := range m.plugins {
		diags = append(diags, checkLabel("plugin name", b.Name, b.NameRange)...)
		if first, ok := seen[b.Name]; ok {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate plugin block",
				Detail:   fmt.Sprintf("The plugin %q is already declared at %s.", b.Name, where(first.DeclRange)),
				Subject:  b.DeclRange.Ptr(),
			})
			continue
		}
		seen[b.Name] = b
		p := PluginDecl{Name: b.Name, DeclRange: b.DeclRange}
		if s, ok, d := c.evalString(b.Path); ok {
			if s == "" {
				d = append(d, invalid(b.Path, "Invalid plugin path", `"path" must not be empty; leave it out to discover the plugin in plugin_dir.`))
			} else {
				p.Path = c.resolve(s)
			}
			diags = append(diags, d...)
		} else {
			diags = append(diags, d...)
		}
		if s, ok, d := c.evalString(b.SHA256); ok {
			if !sha256Hex.MatchString(s) {
				d = append(d, invalid(b.SHA256, "Invalid sha256",
					fmt.Sprintf(`"sha256" must be 64 hexadecimal characters (the output of sha256sum); this value has %d characters.`, len(s))))
			} else {
				p.SHA256 = strings.ToLower(s)
			}
			diags = append(diags, d...)
		} else {
			diags = append(diags, d...)
		}
		if names, ok, d := c.evalStrings(b.Env); ok {
			for _, n := range names {
				if !envName.MatchString(n) {
					d = append(d, invalid(b.Env, "Invalid environment variable name",
						fmt.Sprintf(`"env" lists names of environment variables; %q is not a valid name.`, n)))
				}
			}
			if !d.HasErrors() {
				p.Env = names
			}
			diags = append(diags, d...)
		} else {
			diags = append(diags, d...)
		}
		c.Plugins = append(c.Plugins, p)
	}
	return diags
}

// checkUnusedPlugins warns about plugin blocks no component refers to:
// usually a typo in a label.
func (c *Config) checkUnusedPlugins() hcl.Diagnostics {
	used := map[string]bool{}
	for _, comp := range c.Components() {
		used[comp.Plugin] = true
	}
	var diags hcl.Diagnostics
	for _, p := range c.Plugins {
		if !used[p.Name] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Unused plugin block",
				Detail:   fmt.Sprintf("No storage, keys, source or cache block uses the plugin %q.", p.Name),
				Subject:  p.DeclRange.Ptr(),
			})
		}
	}
	return diags
}

func (c *Config) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.Dir, p)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
