package config

import (
	"context"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/vire-dev/vire/sdk"
)

// KindCache is the role of the component named by a cache block. The plugin
// behind it serves a storage (BlobStore) component; the host uses it as a
// shared cache rather than as the system of record.
const KindCache sdk.ComponentKind = "cache"

// Defaults for the server block and the plugin directory.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "text"
	DefaultShutdownTimeout = 15 * time.Second
	DefaultPluginDir       = "./bin/plugins"
	DefaultRateLimit       = 600
	DefaultRateBurst       = 60
)

// Auth modes.
const (
	AuthNone   = "none"
	AuthAPIKey = "api_key"
)

// AuthScopes returns the scopes an API key may carry, which are the keys
// scope_rate_limits accepts.
func AuthScopes() []string { return []string{"read", "write", "admin"} }

// Config is a loaded configuration. Load always returns a Config whose Files
// can render the returned diagnostics; the other fields are meaningful only
// when the diagnostics hold no error.
type Config struct {
	Server  Server
	Storage *Component
	// Keys is nil when no keys block is given: encryption is off.
	Keys    *Component
	Sources []*Component
	// Cache is nil when no cache block is given.
	Cache   *Component
	Auth    Auth
	Plugins []PluginDecl
	// PluginDir is the absolute directory searched for vire-plugin-* binaries.
	PluginDir string
	// Files holds every parsed file by the name used in diagnostics.
	Files map[string]*hcl.File
	// Dir is the absolute directory relative paths are resolved against: the
	// configuration's directory, or the working directory for LoadBytes.
	// Plugins should be started with this as their working directory so a
	// relative path in a plugin block means the same as everywhere else.
	Dir string

	eval    *evaluator
	secrets *secretSet
	// loadErrors records that Load failed, so later decoding stays quiet
	// about values that are unknown because of errors already reported.
	loadErrors bool
}

// Server holds the settings of the server block.
type Server struct {
	Listen                 string
	LogLevel               string
	LogFormat              string
	ShutdownTimeout        time.Duration
	AllowRemoteWithoutAuth bool
	DeclRange              hcl.Range
	// Ranges maps each attribute set in the server block to its value's range.
	Ranges map[string]hcl.Range
}

// Auth holds the settings of the auth block.
type Auth struct {
	Mode string
	// RateLimit is the number of requests a minute one API key may make;
	// zero means unlimited.
	RateLimit int
	// RateBurst is how many requests may arrive at once above the rate.
	RateBurst int
	// ScopeRateLimits gives the scopes it names (see AuthScopes) budgets of
	// their own: requests a minute one API key may make of requests needing
	// that scope, zero meaning unlimited. Such requests do not count against
	// RateLimit. A scope's burst is min(RateBurst, its rate). Nil when the
	// auth block sets none.
	ScopeRateLimits map[string]int
	DeclRange       hcl.Range
	Ranges          map[string]hcl.Range
}

// PluginDecl is an explicit plugin block.
type PluginDecl struct {
	Name string
	// Path is the absolute path to the binary, or "" to discover it in
	// PluginDir.
	Path string
	// SHA256 is the lower-case hex digest the binary must have, or "".
	SHA256 string
	// Env lists the environment variables passed to the plugin.
	Env       []string
	DeclRange hcl.Range
}

// Plugin returns the plugin block with the given name.
func (c *Config) Plugin(name string) (PluginDecl, bool) {
	for _, p := range c.Plugins {
		if p.Name == name {
			return p, true
		}
	}
	return PluginDecl{}, false
}

// Components returns every plugin-backed component in a fixed order:
// storage, keys, cache, then the sources in declaration order.
func (c *Config) Components() []*Component {
	var out []*Component
	for _, comp := range []*Component{c.Storage, c.Keys, c.Cache} {
		if comp != nil {
			out = append(out, comp)
		}
	}
	return append(out, c.Sources...)
}

// Component is a storage, keys, source or cache block. Its body is decoded
// against the plugin's schema by DecodeComponents.
type Component struct {
	Kind   sdk.ComponentKind
	Plugin string
	// Name is the source's name; for other kinds it equals Kind.
	Name       string
	Body       hcl.Body
	DeclRange  hcl.Range
	LabelRange hcl.Range
	// Value is the decoded configuration with defaults applied; nil until
	// DecodeComponents succeeds. It holds secrets in clear: never print it,
	// print Redacted() instead.
	Value  sdk.ConfigValue
	Schema sdk.ConfigSchema

	attrRanges map[string]hcl.Range
	// sensitive names the attributes whose values must be hidden: those the
	// schema marks sensitive and those computed from sensitive variables.
	sensitive map[string]bool
	// invalid is set when the block's labels were rejected; it is not
	// decoded, since its plugin cannot be looked up.
	invalid bool
}

// Redacted returns the component's value with every sensitive attribute
// replaced, for display and logs.
func (c *Component) Redacted() sdk.ConfigValue {
	out := c.Schema.Redact(c.Value)
	for k := range out {
		if c.sensitive[k] {
			out[k] = redactedText
		}
	}
	return out
}

// IsSensitive reports whether the named attribute's value must be hidden.
func (c *Component) IsSensitive(attr string) bool {
	if c.sensitive[attr] {
		return true
	}
	a, ok := c.Schema.Attribute(attr)
	return ok && a.Sensitive
}

// AttrRange returns the range of the attribute's value, or the block's range
// when the attribute is not set.
func (c *Component) AttrRange(attr string) hcl.Range {
	if r, ok := c.attrRanges[attr]; ok {
		return r
	}
	return c.DeclRange
}

// Address names the component as it is written, e.g. `source "eodhd" "market"`.
func (c *Component) Address() string {
	var b strings.Builder
	b.WriteString(string(c.Kind))
	b.WriteString(` "`)
	b.WriteString(c.Plugin)
	b.WriteString(`"`)
	if c.Kind == sdk.KindSource {
		b.WriteString(` "`)
		b.WriteString(c.Name)
		b.WriteString(`"`)
	}
	return b.String()
}

// SchemaSource supplies the configuration schema a plugin declares for a
// component kind. The server implements it by describing the plugin binary;
// the error explains where the plugin was looked for.
type SchemaSource interface {
	Schema(ctx context.Context, kind sdk.ComponentKind, plugin string) (sdk.ConfigSchema, error)
}

// LoadOptions carries everything Load reads from outside the files, so that
// loading is hermetic.
type LoadOptions struct {
	// Vars holds -var NAME=VALUE settings, the highest precedence.
	Vars map[string]string
	// LookupEnv reads the environment for VIRE_VAR_<NAME> and for env() in
	// variable defaults. nil means an empty environment. Pass os.LookupEnv
	// in the server, EnvironLookup(...) in tests.
	LookupEnv func(name string) (string, bool)
	// WorkDir is the directory LoadBytes resolves relative paths against;
	// "" means the process's working directory.
	WorkDir string
}

// EnvironLookup returns a LookupEnv over a list of KEY=VALUE strings, in the
// form os.Environ returns. Later entries win.
func EnvironLookup(environ []string) func(string) (string, bool) {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func (o LoadOptions) lookup(name string) (string, bool) {
	if o.LookupEnv == nil {
		return "", false
	}
	return o.LookupEnv(name)
}
