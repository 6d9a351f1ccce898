package resolveids

import (
	"fmt"
	"io"
	"strings"
)

// Print writes the report as a diff-like list: one header line per entry
// (its place and ARN), then what happens to its userid:
//
//   - userid: AROA...           filled (or would be)
//   - userid: AROAOLD...        replaced by the + line below it (--overwrite)
//     ! userid: AROAOLD...        differs from IAM's; left unchanged
//     ? ...                       principal not found; left unchanged
//     # ...                       skipped, with the reason
//     userid: AROA...           already IAM's
//
// and a summary line. Entries pinned correctly are listed only when
// verbose is set.
func (r *Report) Print(w io.Writer, o Options, verbose bool) {
	mode := "dry run"
	if o.Write {
		mode = "write"
	}
	fmt.Fprintf(w, "%s: %s, lookups in account %s\n", r.Target, mode, r.Account)
	for _, c := range r.Changes {
		if c.Status == UpToDate && !verbose {
			continue
		}
		arn := c.ARN
		if arn == "" {
			arn = "(no ARN)"
		}
		fmt.Fprintf(w, "  %s (line %d) %s\n", c.Where, c.Line, arn)
		switch c.Status {
		case Filled:
			fmt.Fprintf(w, "+     userid: %s\n", c.New)
		case Replaced:
			fmt.Fprintf(w, "-     userid: %s\n+     userid: %s\n", c.Old, c.New)
		case UpToDate:
			fmt.Fprintf(w, "      userid: %s (IAM's)\n", c.Old)
		case Differs:
			fmt.Fprintf(w, "!     userid: %s, but IAM's is %s: the principal was deleted and re-created since "+
				"the entry was pinned. Left unchanged; make sure the new one should have this access, then "+
				"run with --overwrite\n", c.Old, c.IAM)
		case NotFound:
			fmt.Fprintf(w, "?     %s; left unchanged\n", c.Note)
		case Skipped:
			fmt.Fprintf(w, "#     skipped: %s\n", c.Note)
		case Failed:
			fmt.Fprintf(w, "!     lookup failed: %s\n", c.Note)
		}
		if c.Note != "" && c.Status != NotFound && c.Status != Skipped && c.Status != Failed {
			fmt.Fprintf(w, "#     %s\n", c.Note)
		}
	}
	fmt.Fprintln(w, r.Summary(o))
}

// Summary is one line: counts per outcome and whether anything was written.
func (r *Report) Summary(o Options) string {
	fill, repl := "to fill", "to replace"
	if r.Written {
		fill, repl = "filled", "replaced"
	}
	var parts []string
	add := func(s Status, what string) {
		if n := r.Count(s); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(Filled, fill)
	add(Replaced, repl)
	add(UpToDate, "up to date")
	add(Differs, "differing from IAM (not changed)")
	add(NotFound, "not found in IAM")
	add(Skipped, "skipped")
	add(Failed, "failed")
	if len(parts) == 0 {
		parts = append(parts, "no entries")
	}
	s := "summary: " + strings.Join(parts, ", ")
	switch {
	case r.Written:
		s += "; written"
		if r.Attempts > 1 {
			s += fmt.Sprintf(" (after %d conflicting edits, re-read each time)", r.Attempts-1)
		}
	case !r.Pending():
		s += "; nothing to write"
	case r.Count(Failed) > 0:
		s += "; nothing written"
	case !o.Write:
		s += "; dry run, nothing written (--write applies)"
	}
	return s
}
