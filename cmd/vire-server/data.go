package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

const dataUsage = `Usage: vire-server data <command> [-config FILE] [-var NAME=VALUE]... [-tenant ID] [flags]

Move a tenant's documents between stores, decrypting on export and sealing
with the target's keys on import.

Commands:
  export [-o FILE] [-force]   write the tenant's documents, in plaintext, to FILE
                              (default: standard output); FILE is created with mode 0600
  import [-i FILE]            write the documents of an export (default: standard input)
                              into the tenant, overwriting documents of the same kind and name

Without -tenant, a personal configuration uses its single tenant; a hosted one
needs -tenant ID. An export from a personal store imports into any tenant of a
hosted store:

  vire-server data export -o personal-export.jsonl
  vire-server data import -config hosted.hcl -tenant alice -i personal-export.jsonl
`

func cmdData(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, dataUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "export":
		return dataExport(args, stdout, stderr)
	case "import":
		return dataImport(args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, dataUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "vire-server data: unknown command %q\n\n%s", sub, dataUsage)
		return 2
	}
}

func dataExport(args []string, stdout, stderr io.Writer) int {
	const name = "data export"
	fs := newFlagSet(name, stderr)
	var cf configFlags
	var sc scope
	cf.register(fs)
	sc.register(fs, false)
	out := fs.String("o", "-", "file to write (\"-\": standard output)")
	force := fs.Bool("force", false, "replace FILE if it exists")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vire-server %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	if *out != "-" && !*force {
		if _, err := os.Lstat(*out); err == nil {
			fmt.Fprintf(stderr, "vire-server %s: %s exists; choose another file, or add -force to replace it\n", name, *out)
			return 1
		}
	}
	s, code := openSession(name, &cf, sc, false, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	stderr = s.stderr
	tenant := s.tenants[0]

	var n int
	var err error
	if *out == "-" {
		fmt.Fprintf(stderr, "warning: the export holds the documents of tenant %q in plaintext\n", tenant)
		w := bufio.NewWriter(stdout)
		n, err = s.app.Store.Export(s.ctx, tenant, w)
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
	} else {
		n, err = exportToFile(s, tenant, *out)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vire-server %s: tenant %s: %s\n", name, tenant, describe(err))
		return 1
	}
	where := "standard output"
	if *out != "-" {
		where = *out
		fmt.Fprintf(stderr, "warning: %s holds the documents of tenant %q in plaintext: keep it as safe as the keys, and delete it once imported\n", *out, tenant)
	}
	fmt.Fprintf(stderr, "exported %d documents of tenant %s to %s\n", n, tenant, where)
	return 0
}

// exportToFile writes the export to a private temporary file beside path
// and renames it into place once complete, so a failed export leaves no
// partial file and the plaintext is never readable by others, even for a
// moment.
func exportToFile(s *session, tenant, path string) (int, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; say so explicitly all the same.
	if err := f.Chmod(0o600); err != nil {
		return 0, err
	}
	w := bufio.NewWriter(f)
	n, err := s.app.Store.Export(s.ctx, tenant, w)
	if err != nil {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	if err := f.Sync(); err != nil {
		return n, err
	}
	if err := f.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return n, err
	}
	done = true
	return n, nil
}

func dataImport(args []string, stdout, stderr io.Writer) int {
	const name = "data import"
	fs := newFlagSet(name, stderr)
	var cf configFlags
	var sc scope
	cf.register(fs)
	sc.register(fs, false)
	in := fs.String("i", "-", "export file to read (\"-\": standard input)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vire-server %s: unexpected argument %q\n", name, fs.Arg(0))
		return 2
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fmt.Fprintf(stderr, "vire-server %s: %v\n", name, err)
			return 1
		}
		defer f.Close()
		r = f
	}
	s, code := openSession(name, &cf, sc, false, stderr)
	if s == nil {
		return code
	}
	defer s.close()
	stderr = s.stderr
	tenant := s.tenants[0]
	if s.app.Envelope == nil {
		fmt.Fprintln(stderr, "note: encryption is off in this configuration (no keys block): the documents are stored unencrypted")
	}
	n, err := s.app.Store.Import(s.ctx, tenant, bufio.NewReader(r))
	if err != nil {
		msg := describe(err)
		if n > 0 {
			msg += fmt.Sprintf("\n  %d documents were imported before the failure; importing the file again is safe", n)
		}
		fmt.Fprintf(stderr, "vire-server %s: tenant %s: %s\n", name, tenant, msg)
		return 1
	}
	how := "sealed with its data key"
	if s.app.Envelope == nil {
		how = "unencrypted"
	}
	fmt.Fprintf(stdout, "imported %d documents into tenant %s (%s)\n", n, tenant, how)
	return 0
}
