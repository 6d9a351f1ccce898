// Package lint finds what is wrong, or likely wrong, in IAM mappings before
// they reach a cluster: in an aws-auth ConfigMap, a config file, a dynamic
// file, an AWSIamConfig or IAMIdentityMapping objects. It reads them with
// the parser the server uses and judges entries with the server's own rules
// (rules.Check); the rules here add what the server cannot refuse but a
// person should hear about.
package lint

import (
	"fmt"

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
// read from the API, in the data key's value; File is then empty).
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"` // stable id, e.g. "assumed-role-arn"
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Section  string   `json:"section,omitempty"`
	Index    int      `json:"index"`
	Message  string   `json:"message"`
}

// String reads like a compiler's message:
// `aws-auth.yaml:14: error: rolearn is an STS assumed-role ARN; use … [assumed-role-arn]`.
func (f Finding) String() string {
	where := f.File
	if where == "" {
		where = f.Section
	}
	if f.Line > 0 {
		where += fmt.Sprintf(":%d", f.Line)
	}
	return fmt.Sprintf("%s: %s: %s [%s]", where, f.Severity, f.Message, f.Rule)
}

// Options tune the checks.
type Options struct {
	// Rules are the matching options the server builds tables with
	// (reserved-name allowlist, feature gates).
	Rules rules.Options
}

// Entries checks entries read from one source and the problems reading
// them reported.
func Entries(entries []mapping.Entry, problems []mapping.Problem, o Options) []Finding {
	var out []Finding
	for _, p := range problems {
		out = append(out, fromProblem(p))
	}
	_, built := rules.Build("lint", entries, o.Rules)
	for _, p := range built {
		out = append(out, fromProblem(p))
	}
	return out
}

// ConfigMapData checks the data of an aws-auth ConfigMap, src placing it
// (a manifest file and the line its data value starts after, or the object
// read from the API).
func ConfigMapData(data map[string]string, src awsauth.Source, o Options) []Finding {
	es, ps, _ := awsauth.ParseData(data, src)
	return Entries(es, ps, o)
}

func fromProblem(p mapping.Problem) Finding {
	return Finding{Severity: Error, Rule: "invalid-entry", File: p.Origin.File, Line: p.Origin.Line,
		Section: p.Origin.Section, Index: p.Origin.Index, Message: p.Err.Error()}
}
