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
	"syscall"
	"text/tabwriter"
	"time"

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
	stop    func()
}

func (s *session) close() {
	s.app.Close()
	s.stop()
}

// openSession loads the configuration, starts its plugins and resolves the
// tenants. On failure it has reported the problem
// and returns the exit status.
func openSession(name string, cf *configFlags, sc scope, needKeys bool, stderr io.Writer) (*session, int) {
	cfg, diags := cf.load()
	writeDiags(stderr, cfg, diags)
	if diags.HasErrors() {
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
	s := &session{ctx: ctx, app: a, stop: stop}
	if cf.path != "" {
		s.cfgArg = " -config " + cf.path
	}
	if needKeys && a.Envelope == nil {
		fmt.Fprintf(stderr, "vire-server %s: encryption is off: the configuration has no keys block, so there are no encryption keys to manage\n", name)
		s.close()
		return nil, 1
	}
	ts, err := sc.resolve(ctx, a.Store)
	if err != nil {
		fmt.Fprintf(stderr, "vire-server %s: %v\n", name, err)
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

// tenantStatus is what `keys status` reports for one tenant.
type tenantStatus struct {
	Tenant      string             `json:"tenant"`
	Provider    string             `json:"provider"`
	ProviderKey *sdk.KeyStatus     `json:"provider_key,omitempty"`
	Keyring     *crypt.KeyringInfo `json:"keyring,omitempty"`
	// KeyVersionsInUse are the provider key versions wrapping the DEKs.
	KeyVersionsInUse []uint32        `json:"key_versions_in_use"`
	Documents        *store.KeyUsage `json:"documents,omitempty"`
	Advice           []string        `json:"advice,omitempty"`
	Errors           []string        `json:"errors,omitempty"`
}

func keysStatus(args []string, stdout, stderr io.Writer) int {
	k := newKeysFlags("keys status", stderr)
	if !k.parse(args) {
		return 2
	}
	s, code := openSession("keys status", &k.cf, k.sc, true, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	out := make([]tenantStatus, 0, len(s.tenants))
	failed := false
	for _, t := range s.tenants {
		ts := statusOf(s, t)
		failed = failed || len(ts.Errors) > 0
		out = append(out, ts)
	}
	if k.asJSON {
		writeJSON(stdout, map[string]any{"tenants": out})
	} else {
		if len(out) == 0 {
			fmt.Fprintln(stdout, "No tenants in the store yet.")
		}
		for i, ts := range out {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printStatus(stdout, ts)
		}
	}
	if failed {
		return 1
	}
	return 0
}

func statusOf(s *session, t string) tenantStatus {
	ts := tenantStatus{Tenant: t, Provider: s.app.Envelope.ProviderID(), KeyVersionsInUse: []uint32{}}
	fail := func(what string, err error) { ts.Errors = append(ts.Errors, what+": "+describe(err)) }
	advise := func(format string, args ...any) { ts.Advice = append(ts.Advice, fmt.Sprintf(format, args...)) }

	if pk, err := s.app.Keys.Status(s.ctx, t); err != nil {
		fail("key provider", err)
	} else {
		ts.ProviderKey = &pk
	}
	kr, err := s.app.Envelope.Status(s.ctx, t)
	switch {
	case errors.Is(err, sdk.ErrNotFound):
	case err != nil:
		fail("keyring", err)
	default:
		ts.Keyring = &kr
		for _, d := range kr.DEKs {
			if !slices.Contains(ts.KeyVersionsInUse, d.KeyVersion) {
				ts.KeyVersionsInUse = append(ts.KeyVersionsInUse, d.KeyVersion)
			}
		}
		slices.Sort(ts.KeyVersionsInUse)
	}
	usage, err := s.app.Store.KeyUsage(s.ctx, t)
	if err != nil {
		fail("documents", err)
	} else {
		ts.Documents = &usage
	}

	// What the operator should do next.
	if ts.Keyring != nil && ts.ProviderKey != nil {
		old := 0
		for _, d := range ts.Keyring.DEKs {
			if d.KeyVersion < ts.ProviderKey.MinDecrypt {
				advise("data key %d is wrapped under provider key version %d, below the oldest the provider still opens (%d): "+
					"it cannot be unwrapped until that version is usable again", d.Version, d.KeyVersion, ts.ProviderKey.MinDecrypt)
			}
			if d.KeyVersion < ts.ProviderKey.Latest {
				old++
			}
		}
		if old > 0 {
			advise("%s wrapped under an older provider key version: run `vire-server keys rewrap%s -tenant %s`",
				plural(old, "data key is", "data keys are"), s.cfgArg, t)
		}
	}
	if ts.Documents != nil {
		u := ts.Documents
		var current uint32
		held := map[uint32]bool{}
		if ts.Keyring != nil {
			current = ts.Keyring.Current
			for _, d := range ts.Keyring.DEKs {
				held[d.Version] = true
			}
		}
		older, missing := 0, 0
		for v, n := range u.DEKVersions {
			switch {
			case !held[v]:
				missing += n
			case v < current:
				older += n
			}
		}
		if older > 0 {
			advise("%s sealed with an older data key: run `vire-server keys reencrypt%s -tenant %s`",
				plural(older, "document is", "documents are"), s.cfgArg, t)
		}
		if missing > 0 {
			advise("%s a data-key version the keyring does not hold: they cannot be opened", plural(missing, "document names", "documents name"))
		}
		for p, n := range u.Providers {
			if p != ts.Provider {
				advise("%s sealed under key provider %q, not the configured %q: they cannot be opened with this configuration",
					plural(n, "document is", "documents are"), p, ts.Provider)
			}
		}
		if u.Plaintext > 0 {
			advise("%s not encrypted (written while encryption was off) and cannot be read while it is on", plural(u.Plaintext, "document is", "documents are"))
		}
		if u.Unreadable > 0 {
			advise("%s a damaged envelope header", plural(u.Unreadable, "document has", "documents have"))
		}
	}
	return ts
}

func printStatus(w io.Writer, ts tenantStatus) {
	fmt.Fprintf(w, "Tenant %s\n", ts.Tenant)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if pk := ts.ProviderKey; pk != nil {
		rot := "rotated by configuration"
		if pk.Rotatable {
			rot = "rotatable with `keys rotate`"
		}
		fmt.Fprintf(tw, "  key provider\t%s: key versions %s (latest %d, oldest usable %d), %s\n",
			ts.Provider, versionList(pk.Versions), pk.Latest, pk.MinDecrypt, rot)
	} else {
		fmt.Fprintf(tw, "  key provider\t%s\n", ts.Provider)
	}
	if kr := ts.Keyring; kr != nil {
		fmt.Fprintf(tw, "  data keys\tcurrent version %d; provider key versions in use: %s\n", kr.Current, versionList(ts.KeyVersionsInUse))
	} else {
		fmt.Fprintf(tw, "  data keys\tnone yet: the tenant has no keyring (nothing encrypted)\n")
	}
	if u := ts.Documents; u != nil {
		sealed := 0
		for _, n := range u.DEKVersions {
			sealed += n
		}
		fmt.Fprintf(tw, "  documents\t%d (%d sealed, %d not encrypted, %d damaged)\n", u.Documents, sealed, u.Plaintext, u.Unreadable)
	}
	tw.Flush()
	if kr := ts.Keyring; kr != nil {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "    DEK\tWRAPPED UNDER\tCREATED\tSEALS RESERVED\tDOCUMENTS")
		for _, d := range kr.DEKs {
			n := 0
			if ts.Documents != nil {
				n = ts.Documents.DEKVersions[d.Version]
			}
			mark := ""
			if d.Version == kr.Current {
				mark = "  (current)"
			}
			fmt.Fprintf(tw, "    %d\tkey version %d\t%s\t%d\t%d%s\n", d.Version, d.KeyVersion, d.Created.Format(time.RFC3339), d.SealsReserved, n, mark)
		}
		tw.Flush()
	}
	for _, e := range ts.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	for _, a := range ts.Advice {
		fmt.Fprintf(w, "  to do: %s\n", a)
	}
	if len(ts.Errors) == 0 && len(ts.Advice) == 0 {
		fmt.Fprintln(w, "  ok: every data key is wrapped under the latest provider key and every document uses the current data key")
	}
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
				if p.Cursor != "" {
					r.Error += "; resume with: " + resume(p.Cursor)
				}
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
