package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gorilla/mux"
	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/api"
	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/config"
	"github.com/vire-dev/vire/host/mcp"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/host/tenant"
)

// accessLayer puts authentication, per-key rate limits and the audit log in
// front of the server's router, and in hosted mode adds the administration
// API. The returned function writes the audit records still queued; call
// it after the server drained its requests and before the app closes.
func accessLayer(srv *http.Server, a *app.App, log hclog.Logger) (func(), error) {
	router, ok := srv.Handler.(*mux.Router)
	if !ok {
		return nil, fmt.Errorf("the access layer needs the API router, got %T", srv.Handler)
	}
	personal := a.Config.Auth.Mode == config.AuthNone
	o := api.AccessOptions{Personal: personal, Logger: log, Scopes: mcp.RouteScopes()} // /mcp: any key; tools check scopes
	ao := tenant.AuditOptions{Store: a.Store, Logger: log}
	if personal {
		api.MountWhoami(router)
	} else {
		svc, err := tenant.New(tenant.Options{Store: a.Store, Logger: log})
		if err != nil {
			return nil, err
		}
		o.Auth, ao.Active = svc, svc.Active
		api.MountAdmin(router, svc, log)
		if o.Limiter, err = rateLimiter(a, log); err != nil {
			return nil, err
		}
	}
	audit, err := tenant.NewAuditLog(ao)
	if err != nil {
		return nil, err
	}
	o.Audit = audit
	if srv.Handler, err = api.Protect(router, o); err != nil {
		audit.Close(context.Background())
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := audit.Close(ctx); err != nil {
				log.Error("audit records were not written at shutdown", "error", err)
			}
		})
	}, nil
}

// rateLimiter returns the per-key limiter the auth block asks for: shared
// through the cache when one with conditional writes is configured (several
// instances then enforce one budget), in-process otherwise, none when
// rate_limit and every scope_rate_limits entry are 0.
func rateLimiter(a *app.App, log hclog.Logger) (tenant.Limiter, error) {
	limits := rateLimits(a.Config.Auth)
	if limits.Unlimited() {
		return nil, nil
	}
	if a.Cache != nil && a.Cache.Capabilities().ConditionalWrite {
		return tenant.NewSharedLimiter(a.Cache, limits, tenant.SharedOptions{Logger: log})
	}
	if a.Cache != nil {
		log.Warn("the cache has no conditional writes: rate limits are kept per instance")
	}
	return tenant.NewLocalLimiter(limits, nil)
}

// rateLimits reads the budgets of the auth block: rate_limit and
// rate_burst for the default, and each scope_rate_limits entry with the
// burst capped at its own rate.
func rateLimits(auth config.Auth) tenant.Limits {
	l := tenant.Limits{Default: tenant.Rate{PerMinute: auth.RateLimit, Burst: auth.RateBurst}}
	if len(auth.ScopeRateLimits) > 0 {
		l.Scopes = map[tenant.Scope]tenant.Rate{}
		for scope, perMinute := range auth.ScopeRateLimits {
			l.Scopes[tenant.Scope(scope)] = tenant.ScopeRate(perMinute, auth.RateBurst)
		}
	}
	return l
}

const tenantsUsage = `Usage: vire-server tenants <command> [-config FILE] [-var NAME=VALUE]... [flags] [ID]

Manage the tenants of a hosted server (auth mode "api_key"), working directly
on the configured storage.

Commands:
  create [-name NAME] ID   register a tenant
  list                     list every tenant
  suspend ID               stop every key of the tenant (403) until resumed
  resume ID                reactivate a suspended tenant
  delete -yes ID           delete the tenant, its API keys and ALL its data

Issue keys with 'vire-server apikeys'.
`

const apikeysUsage = `Usage: vire-server apikeys <command> -tenant ID [-config FILE] [-var NAME=VALUE]... [flags] [KEY_ID]

Manage API keys, working directly on the configured storage. (Encryption keys
are managed with 'vire-server keys'.)

Commands:
  create [-name NAME] [-scopes read,write,admin] [-expires 720h|RFC3339]
                           create a key; it is printed once, on standard output
  list                     list the tenant's keys (never the keys themselves)
  revoke KEY_ID            revoke a key at once
  rotate [-grace 24h] KEY_ID
                           create a replacement key; the old one stays valid until
                           revoked, or until the grace period ends

The reserved tenant "operator" is created by its first key; its admin keys
administer every tenant through /api/admin.
`

const auditUsage = `Usage: vire-server audit verify -tenant ID [-config FILE] [-var NAME=VALUE]... [-json]

Walk the tenant's audit log and report the first broken link. Exits 1 when
the chain is broken.
`

// parseInterleaved parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// adminSession is a started configuration for a tenants, apikeys or audit
// command: plugins run, nothing is served.
type adminSession struct {
	ctx  context.Context
	app  *app.App
	svc  *tenant.Service
	stop func()
}

func (s *adminSession) close() {
	s.app.Close()
	s.stop()
}

// openAdmin loads the configuration and starts its plugins; hosted
// requires auth mode "api_key". On failure it reports and returns the exit
// status.
func openAdmin(name string, cf *configFlags, hosted bool, stderr io.Writer) (*adminSession, int) {
	cfg, diags := cf.load()
	writeDiags(stderr, cfg, diags)
	if diags.HasErrors() {
		return nil, 1
	}
	if hosted && cfg.Auth.Mode != config.AuthAPIKey {
		fmt.Fprintf(stderr, "vire-server %s: the configuration is personal (auth mode %q): it has one implicit tenant and no API keys. Set auth { mode = \"api_key\" } to host tenants.\n", name, cfg.Auth.Mode)
		return nil, 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	log := hclog.New(&hclog.LoggerOptions{Name: "vire-server", Level: hclog.Warn, Output: stderr})
	a, diags := app.Start(ctx, cfg, app.Options{Logger: log, HealthInterval: -1})
	writeDiags(stderr, cfg, diags)
	if diags.HasErrors() {
		stop()
		return nil, 1
	}
	svc, err := tenant.New(tenant.Options{Store: a.Store, Logger: log})
	if err != nil {
		a.Close()
		stop()
		fmt.Fprintf(stderr, "vire-server %s: %v\n", name, err)
		return nil, 1
	}
	return &adminSession{ctx: ctx, app: a, svc: svc, stop: stop}, 0
}

// fail reports an error of a tenants or apikeys command.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "vire-server %s: %s\n", name, strings.TrimPrefix(err.Error(), "tenant: "))
	return 1
}

func subcommand(args []string, usage string, stdout, stderr io.Writer) (string, []string, int) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w := stderr
		code := 2
		if len(args) > 0 {
			w, code = stdout, 0
		}
		fmt.Fprint(w, usage)
		return "", nil, code
	}
	return args[0], args[1:], -1
}

func cmdTenants(args []string, stdout, stderr io.Writer) int {
	sub, args, code := subcommand(args, tenantsUsage, stdout, stderr)
	if code >= 0 {
		return code
	}
	name := "tenants " + sub
	fs := newFlagSet(name, stderr)
	var cf configFlags
	cf.register(fs)
	display := fs.String("name", "", "display name (create)")
	yes := fs.Bool("yes", false, "confirm deletion (delete)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	wantIDs := map[string]int{"create": 1, "list": 0, "suspend": 1, "resume": 1, "delete": 1}
	n, known := wantIDs[sub]
	if !known {
		fmt.Fprintf(stderr, "vire-server tenants: unknown command %q\n\n%s", sub, tenantsUsage)
		return 2
	}
	if len(pos) != n {
		fmt.Fprintf(stderr, "vire-server %s: want %d tenant id argument(s), got %d\n\n%s", name, n, len(pos), tenantsUsage)
		return 2
	}
	if sub == "delete" && !*yes {
		fmt.Fprintf(stderr, "vire-server %s: this deletes tenant %q, its API keys and every document and audit record it has, for good. Add -yes to go ahead.\n", name, pos[0])
		return 1
	}
	s, code := openAdmin(name, &cf, true, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	ctx := s.ctx
	switch sub {
	case "create":
		t, err := s.svc.CreateTenant(ctx, pos[0], *display)
		if err != nil {
			return fail(stderr, name, err)
		}
		printTenants(stdout, *asJSON, false, t)
	case "list":
		ts, err := s.svc.ListTenants(ctx)
		if err != nil {
			return fail(stderr, name, err)
		}
		printTenants(stdout, *asJSON, true, ts...)
	case "suspend", "resume":
		op := s.svc.SuspendTenant
		if sub == "resume" {
			op = s.svc.ResumeTenant
		}
		t, err := op(ctx, pos[0])
		if err != nil {
			return fail(stderr, name, err)
		}
		printTenants(stdout, *asJSON, false, t)
	case "delete":
		rep, err := s.svc.DeleteTenant(ctx, pos[0])
		if err != nil {
			return fail(stderr, name, err)
		}
		if *asJSON {
			emitJSON(stdout, rep)
		} else {
			fmt.Fprintf(stdout, "Deleted tenant %s: %d API key(s) and %d stored blob(s).\n", rep.Tenant, rep.Keys, rep.Blobs)
		}
	}
	return 0
}

func printTenants(w io.Writer, asJSON, list bool, ts ...tenant.Tenant) {
	if asJSON {
		if list {
			if ts == nil {
				ts = []tenant.Tenant{}
			}
			emitJSON(w, map[string]any{"tenants": ts})
		} else {
			emitJSON(w, ts[0])
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tCREATED\tNAME")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Status, t.Created.Format(time.RFC3339), t.Name)
	}
	tw.Flush()
}

func cmdAPIKeys(args []string, stdout, stderr io.Writer) int {
	sub, args, code := subcommand(args, apikeysUsage, stdout, stderr)
	if code >= 0 {
		return code
	}
	name := "apikeys " + sub
	fs := newFlagSet(name, stderr)
	var cf configFlags
	cf.register(fs)
	tid := fs.String("tenant", "", "the tenant (required)")
	label := fs.String("name", "", "a label for the key (create)")
	scopes := fs.String("scopes", "read,write", "comma-separated scopes: read, write, admin (create)")
	expires := fs.String("expires", "", "lifetime such as 720h, or an RFC 3339 time (create); empty: never")
	grace := fs.Duration("grace", 0, "how long the old key stays valid after rotation (rotate); 0: until revoked")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return 2
	}
	wantIDs := map[string]int{"create": 0, "list": 0, "revoke": 1, "rotate": 1}
	n, known := wantIDs[sub]
	if !known {
		fmt.Fprintf(stderr, "vire-server apikeys: unknown command %q\n\n%s", sub, apikeysUsage)
		return 2
	}
	if *tid == "" || len(pos) != n {
		fmt.Fprintf(stderr, "vire-server %s: needs -tenant ID and %d key id argument(s)\n\n%s", name, n, apikeysUsage)
		return 2
	}
	var spec tenant.KeySpec
	if sub == "create" {
		if spec, err = keySpec(*label, *scopes, *expires); err != nil {
			return fail(stderr, name, err)
		}
	}
	s, code := openAdmin(name, &cf, true, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	ctx := s.ctx
	switch sub {
	case "create", "rotate":
		var nk tenant.NewKey
		if sub == "create" {
			nk, err = s.svc.CreateKey(ctx, *tid, spec)
		} else {
			nk, err = s.svc.RotateKey(ctx, *tid, pos[0], tenant.RotateOptions{Grace: *grace})
		}
		if err != nil {
			return fail(stderr, name, err)
		}
		printNewKey(stdout, stderr, *asJSON, nk)
	case "list":
		keys, err := s.svc.ListKeys(ctx, *tid)
		if err != nil {
			return fail(stderr, name, err)
		}
		printKeys(stdout, *asJSON, true, keys...)
	case "revoke":
		k, err := s.svc.RevokeKey(ctx, *tid, pos[0])
		if err != nil {
			return fail(stderr, name, err)
		}
		printKeys(stdout, *asJSON, false, k)
	}
	return 0
}

// keySpec reads the create flags.
func keySpec(label, scopes, expires string) (tenant.KeySpec, error) {
	sc, err := tenant.ParseScopes(scopes)
	if err != nil {
		return tenant.KeySpec{}, err
	}
	spec := tenant.KeySpec{Name: label, Scopes: sc}
	if expires != "" {
		if d, err := time.ParseDuration(expires); err == nil && d > 0 {
			spec.Expires = time.Now().Add(d)
		} else if at, err := time.Parse(time.RFC3339, expires); err == nil {
			spec.Expires = at
		} else {
			return spec, errors.New("-expires must be a positive duration such as 720h or an RFC 3339 time such as 2027-01-31T00:00:00Z")
		}
	}
	return spec, nil
}

// printNewKey prints a new key: the key alone on standard output (or in
// the JSON), everything else on standard error, so that
// KEY=$(vire-server apikeys create ...) captures exactly the key.
func printNewKey(stdout, stderr io.Writer, asJSON bool, nk tenant.NewKey) {
	if asJSON {
		emitJSON(stdout, map[string]any{"key": nk.Key, "info": nk.Info, "warning": api.KeyWarning})
	} else {
		fmt.Fprintln(stdout, nk.Key)
	}
	expiry := "never expires"
	if !nk.Info.Expires.IsZero() {
		expiry = "expires " + nk.Info.Expires.Format(time.RFC3339)
	}
	var scopes []string
	for _, s := range nk.Info.Scopes {
		scopes = append(scopes, string(s))
	}
	fmt.Fprintf(stderr, "Created API key %s for tenant %s (scopes %s; %s).\n", nk.Info.ID, nk.Info.Tenant, strings.Join(scopes, ","), expiry)
	if nk.Info.RotatedFrom != "" {
		fmt.Fprintf(stderr, "It replaces %s, which stays valid until it is revoked or its grace period ends.\n", nk.Info.RotatedFrom)
	}
	fmt.Fprintln(stderr, api.KeyWarning)
}

func printKeys(w io.Writer, asJSON, list bool, keys ...tenant.KeyInfo) {
	now := time.Now()
	if asJSON {
		type view struct {
			tenant.KeyInfo
			State string `json:"state"`
		}
		out := make([]view, 0, len(keys))
		for _, k := range keys {
			out = append(out, view{k, k.State(now)})
		}
		if list {
			emitJSON(w, map[string]any{"keys": out})
		} else {
			emitJSON(w, out[0])
		}
		return
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tNAME")
	for _, k := range keys {
		var sc []string
		for _, s := range k.Scopes {
			sc = append(sc, string(s))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.State(now), strings.Join(sc, ","), when(k.Created), when(k.Expires), when(k.LastUsed), k.Name)
	}
	tw.Flush()
}

func cmdAudit(args []string, stdout, stderr io.Writer) int {
	sub, args, code := subcommand(args, auditUsage, stdout, stderr)
	if code >= 0 {
		return code
	}
	if sub != "verify" {
		fmt.Fprintf(stderr, "vire-server audit: unknown command %q\n\n%s", sub, auditUsage)
		return 2
	}
	fs := newFlagSet("audit verify", stderr)
	var cf configFlags
	cf.register(fs)
	tid := fs.String("tenant", "", "the tenant (default: the personal tenant in personal mode)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseInterleaved(fs, args); err != nil {
		return 2
	}
	s, code := openAdmin("audit verify", &cf, false, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	t := *tid
	if t == "" {
		if !s.app.Store.Layout().Personal {
			fmt.Fprint(stderr, "vire-server audit verify: -tenant is required on a hosted server\n")
			return 2
		}
		t = store.DefaultPersonalTenant
	}
	rep, err := tenant.Verify(s.ctx, s.app.Store, t)
	if err != nil {
		return fail(stderr, "audit verify", err)
	}
	if *asJSON {
		emitJSON(stdout, rep)
	} else if rep.OK() {
		fmt.Fprintf(stdout, "Audit log of tenant %s: intact, %d record(s) in %d segment(s).\n", t, rep.Records, rep.Segments)
		if rep.LastHash != "" {
			fmt.Fprintf(stdout, "Last record hash: %s (keep it elsewhere to anchor the log as it is now)\n", rep.LastHash)
		}
		if rep.Unanchored > 0 {
			fmt.Fprintf(stdout, "%d segment(s) at the end are not yet covered by the head; a change to their last record would not show until it is.\n", rep.Unanchored)
		}
	} else {
		fmt.Fprintf(stdout, "Audit log of tenant %s: BROKEN at %s\n", t, rep.Broken)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// emitJSON prints v as indented JSON.
func emitJSON(w io.Writer, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		fmt.Fprintf(w, "{\"error\": %q}\n", err.Error())
		return
	}
	fmt.Fprintln(w, string(b))
}
