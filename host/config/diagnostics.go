package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics renders diagnostics as text with source snippets. Each
// location is written as file:line:col. A diagnostic about a sensitive
// attribute is written without its snippet, and no diagnostic shows the
// values of the variables its expression uses.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) error {
	for _, d := range diags {
		if d == nil {
			continue
		}
		cp := *d
		// Values of variables are useful context, but they are exactly what
		// must never be shown for a secret; the snippet carries the meaning.
		cp.Expression, cp.EvalContext = nil, nil
		use := files
		if x := extraOf(d); x != nil && cp.Subject != nil && files[cp.Subject.Filename] == nil {
			use = x.files
		}
		var buf bytes.Buffer
		if sourceHidden(d) && cp.Subject != nil {
			writeHidden(&buf, use, &cp, color)
		} else {
			if err := hcl.NewDiagnosticTextWriter(&buf, use, 0, color).WriteDiagnostic(&cp); err != nil {
				return err
			}
		}
		out := buf.Bytes()
		if s := cp.Subject; s != nil {
			// HCL names the line only; Vire's messages name the column too.
			from := fmt.Sprintf("  on %s line %d", s.Filename, s.Start.Line)
			to := fmt.Sprintf("  on %s:%d:%d", s.Filename, s.Start.Line, s.Start.Column)
			out = bytes.Replace(out, []byte(from), []byte(to), 1)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// writeHidden writes a diagnostic the way HCL's text writer does, but with
// no source lines: they hold a sensitive value.
func writeHidden(buf *bytes.Buffer, files map[string]*hcl.File, d *hcl.Diagnostic, color bool) {
	var on, off string
	if color {
		on, off = "\x1b[31m", "\x1b[0m"
		if d.Severity == hcl.DiagWarning {
			on = "\x1b[33m"
		}
	}
	sev := "Error"
	if d.Severity == hcl.DiagWarning {
		sev = "Warning"
	}
	fmt.Fprintf(buf, "%s%s%s: %s\n\n", on, sev, off, d.Summary)
	s := d.Subject
	in := ""
	if f := files[s.Filename]; f != nil {
		if ctx := contextOf(f, s.Start.Byte); ctx != "" {
			in = ", in " + ctx
		}
	}
	fmt.Fprintf(buf, "  on %s:%d:%d%s:\n  (source not shown: it holds a sensitive value)\n\n", s.Filename, s.Start.Line, s.Start.Column, in)
	if d.Detail != "" {
		fmt.Fprintf(buf, "%s\n\n", d.Detail)
	}
}

// DiagnosticsJSON renders diagnostics in the shape `terraform validate
// -json` uses, so editors and CI tools that read that format read ours.
// Snippets come from the files the diagnostics were produced from.
func DiagnosticsJSON(diags hcl.Diagnostics) ([]byte, error) {
	type pos struct {
		Line   int `json:"line"`
		Column int `json:"column"`
		Byte   int `json:"byte"`
	}
	type rng struct {
		Filename string `json:"filename"`
		Start    pos    `json:"start"`
		End      pos    `json:"end"`
	}
	type snippet struct {
		Context              *string  `json:"context"`
		Code                 string   `json:"code"`
		StartLine            int      `json:"start_line"`
		HighlightStartOffset int      `json:"highlight_start_offset"`
		HighlightEndOffset   int      `json:"highlight_end_offset"`
		Values               []string `json:"values"`
	}
	type diag struct {
		Severity string   `json:"severity"`
		Summary  string   `json:"summary"`
		Detail   string   `json:"detail"`
		Range    *rng     `json:"range,omitempty"`
		Snippet  *snippet `json:"snippet,omitempty"`
	}
	out := struct {
		FormatVersion string `json:"format_version"`
		Valid         bool   `json:"valid"`
		ErrorCount    int    `json:"error_count"`
		WarningCount  int    `json:"warning_count"`
		Diagnostics   []diag `json:"diagnostics"`
	}{FormatVersion: "1.0", Diagnostics: []diag{}}

	for _, d := range diags {
		if d == nil {
			continue
		}
		jd := diag{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			jd.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if s := d.Subject; s != nil {
			jd.Range = &rng{
				Filename: s.Filename,
				Start:    pos{s.Start.Line, s.Start.Column, s.Start.Byte},
				End:      pos{s.End.Line, s.End.Column, s.End.Byte},
			}
			var f *hcl.File
			if x := extraOf(d); x != nil && !x.hidden {
				f = x.files[s.Filename]
			}
			if f != nil && f.Bytes != nil {
				if code, start, hs, he, ok := snippetOf(f.Bytes, d); ok {
					sn := &snippet{Code: code, StartLine: start, HighlightStartOffset: hs, HighlightEndOffset: he, Values: []string{}}
					if ctx := contextOf(f, s.Start.Byte); ctx != "" {
						sn.Context = &ctx
					}
					jd.Snippet = sn
				}
			}
		}
		out.Diagnostics = append(out.Diagnostics, jd)
	}
	out.Valid = out.ErrorCount == 0
	return json.MarshalIndent(out, "", "  ")
}

// snippetOf returns the whole source lines covering the diagnostic's subject
// and context, and the subject's offsets within them.
func snippetOf(src []byte, d *hcl.Diagnostic) (code string, startLine, hs, he int, ok bool) {
	highlight := *d.Subject
	snip := highlight
	if d.Context != nil {
		snip = hcl.RangeOver(snip, *d.Context)
	}
	if snip.Empty() {
		snip.End.Byte++
		snip.End.Column++
	}
	if highlight.Empty() {
		highlight.End.Byte++
		highlight.End.Column++
	}
	sc := hcl.NewRangeScanner(src, d.Subject.Filename, bufio.ScanLines)
	var buf bytes.Buffer
	codeStart := -1
	for sc.Scan() {
		line := sc.Range()
		if !line.Overlaps(snip) {
			continue
		}
		if codeStart < 0 {
			codeStart = line.Start.Byte
			startLine = line.Start.Line
		} else {
			buf.WriteByte('\n')
		}
		buf.Write(sc.Bytes())
	}
	if codeStart < 0 {
		return "", 0, 0, 0, false
	}
	code = buf.String()
	clamp := func(n int) int { return max(0, min(n, len(code))) }
	hs = clamp(highlight.Start.Byte - codeStart)
	he = clamp(highlight.End.Byte - codeStart)
	return code, startLine, hs, he, true
}

func contextOf(f *hcl.File, offset int) string {
	type contextStringer interface {
		ContextString(offset int) string
	}
	if cs, ok := f.Nav.(contextStringer); ok {
		return cs.ContextString(offset)
	}
	return ""
}
