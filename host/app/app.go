// Package app assembles a Vire server from a loaded configuration: it
// resolves and starts the plugins the configuration names, decodes each
// plugin block against the plugin's own schema, and configures the
// components. Both `vire-server run` and `vire-server validate` go through
// it, so validation checks exactly what running would.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/market"
	"github.com/vire-dev/vire/host/pluginhost"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

// Options configure Start.
type Options struct {
	Logger hclog.Logger
	// Environ is where allow-listed plugin environment variables come from;
	// nil means os.Environ().
	Environ []string
	// HealthInterval is passed to the plugin host (0: its default).
	HealthInterval time.Duration
}

// App is a configured set of running components.
type App struct {
	Config *config.Config
	Host   *pluginhost.Host
	// Plugins maps each component's address (e.g. `storage "file"`) to the
	// process serving it.
	Plugins map[string]*pluginhost.Plugin
	Storage sdk.BlobStore
	// Keys is nil when the configuration has no keys block.
	Keys sdk.KeyProvider
	// Cache is nil when the configuration has no cache block.
	Cache sdk.BlobStore
	// Sources maps each source block's name to what its plugin serves.
	Sources map[string]Source
	// Store is the tenant document store over Storage, encrypting with
	// Envelope when a keys block is configured.
	Store *store.Store
	// Envelope is nil when encryption is off.
	Envelope *crypt.Envelope

	// Market is the shared market-data service (market.go); without a
	// source serving market data its calls fail as unavailable.
	Market *market.Service
}

// Source is one configured data source; either field may be nil.
type Source struct {
	Market    sdk.MarketData
	Portfolio sdk.PortfolioSource
}

// Spec resolves the binary for a plugin name: an explicit plugin block wins,
// otherwise vire-plugin-<name> in the plugin directory.
func Spec(cfg *config.Config, name string) pluginhost.Spec {
	spec := pluginhost.Spec{Name: name, Dir: cfg.Dir}
	if decl, ok := cfg.Plugin(name); ok {
		spec.Path = decl.Path
		spec.SHA256 = decl.SHA256
		spec.Env = decl.Env
	}
	if spec.Path == "" {
		spec.Path = filepath.Join(cfg.PluginDir, pluginhost.BinaryPrefix+name)
	}
	return spec
}

// Start launches one plugin process per component block (in parallel),
// decodes and configures the components, and returns the running App. On
// error the diagnostics point at the configuration and nothing is left
// running.
func Start(ctx context.Context, cfg *config.Config, o Options) (*App, hcl.Diagnostics) {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	h := pluginhost.New(pluginhost.Options{Logger: o.Logger, Environ: o.Environ, HealthInterval: o.HealthInterval})
	a := &App{Config: cfg, Host: h, Plugins: map[string]*pluginhost.Plugin{}, Sources: map[string]Source{}}

	src := schemaSource{a: a, errs: map[string]error{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cfg.Components() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := Spec(cfg, c.Plugin)
			spec.Role = c.Address()
			p, err := startPlugin(ctx, h, spec)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				src.errs[c.Plugin] = err
				return
			}
			a.Plugins[spec.Role] = p
		}()
	}
	wg.Wait()

	diags := cfg.DecodeComponents(ctx, src)
	if diags.HasErrors() {
		h.Close()
		return nil, diags
	}
	for _, c := range cfg.Components() {
		diags = append(diags, a.configure(ctx, c)...)
	}
	if diags.HasErrors() {
		h.Close()
		return nil, diags
	}
	if err := a.openStore(o.Logger); err != nil {
		h.Close()
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot open the document store", Detail: err.Error(), Subject: cfg.Storage.DeclRange.Ptr()})
	}
	if err := a.openMarket(o.Logger); err != nil {
		h.Close()
		return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot start the market data service", Detail: err.Error()})
	}
	return a, diags
}

func startPlugin(ctx context.Context, h *pluginhost.Host, spec pluginhost.Spec) (*pluginhost.Plugin, error) {
	if _, err := os.Stat(spec.Path); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no plugin binary at %s; build the bundled plugins with `make build`, or add a plugin %q { path = \"...\" } block", spec.Path, spec.Name)
	}
	return h.Start(ctx, spec)
}

// schemaSource answers schema questions from the started plugins.
type schemaSource struct {
	a    *App
	errs map[string]error
}

func (s schemaSource) Schema(_ context.Context, kind sdk.ComponentKind, plugin string) (sdk.ConfigSchema, error) {
	if err := s.errs[plugin]; err != nil {
		return sdk.ConfigSchema{}, err
	}
	for _, p := range s.a.Plugins {
		if p.Status().Name == plugin {
			return p.Schema(componentKind(kind))
		}
	}
	return sdk.ConfigSchema{}, fmt.Errorf("plugin %q was not started", plugin)
}

// componentKind maps a configuration role to the component that serves it:
// a cache is a storage component used as a cache.
func componentKind(k sdk.ComponentKind) sdk.ComponentKind {
	if k == config.KindCache {
		return sdk.KindStorage
	}
	return k
}

func (a *App) configure(ctx context.Context, c *config.Component) hcl.Diagnostics {
	p := a.Plugins[c.Address()]
	var err error
	switch c.Kind {
	case sdk.KindStorage:
		a.Storage, err = p.BlobStore(ctx, c.Value)
	case config.KindCache:
		a.Cache, err = p.BlobStore(ctx, c.Value)
	case sdk.KindKeys:
		a.Keys, err = p.KeyProvider(ctx, c.Value)
	case sdk.KindSource:
		var s Source
		s.Market, s.Portfolio, err = p.Source(ctx, c.Value)
		a.Sources[c.Name] = s
	default:
		err = fmt.Errorf("unknown component kind %q", c.Kind)
	}
	if err == nil {
		return nil
	}
	return a.Config.ConfigureDiagnostics(c, err)
}

// Statuses reports every plugin process, sorted by role.
func (a *App) Statuses() []pluginhost.Status {
	out := make([]pluginhost.Status, 0, len(a.Plugins))
	for _, p := range a.Plugins {
		out = append(out, p.Status())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Role < out[j].Role })
	return out
}

// Ready checks every plugin's health; the error names each unhealthy one.
func (a *App) Ready(ctx context.Context) error {
	var errs []error
	for role, p := range a.Plugins {
		if err := p.Health(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", role, err))
		}
	}
	return errors.Join(errs...)
}

// Close forgets every data key and stops every plugin.
func (a *App) Close() {
	if a.Envelope != nil {
		_ = a.Envelope.Close()
	}
	a.Host.Close()
}
