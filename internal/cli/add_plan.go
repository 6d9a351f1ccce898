package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/awsauthedit"
	"github.com/iamgate/iamgate/internal/lint"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// editOp is one add or remove.
type editOp struct {
	remove  bool
	section string
	entry   mapping.Entry // added, or (ARN, sso or account) the selector
}

// plan is an edit worked out on what was read: the new state and what to
// tell the user about it.
type plan struct {
	summary  string   // "mapRoles: added arn:..." for the last line
	warnings []string // lint warnings the edit brings, shown on stderr
}

// awsAuthSource places aws-auth entries for messages and lint.
var awsAuthSource = awsauth.Source{Backend: backendConfigMap, Object: "kube-system/aws-auth"}

// planConfigMap applies op to an aws-auth ConfigMap's data and returns the
// new data. data is not changed.
func planConfigMap(data map[string]string, op editOp, f *editFlags, opts rules.Options) (map[string]string, plan, error) {
	var p plan
	text := data[op.section]
	entries, _ := awsauth.ParseSectionYAML(op.section, []byte(text), awsAuthSource)
	key := awsauthedit.Key(op.entry)
	var matches []mapping.Entry
	for _, e := range entries {
		if awsauthedit.Key(e) == key {
			matches = append(matches, e)
		}
	}
	var out string
	var err error
	switch {
	case op.remove:
		if len(matches) == 0 {
			return nil, p, fmt.Errorf("no %s entry maps %s in kube-system/aws-auth", op.section, awsauthedit.Describe(op.entry))
		}
		if len(matches) > 1 && !f.all {
			return nil, p, fmt.Errorf("%d %s entries map %s; nothing removed (pass --all to remove every one):\n%s",
				len(matches), op.section, awsauthedit.Describe(op.entry), listEntries(matches))
		}
		var idx []int
		for _, m := range matches {
			idx = append(idx, m.Origin.Index)
		}
		out, err = awsauthedit.Remove(op.section, text, idx)
		p.summary = fmt.Sprintf("%s: removed %d %s for %s", op.section, len(idx), plural(len(idx), "entry", "entries"), awsauthedit.Describe(op.entry))
	default:
		if err := checkEntry(op.entry, opts); err != nil {
			return nil, p, err
		}
		switch {
		case len(matches) > 0 && !f.replace:
			return nil, p, fmt.Errorf("%s already maps %s:\n%s\nnothing added (pass --replace to replace that entry in place)",
				op.section, awsauthedit.Describe(op.entry), listEntries(matches))
		case len(matches) > 1:
			return nil, p, fmt.Errorf("%d %s entries map %s; --replace replaces one: remove them first (iamgate remove --all):\n%s",
				len(matches), op.section, awsauthedit.Describe(op.entry), listEntries(matches))
		case len(matches) == 1:
			out, err = awsauthedit.Replace(op.section, text, matches[0].Origin.Index, op.entry)
			p.summary = fmt.Sprintf("%s: replaced the entry for %s (line %d)", op.section, awsauthedit.Describe(op.entry), matches[0].Origin.Line)
		default:
			out, err = awsauthedit.Add(op.section, text, op.entry)
			p.summary = fmt.Sprintf("%s: added %s", op.section, awsauthedit.Describe(op.entry))
		}
	}
	if err != nil {
		return nil, p, err
	}
	next := maps.Clone(data)
	if next == nil {
		next = map[string]string{}
	}
	next[op.section] = out
	before, _, _ := awsauth.ParseData(data, awsAuthSource)
	after, _, _ := awsauth.ParseData(next, awsAuthSource)
	if err := checkLockout(before, after, f.force); err != nil {
		return nil, p, err
	}
	lo := lint.Options{Rules: opts}
	if p.warnings, err = newFindings(lint.ConfigMapData(data, awsAuthSource, lo), lint.ConfigMapData(next, awsAuthSource, lo), f.force); err != nil {
		return nil, p, err
	}
	return next, p, nil
}

// checkEntry judges the new entry with the server's own rules: an entry
// the server would refuse is never written, --force or not.
func checkEntry(e mapping.Entry, opts rules.Options) error {
	if field, err := rules.Check(e, opts); err != nil {
		if field != "" {
			return fmt.Errorf("the server would refuse this entry: %s: %w", field, err)
		}
		return fmt.Errorf("the server would refuse this entry: %w", err)
	}
	return nil
}

func listEntries(es []mapping.Entry) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "  %s: %s username %q groups %v\n", e.Origin, awsauthedit.Describe(e), e.Username, e.Groups)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Node usernames EKS writes for the node role.
var nodeUsernames = []string{"system:node:{{EC2PrivateDNSName}}", "system:node:{{SessionName}}"}

func isNodeEntry(e mapping.Entry) bool {
	return e.Refused == nil && slices.Contains(nodeUsernames, e.Username) && slices.Contains(e.Groups, "system:nodes")
}

func isMastersEntry(e mapping.Entry) bool {
	return e.Refused == nil && slices.Contains(e.Groups, "system:masters")
}

// checkLockout refuses an edit that takes away the last entry nodes join
// with, or the last system:masters grant, that before had.
func checkLockout(before, after []mapping.Entry, force bool) error {
	var errs []error
	for _, c := range []struct {
		is   func(mapping.Entry) bool
		what string
	}{
		{isNodeEntry, "the last entry that maps the node role (username system:node:{{EC2PrivateDNSName}} or {{SessionName}}, group system:nodes): nodes could no longer join or report"},
		{isMastersEntry, "the last entry that grants system:masters: no mapped identity would keep cluster-admin rights to repair aws-auth"},
	} {
		if slices.ContainsFunc(before, c.is) && !slices.ContainsFunc(after, c.is) {
			errs = append(errs, errors.New("this edit removes "+c.what))
		}
	}
	if len(errs) == 0 || force {
		return nil
	}
	return fmt.Errorf("%w; nothing written (pass --force if that is what you want)", errors.Join(errs...))
}

// newFindings compares lint of the old and new state: error findings the
// edit brings refuse it unless force; the warnings it brings are returned
// to print. Findings that were there before are not the edit's.
func newFindings(before, after []lint.Finding, force bool) ([]string, error) {
	seen := map[string]int{}
	id := func(f lint.Finding) string {
		return string(f.Severity) + "|" + f.Rule + "|" + f.Section + "|" + f.Message
	}
	for _, f := range before {
		seen[id(f)]++
	}
	var warns, errs []string
	for _, f := range after {
		if seen[id(f)] > 0 {
			seen[id(f)]--
			continue
		}
		if f.Severity == lint.Error {
			errs = append(errs, f.String())
		} else {
			warns = append(warns, f.String())
		}
	}
	if len(errs) > 0 && !force {
		return nil, fmt.Errorf("the result has lint errors; nothing written (fix the entry, or pass --force):\n  %s", strings.Join(errs, "\n  "))
	}
	if len(errs) > 0 {
		warns = append(warns, errs...)
	}
	return warns, nil
}
