package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hashicorp/go-hclog"

	"github.com/vire-dev/vire/host/app"
	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

const keysUsage = `Usage: vire-server keys <command> [-config FILE] [-var NAME=VALUE]... [-tenant ID | -all] [-json]

Encryption keys of the stored data (API keys are 'vire-server apikeys').

Commands:
  status     per tenant: the key provider's key versions, the data keys (DEKs)
             and the key version wrapping each, and how many documents each DEK sealed
  rotate     rotate the provider's key where the provider can (vault), and add a
             new data-key version that new writes use
  rewrap     re-wrap every data key under the provider's latest key version
             (after a provider rotation; no document is touched)
  reencrypt  re-seal every document not sealed with the current data key
             (after rotate; resumable with -cursor)

Without -tenant or -all, a personal configuration works on its single tenant;
a hosted one needs -tenant ID or -all.
`

// scope is the -tenant / -all selection of an operator command.
type scope struct {
	tenant   string
	all      bool
	allowAll bool
}

func (s *scope) register(fs *flag.FlagSet, allowAll bool) {
	fs.StringVar(&s.tenant, "tenant", "", "tenant id (default: the single tenant of a personal configuration)")
	s.allowAll = allowAll
	if allowAll {
		fs.BoolVar(&s.all, "all", false, "every tenant in the store")
	}
}

// resolve turns the selection into tenant ids, checked against the store's
// layout. An empty result with no error means the store has no tenants.
func (s scope) resolve(ctx context.Context, st *store.Store) ([]string, error) {
	personal := st.Layout().Personal
	switch {
	case s.tenant != "" && s.all:
		return nil, errors.New("give -tenant ID or -all, not both")
	case s.all:
		ts, err := st.Tenants(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the tenants: %w", err)
		}
		return ts, nil
	case s.tenant != "":
		if err := store.ValidateTenant(s.tenant); err != nil {
			return nil, err
		}
		if personal {
			ts, err := st.Tenants(ctx)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(ts, s.tenant) {
				return nil, fmt.Errorf("this configuration is personal (auth mode %q) and its only tenant is %q; "+
					"leave out -tenant, or use a hosted configuration (auth { mode = \"api_key\" })", "none", ts[0])
			}
		}
		return []string{s.tenant}, nil
	case personal:
		return st.Tenants(ctx)
	case s.allowAll:
		return nil, errors.New("this configuration is hosted (one tenant per user): name a tenant with -tenant ID, or use -all")
	default:
		return nil, errors.New("this configuration is hosted (one tenant per user): name the tenant with -tenant ID")
	}
}

// session is a started configuration for an operator command: the plugins
// run, nothing is served.
type session struct {
	ctx     context.Context
	app     *app.App
	tenants []string
	cfgArg  string // " -config PATH" to repeat in suggested commands
	// stderr is where the command writes after the session opened: plugin
	// log lines arrive there from other goroutines.
	stderr io.Writer
	out    *lockedWriter
	stop   func()
}

func (s *session) close() {
	s.app.Close()
	s.stop()
	s.out.close()
}

// lockedWriter serialises the command's own messages with the plugin log
// lines written from go-plugin's goroutines, and drops log lines that arrive
// after the command finished, when the writer may no longer be in use.
type lockedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return len(p), nil
	}
	return l.w.Write(p)
}

func (l *lockedWriter) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// openSession loads the configuration, starts its plugins and resolves the
// tenants. On failure it has reported the problem and returns the exit
// status.
func openSession(name string, cf *configFlags, sc scope, needKeys bool, stderr io.Writer) (*session, int) {
	cfg, diags := cf.load()
	writeDiags(stderr, cfg, diags)
	if diags.HasErrors() {
		return nil, 1
	}
	out := &lockedWriter{w: stderr}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	log := hclog.New(&hclog.LoggerOptions{Name: "vire-server", Level: hclog.Warn, Output: out})
	a, diags := app.Start(ctx, cfg, app.Options{Logger: log, HealthInterval: -1})
	writeDiags(out, cfg, diags)
	if diags.HasErrors() {
		stop()
		out.close()
		return nil, 1
	}
	s := &session{ctx: ctx, app: a, stop: stop, stderr: out, out: out}
	if cf.path != "" {
		s.cfgArg = " -config " + cf.path
	}
	if needKeys && a.Envelope == nil {
		fmt.Fprintf(out, "vire-server %s: encryption is off: the configuration has no keys block, so there are no encryption keys to manage\n", name)
		s.close()
		return nil, 1
	}
	ts, err := sc.resolve(ctx, a.Store)
	if err != nil {
		fmt.Fprintf(out, "vire-server %s: %v\n", name, err)
		s.close()
		return nil, 1
	}
	s.tenants = ts
	return s, 0
}

// describe renders an error for an operator: the error itself (which never
// holds a secret) and, for the common kinds, what to check.
func describe(err error) string {
	msg := err.Error()
	var hint string
	switch {
	case errors.Is(err, sdk.ErrUnauthorized):
		hint = "the key provider refused its credentials: renew or replace the token (or AppRole login) in the keys block, or restore its policy"
	case errors.Is(err, sdk.ErrUnavailable):
		hint = "the key provider or the storage cannot be reached: check that it is running, then run the command again"
	case errors.Is(err, crypt.ErrProviderMismatch):
		hint = "the data was encrypted under another key provider: configure that one to read it, or move the data with `vire-server data export` and `data import`"
	case errors.Is(err, crypt.ErrProviderRefused) && errors.Is(err, sdk.ErrIntegrity):
		hint = "the configured key does not open this tenant's data keys: is the master key or passphrase the one the data was written with, with every earlier one still listed as retired?"
	case errors.Is(err, sdk.ErrIntegrity):
		hint = "stored data failed its integrity check: it was damaged, or written for another tenant or under another key"
	}
	if hint != "" {
		msg += "\n  hint: " + hint
	}
	return msg
}

func cmdKeys(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "status":
		return keysStatus(args, stdout, stderr)
	case "rotate":
		return keysRotate(args, stdout, stderr)
	case "rewrap":
		return keysRewrap(args, stdout, stderr)
	case "reencrypt":
		return keysReencrypt(args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, keysUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "vire-server keys: unknown command %q\n\n%s", sub, keysUsage)
		return 2
	}
}

// keysFlags are the flags every keys command shares.
type keysFlags struct {
	fs     *flag.FlagSet
	cf     configFlags
	sc     scope
	asJSON bool
}

func newKeysFlags(name string, stderr io.Writer) *keysFlags {
	k := &keysFlags{fs: newFlagSet(name, stderr)}
	k.cf.register(k.fs)
	k.sc.register(k.fs, true)
	k.fs.BoolVar(&k.asJSON, "json", false, "print the result as JSON")
	return k
}

func (k *keysFlags) parse(args []string) bool {
	if err := k.fs.Parse(args); err != nil {
		return false
	}
	if k.fs.NArg() > 0 {
		fmt.Fprintf(k.fs.Output(), "%s: unexpected argument %q\n", k.fs.Name(), k.fs.Arg(0))
		return false
	}
	return true
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(w, string(b))
}

func versionList(vs []uint32) string {
	if len(vs) == 0 {
		return "none"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.FormatUint(uint64(v), 10)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// rotateResult is what `keys rotate` did for one tenant.
type rotateResult struct {
	Tenant string `json:"tenant"`
	// ProviderKeyVersion is the provider's latest key version afterwards.
	ProviderKeyVersion uint32 `json:"provider_key_version,omitempty"`
	ProviderRotated    bool   `json:"provider_rotated"`
	ProviderNote       string `json:"provider_note,omitempty"`
	DEKVersion         uint32 `json:"dek_version,omitempty"`
	Skipped            string `json:"skipped,omitempty"`
	Error              string `json:"error,omitempty"`
}

func keysRotate(args []string, stdout, stderr io.Writer) int {
	k := newKeysFlags("keys rotate", stderr)
	if !k.parse(args) {
		return 2
	}
	s, code := openSession("keys rotate", &k.cf, k.sc, true, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	stderr = s.stderr

	// A provider key may be shared by every tenant (vault's transit key is):
	// a tenant whose latest version moved since the start was rotated along
	// with an earlier tenant and must not be rotated again.
	before := map[string]uint32{}
	for _, t := range s.tenants {
		if st, err := s.app.Keys.Status(s.ctx, t); err == nil {
			before[t] = st.Latest
		}
	}
	var results []rotateResult
	failed, providerRotated, noted := false, false, false
	for _, t := range s.tenants {
		r := rotateOne(s, t, before)
		failed = failed || r.Error != ""
		providerRotated = providerRotated || r.ProviderRotated
		results = append(results, r)
		if !k.asJSON {
			printRotate(stdout, stderr, r, noted)
		}
		noted = noted || r.ProviderNote != ""
	}
	switch {
	case k.asJSON:
		writeJSON(stdout, map[string]any{"tenants": results})
	case len(results) == 0:
		fmt.Fprintln(stdout, "No tenants in the store yet: nothing to rotate.")
	case !failed:
		scope := " -all"
		if len(s.tenants) == 1 && !k.sc.all {
			scope = " -tenant " + s.tenants[0]
		}
		fmt.Fprintln(stdout)
		if providerRotated {
			fmt.Fprintf(stdout, "Next: `vire-server keys rewrap%s%s` moves the older data keys to the new provider key.\n", s.cfgArg, scope)
		}
		fmt.Fprintf(stdout, "Next: `vire-server keys reencrypt%s%s` re-seals documents with the new data key. Running servers\n"+
			"switch to it within %d minutes; run reencrypt after that, or again later (it only rewrites what is not current).\n",
			s.cfgArg, scope, int(crypt.DefaultCacheTTL.Minutes()))
	}
	if failed {
		return 1
	}
	return 0
}

func rotateOne(s *session, t string, before map[string]uint32) rotateResult {
	r := rotateResult{Tenant: t}
	if _, err := s.app.Envelope.Status(s.ctx, t); errors.Is(err, sdk.ErrNotFound) {
		r.Skipped = "no keyring yet (nothing encrypted): its first write creates one under the latest key"
		return r
	} else if err != nil {
		r.Error = describe(err)
		return r
	}
	st, err := s.app.Keys.Status(s.ctx, t)
	if err != nil {
		r.Error = "key provider: " + describe(err)
		return r
	}
	prev, known := before[t]
	switch {
	case !st.Rotatable:
		_, err := s.app.Keys.Rotate(s.ctx, t)
		if err == nil {
			err = errors.New("the provider says it cannot rotate, yet its Rotate succeeded")
		}
		if !errors.Is(err, sdk.ErrUnsupported) {
			r.Error = "key provider: " + describe(err)
			return r
		}
		r.ProviderNote = strings.TrimSuffix(err.Error(), ": "+sdk.ErrUnsupported.Error())
		r.ProviderKeyVersion = st.Latest
	case known && st.Latest > prev:
		r.ProviderNote = "already rotated during this run (the provider's key is shared by all tenants)"
		r.ProviderKeyVersion = st.Latest
	default:
		v, err := s.app.Keys.Rotate(s.ctx, t)
		if err != nil {
			r.Error = "rotating the provider key: " + describe(err)
			return r
		}
		r.ProviderRotated, r.ProviderKeyVersion = true, v
	}
	v, err := s.app.Envelope.RotateDEK(s.ctx, t)
	if err != nil {
		r.Error = "adding a data key: " + describe(err)
		return r
	}
	r.DEKVersion = v
	return r
}

// printRotate reports one tenant's rotation; the provider's note on how it
// rotates is the same for every tenant, so it is printed in full once.
func printRotate(w, errw io.Writer, r rotateResult, noted bool) {
	switch {
	case r.Skipped != "":
		fmt.Fprintf(w, "%s: skipped: %s\n", r.Tenant, r.Skipped)
		return
	case r.ProviderRotated:
		fmt.Fprintf(w, "%s: provider key rotated to version %d\n", r.Tenant, r.ProviderKeyVersion)
	case r.ProviderNote != "" && noted:
		fmt.Fprintf(w, "%s: provider key not rotated (latest version %d; see above)\n", r.Tenant, r.ProviderKeyVersion)
	case r.ProviderNote != "":
		fmt.Fprintf(w, "%s: provider key not rotated (latest version %d): %s\n", r.Tenant, r.ProviderKeyVersion, r.ProviderNote)
	}
	if r.Error != "" {
		fmt.Fprintf(errw, "vire-server keys rotate: tenant %s: %s\n", r.Tenant, r.Error)
		return
	}
	fmt.Fprintf(w, "%s: new data key version %d; new writes use it\n", r.Tenant, r.DEKVersion)
}

// rewrapResult is what `keys rewrap` did for one tenant.
type rewrapResult struct {
	Tenant string `json:"tenant"`
	// Before and After are the provider key versions wrapping the DEKs.
	Before  []uint32 `json:"before,omitempty"`
	After   []uint32 `json:"after,omitempty"`
	DEKs    int      `json:"deks"`
	Skipped string   `json:"skipped,omitempty"`
	Error   string   `json:"error,omitempty"`
}

func keyVersions(kr crypt.KeyringInfo) []uint32 {
	var out []uint32
	for _, d := range kr.DEKs {
		if !slices.Contains(out, d.KeyVersion) {
			out = append(out, d.KeyVersion)
		}
	}
	slices.Sort(out)
	return out
}

func keysRewrap(args []string, stdout, stderr io.Writer) int {
	k := newKeysFlags("keys rewrap", stderr)
	if !k.parse(args) {
		return 2
	}
	s, code := openSession("keys rewrap", &k.cf, k.sc, true, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	stderr = s.stderr
	var results []rewrapResult
	failed := false
	for _, t := range s.tenants {
		r := rewrapResult{Tenant: t}
		before, err := s.app.Envelope.Status(s.ctx, t)
		switch {
		case errors.Is(err, sdk.ErrNotFound):
			r.Skipped = "no keyring yet (nothing encrypted)"
		case err != nil:
			r.Error = describe(err)
		default:
			r.Before = keyVersions(before)
			after, err := s.app.Envelope.Rewrap(s.ctx, t)
			if err != nil {
				r.Error = describe(err)
				break
			}
			r.After, r.DEKs = keyVersions(after), len(after.DEKs)
		}
		failed = failed || r.Error != ""
		results = append(results, r)
		if k.asJSON {
			continue
		}
		switch {
		case r.Skipped != "":
			fmt.Fprintf(stdout, "%s: skipped: %s\n", t, r.Skipped)
		case r.Error != "":
			fmt.Fprintf(stderr, "vire-server keys rewrap: tenant %s: %s\n", t, r.Error)
		default:
			fmt.Fprintf(stdout, "%s: %s now wrapped under provider key version %s (before: %s)\n",
				t, plural(r.DEKs, "data key", "data keys"), versionList(r.After), versionList(r.Before))
		}
	}
	if k.asJSON {
		writeJSON(stdout, map[string]any{"tenants": results})
	} else if len(results) == 0 {
		fmt.Fprintln(stdout, "No tenants in the store yet: nothing to rewrap.")
	}
	if failed {
		return 1
	}
	return 0
}

// reencryptResult is what `keys reencrypt` did for one tenant.
type reencryptResult struct {
	Tenant string `json:"tenant"`
	store.ReEncryptProgress
	Error string `json:"error,omitempty"`
}

func keysReencrypt(args []string, stdout, stderr io.Writer) int {
	k := newKeysFlags("keys reencrypt", stderr)
	cursor := k.fs.String("cursor", "", "resume a run of one tenant (-tenant) from the cursor it printed")
	if !k.parse(args) {
		return 2
	}
	if *cursor != "" && k.sc.all {
		fmt.Fprintln(stderr, "vire-server keys reencrypt: -cursor resumes one tenant's run: use it with -tenant, not -all")
		return 2
	}
	s, code := openSession("keys reencrypt", &k.cf, k.sc, true, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	stderr = s.stderr
	if *cursor != "" && len(s.tenants) != 1 {
		fmt.Fprintln(stderr, "vire-server keys reencrypt: -cursor resumes one tenant's run: name the tenant with -tenant")
		return 2
	}
	var results []reencryptResult
	failed := false
	for _, t := range s.tenants {
		resume := func(c string) string {
			return fmt.Sprintf("vire-server keys reencrypt%s -tenant %s -cursor %s", s.cfgArg, t, shellQuote(c))
		}
		// Progress goes to stderr so that stdout holds only the result.
		p, err := s.app.Store.ReEncrypt(s.ctx, t, *cursor, func(p store.ReEncryptProgress) {
			line := fmt.Sprintf("%s: %d scanned, %d re-encrypted, %d already current, %d failed",
				t, p.Scanned, p.Rewritten, p.Current+p.Raced, p.Failed)
			if p.Cursor != "" {
				line += "; to resume from here: " + resume(p.Cursor)
			}
			fmt.Fprintln(stderr, line)
		})
		r := reencryptResult{Tenant: t, ReEncryptProgress: p}
		if err != nil {
			failed = true
			r.Error = describe(err)
			if s.ctx.Err() != nil {
				r.Error = "interrupted"
			}
			// A cursor is left only when the walk stopped part way.
			if p.Cursor != "" {
				r.Error += "\n  resume with: " + resume(p.Cursor)
			}
		}
		results = append(results, r)
		if !k.asJSON {
			printReencrypt(stdout, stderr, r)
		}
		if s.ctx.Err() != nil {
			break
		}
	}
	if k.asJSON {
		writeJSON(stdout, map[string]any{"tenants": results})
	} else if len(results) == 0 {
		fmt.Fprintln(stdout, "No tenants in the store yet: nothing to re-encrypt.")
	}
	if failed {
		return 1
	}
	return 0
}

func printReencrypt(w, errw io.Writer, r reencryptResult) {
	switch {
	case r.DEKVersion != 0:
		fmt.Fprintf(w, "%s: %d documents scanned: %d re-encrypted with data key %d, %d already current, %d deleted meanwhile, %d failed\n",
			r.Tenant, r.Scanned, r.Rewritten, r.DEKVersion, r.Current+r.Raced, r.Vanished, r.Failed)
	case r.Error == "":
		fmt.Fprintf(w, "%s: no keyring yet (nothing encrypted): nothing to re-encrypt\n", r.Tenant)
	}
	if r.Error != "" {
		fmt.Fprintf(errw, "vire-server keys reencrypt: tenant %s: %s\n", r.Tenant, r.Error)
	}
}

// shellQuote quotes a cursor for a command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=+:,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
