package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/vire-dev/vire/configs"
	"github.com/vire-dev/vire/host/api"
	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/host/documents"
	"github.com/vire-dev/vire/host/mcp"
	"github.com/vire-dev/vire/host/pluginhost"
)

// varFlags collects repeated -var NAME=VALUE flags.
type varFlags map[string]string

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	v[name] = value
	return nil
}

type configFlags struct {
	path string
	vars varFlags
}

func (c *configFlags) register(fs *flag.FlagSet) {
	c.vars = varFlags{}
	fs.StringVar(&c.path, "config", "", "configuration file or directory (default: the embedded personal configuration)")
	fs.Var(c.vars, "var", "set a variable, NAME=VALUE (repeatable; overrides VIRE_VAR_<NAME>)")
}

func (c *configFlags) load() (*config.Config, hcl.Diagnostics) {
	opts := config.LoadOptions{Vars: c.vars, LookupEnv: os.LookupEnv}
	if c.path == "" {
		return config.LoadBytes(configs.PersonalName, configs.Personal(), opts)
	}
	return config.Load(c.path, opts)
}

func writeDiags(w io.Writer, cfg *config.Config, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	var files map[string]*hcl.File
	if cfg != nil {
		files = cfg.Files
	}
	_ = config.WriteDiagnostics(w, files, diags, false)
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vire-server "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func newLogger(cfg *config.Config, stderr io.Writer) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "vire-server",
		Level:      hclog.LevelFromString(cfg.Server.LogLevel),
		JSONFormat: cfg.Server.LogFormat == "json",
		Output:     stderr,
	})
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", stderr)
	var cf configFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, diags := cf.load()
	writeDiags(stderr, cfg, diags)
	if diags.HasErrors() {
		return 1
	}
	log := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	started := time.Now()
	a, diags := app.Start(ctx, cfg, app.Options{Logger: log})
	writeDiags(stderr, cfg, diags)
	if diags.HasErrors() {
		return 1
	}
	defer a.Close()
	for _, st := range a.Statuses() {
		log.Info("plugin started", "plugin", st.Name, "version", st.Version, "kinds", strings.Join(st.Kinds, ","), "pinned", st.Pinned)
	}
	if a.Keys == nil {
		log.Warn("encryption is off: no keys block in the configuration")
	}

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		log.Error("cannot listen", "address", cfg.Server.Listen, "error", err)
		return 1
	}
	docs := documents.New(a.Store, documents.Options{Logger: log})
	// MCP at /mcp, over the same services and behind the same access layer as REST (host/mcp).
	mcpServer, err := mcp.New(mcp.Options{Documents: docs, Market: a.Market, Logger: log, Version: version, Personal: cfg.Auth.Mode == config.AuthNone})
	if err != nil {
		log.Error("cannot set up MCP", "error", err)
		return 1
	}
	router := api.NewRouter(a, api.Options{Logger: log, Version: version, Documents: docs, Market: a.Market})
	mcpServer.Mount(router)
	srv := &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
	}
	srv.RegisterOnShutdown(mcpServer.Close)
	closeAccess, err := accessLayer(srv, a, log) // tenancy: API keys, rate limits, audit (tenants.go)
	if err != nil {
		log.Error("cannot set up authentication", "error", err)
		return 1
	}
	defer closeAccess()
	// In front of everything: MCP discovery metadata, Origin checks and 401 challenges.
	srv.Handler = mcpServer.Front(srv.Handler)
	go a.Market.Run(ctx) // the daily EOD refresh of tracked tickers
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("Vire is serving", "url", "http://"+ln.Addr().String(), "startup", time.Since(started).Round(time.Millisecond))

	select {
	case err := <-errc:
		log.Error("server stopped", "error", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests", "timeout", cfg.Server.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("requests still running at the shutdown deadline", "error", err)
	}
	closeAccess() // write the queued audit records while storage still runs
	a.Close()
	log.Info("stopped")
	return 0
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	var cf configFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON (shaped like terraform validate -json)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, diags := cf.load()
	if !diags.HasErrors() {
		// Start the plugins, decode each block with its plugin's schema and
		// let each plugin check its settings; nothing is served.
		log := hclog.New(&hclog.LoggerOptions{Name: "vire-server", Level: hclog.Warn, Output: stderr})
		a, more := app.Start(context.Background(), cfg, app.Options{Logger: log, HealthInterval: -1})
		diags = append(diags, more...)
		if a != nil {
			a.Close()
		}
	}
	if *asJSON {
		out, err := config.DiagnosticsJSON(diags)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		stdout.Write(out)
		fmt.Fprintln(stdout)
	} else if diags.HasErrors() {
		writeDiags(stderr, cfg, diags)
	} else {
		writeDiags(stderr, cfg, diags)
		fmt.Fprintln(stdout, "Success! The configuration is valid.")
	}
	if diags.HasErrors() {
		return 1
	}
	return 0
}

func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fmt", stderr)
	check := fs.Bool("check", false, "only report files that are not formatted (exit 1 if any)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vire-server fmt [-check] FILE... (use - for standard input)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	status := 0
	for _, name := range fs.Args() {
		var src []byte
		var err error
		if name == "-" {
			src, err = io.ReadAll(os.Stdin)
		} else {
			src, err = os.ReadFile(name)
		}
		if err != nil {
			fmt.Fprintf(stderr, "vire-server fmt: %v\n", err)
			status = 1
			continue
		}
		out := config.Format(src)
		switch {
		case name == "-":
			stdout.Write(out)
		case bytes.Equal(src, out):
		case *check:
			fmt.Fprintln(stdout, name)
			status = 1
		default:
			if err := os.WriteFile(name, out, 0o644); err != nil {
				fmt.Fprintf(stderr, "vire-server fmt: %v\n", err)
				status = 1
				continue
			}
			fmt.Fprintln(stdout, name)
		}
	}
	return status
}

type pluginInfo struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Protocol  int      `json:"protocol_version"`
	Kinds     []string `json:"kinds"`
	SHA256    string   `json:"sha256"`
	Path      string   `json:"path"`
	Error     string   `json:"error,omitempty"`
	FromBlock bool     `json:"from_plugin_block,omitempty"`
}

func cmdPlugins(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("plugins", stderr)
	var cf configFlags
	cf.register(fs)
	dir := fs.String("dir", "", "plugin directory to scan (default: the configuration's plugin_dir)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var found []pluginhost.Found
	var problems []error
	explicit := map[string]bool{}
	if *dir != "" {
		found, problems = pluginhost.Discover(*dir)
	} else {
		cfg, diags := cf.load()
		if diags.HasErrors() {
			writeDiags(stderr, cfg, diags)
			return 1
		}
		found, problems = pluginhost.Discover(cfg.PluginDir)
		for _, d := range cfg.Plugins {
			if d.Path != "" {
				found = append(found, pluginhost.Found{Name: d.Name, Path: d.Path})
				explicit[d.Name] = true
			}
		}
	}
	var infos []pluginInfo
	for _, f := range found {
		info := pluginInfo{Name: f.Name, Path: f.Path, FromBlock: explicit[f.Name]}
		if sum, err := pluginhost.FileSHA256(f.Path); err == nil {
			info.SHA256 = sum
		}
		d, err := pluginhost.DescribeBinary(context.Background(), f.Path)
		if err != nil {
			info.Error = err.Error()
		} else {
			info.Version, info.Protocol = d.Version, d.ProtocolVersion
			for _, c := range d.Components {
				info.Kinds = append(info.Kinds, string(c.Kind))
			}
		}
		infos = append(infos, info)
	}
	for _, p := range problems {
		fmt.Fprintf(stderr, "skipped: %v\n", p)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]any{"plugins": infos}, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tVERSION\tPROTOCOL\tKINDS\tSHA256\tPATH")
		for _, i := range infos {
			if i.Error != "" {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t%s\t%s (error: %s)\n", i.Name, i.SHA256, i.Path, i.Error)
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", i.Name, i.Version, i.Protocol, strings.Join(i.Kinds, ","), i.SHA256, i.Path)
		}
		tw.Flush()
	}
	for _, i := range infos {
		if i.Error != "" {
			return 1
		}
	}
	if len(infos) == 0 && len(problems) > 0 {
		return 1
	}
	return 0
}
