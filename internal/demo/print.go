package demo

import (
	"fmt"
	"io"
	"strings"
)

// Print writes one entry per sample: who it is mapped to, or why it was
// refused. The reason comes from the server's audit log, since the
// TokenReview answer is deliberately vague (status.error "invalid token").
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "iamgate demo: cluster %q, STS stand-in on %s, server %s\n\n", ClusterID, r.STSAddr, r.ServerURL)
	nameW, resW := len("SAMPLE"), len("RESULT")
	for _, row := range r.Rows {
		nameW, resW = max(nameW, len(row.Sample.Name)), max(resW, len(row.result()))
	}
	fmt.Fprintf(w, "    %-*s  %-*s  %s\n", nameW, "SAMPLE", resW, "RESULT", "USERNAME [GROUPS], OR WHY NOT (from the audit log)")
	for _, row := range r.Rows {
		mark := "ok"
		if len(row.Mismatches) > 0 {
			mark = "!!"
		}
		fmt.Fprintf(w, "%s  %-*s  %-*s  %s\n", mark, nameW, row.Sample.Name, resW, row.result(), row.outcome())
		fmt.Fprintf(w, "      %s\n", row.facts())
	}
	for _, row := range r.Rows {
		for _, m := range row.Mismatches {
			fmt.Fprintf(w, "UNEXPECTED %s: %s\n", row.Sample.Name, m)
		}
	}
	if r.ExitCode != 0 {
		fmt.Fprintf(w, "UNEXPECTED server exit code %d\n", r.ExitCode)
	}
	fmt.Fprintf(w, "\nServer log (JSON, one \"review\" line per decision): %s\n", r.LogPath)
	if r.OK() {
		fmt.Fprintf(w, "All %d samples got the expected answer; the server shut down cleanly.\n", len(r.Rows))
	} else {
		fmt.Fprintln(w, "Some samples did NOT get the expected answer (marked !!).")
	}
}

func (row *Row) result() string {
	switch {
	case row.Err != nil:
		return "error"
	case row.Allowed:
		return "allowed"
	default:
		return fmt.Sprintf("denied %d", row.HTTPStatus)
	}
}

func (row *Row) outcome() string {
	if row.Err != nil {
		return row.Err.Error()
	}
	if row.Allowed {
		if len(row.Groups) == 0 {
			return row.Username + " (no groups)"
		}
		return row.Username + " [" + strings.Join(row.Groups, ", ") + "]"
	}
	a := row.Audit
	switch a.Reason {
	case "not_mapped":
		return a.Reason + ": no entry maps " + a.CanonicalARN
	case "sts_invalid":
		return a.Reason + ": STS refused the signature"
	case "expired":
		return a.Reason + ": older than 15 min, refused without asking STS"
	case "mapping_error":
		return a.Reason + ": the matching entry cannot be applied"
	}
	return a.Reason
}

// facts is the second line of an entry: the signer as STS reports it, the
// STS calls made and, for a refusal, status.error and the audit detail.
func (row *Row) facts() string {
	calls := "calls"
	if row.STSCalls == 1 {
		calls = "call"
	}
	s := fmt.Sprintf("signer %s, %d STS %s", row.Sample.Identity.Arn, row.STSCalls, calls)
	if row.Err == nil && !row.Allowed {
		s += fmt.Sprintf(", status.error %q", row.PublicError)
		if row.Audit.Detail != "" {
			s += "\n      audit detail: " + row.Audit.Detail
		}
	}
	return s
}
