package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/vire-dev/vire/host/crypt"
	"github.com/vire-dev/vire/host/store"
	"github.com/vire-dev/vire/sdk"
)

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
	switch {
	case len(ts.Errors)+len(ts.Advice) > 0:
	case ts.Keyring == nil:
		fmt.Fprintln(w, "  ok: nothing encrypted yet; the first write creates the keyring under the latest provider key")
	default:
		fmt.Fprintln(w, "  ok: every data key is wrapped under the latest provider key and every document uses the current data key")
	}
}
