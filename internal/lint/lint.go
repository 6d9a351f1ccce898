// Package lint finds what is wrong, or likely wrong, in IAM mappings before
// they reach a cluster: in an aws-auth ConfigMap, a config file, a dynamic
// file, an AWSIamConfig or IAMIdentityMapping objects. It reads them with
// the parser the server uses and judges entries with the server's own rules
// (rules.Build); the rules here add what the server cannot refuse but a
// person should hear about.
package lint

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Severity of a finding.
type Severity string

const (
	Error   Severity = "error"   // the server refuses it, or it locks someone out
	Warning Severity = "warning" // it loads, but is likely not what was meant
)

// Finding is one thing to fix. Line is 1-based in File (for a ConfigMap
// read from the API, in the data key's value; File is then empty and
// Object names the object).
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"` // stable id, e.g. "assumed-role-arn"
	File     string   `json:"file,omitempty"`
	Object   string   `json:"object,omitempty"`
	Line     int      `json:"line,omitempty"`
	Section  string   `json:"section,omitempty"`
	Index    int      `json:"index"`
	Message  string   `json:"message"`
	// fatal marks a server problem that refuses the whole source.
	fatal bool
}

// String reads like a compiler's message:
// `aws-auth.yaml:14: error: rolearn is an STS assumed-role ARN; use … [assumed-role-arn]`.
func (f Finding) String() string {
	where := f.File
	if where == "" {
		where = strings.TrimSpace(f.Object + " " + f.Section)
	}
	if f.Line > 0 {
		where += fmt.Sprintf(":%d", f.Line)
	}
	if where == "" {
		return fmt.Sprintf("%s: %s [%s]", f.Severity, f.Message, f.Rule)
	}
	return fmt.Sprintf("%s: %s: %s [%s]", where, f.Severity, f.Message, f.Rule)
}

// TargetAccessEntries is Options.Target for a planned move to EKS access
// entries (authentication mode API).
const TargetAccessEntries = "access-entries"

// Options tune the checks.
type Options struct {
	// Rules are the matching options the server builds tables with
	// (reserved-name allowlist, feature gates).
	Rules rules.Options
	// Target, when TargetAccessEntries, also reports what would block a
	// move to EKS access entries.
	Target string
	// BoundGroups, when not nil, are the groups some RoleBinding or
	// ClusterRoleBinding names: a granted group outside it is reported.
	BoundGroups map[string]bool
	// Earlier are the backends the server asks before this source: an
	// entry whose principal one of them already maps never applies.
	Earlier []mapping.Mapper
}

// Entries checks entries read from one source and the problems reading
// them reported. Lines are the entries' own (Origin.Line).
func Entries(entries []mapping.Entry, problems []mapping.Problem, o Options) []Finding {
	return check(entries, problems, nil, o)
}

// ConfigMapData checks the data of an aws-auth ConfigMap, src placing it
// (a manifest file and the line its data value starts after, or the object
// read from the API).
func ConfigMapData(data map[string]string, src awsauth.Source, o Options) []Finding {
	var fs []Finding
	for k := range data {
		if !slices.Contains(awsauth.Sections, k) {
			fs = append(fs, dataKeyFinding(k, src, 0))
		}
	}
	secs := make([]section, 0, len(awsauth.Sections))
	for _, s := range awsauth.Sections {
		v, ok := data[s]
		if !ok {
			continue
		}
		secs = append(secs, sectionFromText(s, v, src, scalarLines{offset: src.LineOffset}))
	}
	return append(sortFindings(fs), checkSections(secs, formatAWSAuth, o)...)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// HasError reports whether fs hold an error (or, with strict, anything).
func HasError(fs []Finding, strict bool) bool {
	for _, f := range fs {
		if f.Severity == Error || strict {
			return true
		}
	}
	return false
}

func sortFindings(fs []Finding) []Finding {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.File == "" {
			if c := strings.Compare(a.Object, b.Object); c != 0 {
				return c
			}
		}
		return a.Line - b.Line
	})
	return fs
}
