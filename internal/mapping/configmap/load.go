package configmap

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Data keys of the aws-auth ConfigMap. EKS, eksctl and EKS Anywhere write
// mapRoles, mapUsers and mapAccounts; mapGroups is iamgate's (IAM group
// membership, ignored by aws-iam-authenticator). Each holds a YAML (or JSON)
// list as a string.
const (
	KeyMapRoles    = mapping.SectionRoles
	KeyMapUsers    = mapping.SectionUsers
	KeyMapGroups   = mapping.SectionGroups
	KeyMapAccounts = mapping.SectionAccounts
)

func knownKey(k string) bool {
	return k == KeyMapRoles || k == KeyMapUsers || k == KeyMapGroups || k == KeyMapAccounts
}

// loaded is the outcome of reading one ConfigMap's data.
type loaded struct {
	// table is nil when the data is unusable as a whole (err is set); the
	// backend then keeps its previous table.
	table *mapping.Table
	err   error
	// skipped are entries left out of table; the rest apply.
	skipped []mapping.Problem
	// ignored are data keys iamgate does not read, sorted.
	ignored []string
}

// load parses ConfigMap data into a Table named name.
//
// A non-fatal problem skips one entry, as the mapping package decides
// (unknown, repeated or mistyped field, bad ARN, reserved name). A fatal one
// (YAML that does not parse, a section of the wrong shape, an unknown
// template, overlapping patterns) rejects the whole data: guessing which
// half of a broken edit the author meant could lock everyone out or let the
// wrong people in, so the caller keeps what it had.
func load(name string, data map[string]string, opts mapping.Options) loaded {
	var out loaded
	for k := range data {
		if !knownKey(k) {
			out.ignored = append(out.ignored, k)
		}
	}
	slices.Sort(out.ignored)

	var spec mapping.Spec
	var probs, p []mapping.Problem
	spec.Roles, p = mapping.ParseRolesYAML([]byte(data[KeyMapRoles]))
	probs = append(probs, p...)
	spec.Users, p = mapping.ParseUsersYAML([]byte(data[KeyMapUsers]))
	probs = append(probs, p...)
	spec.Groups, p = mapping.ParseGroupsYAML([]byte(data[KeyMapGroups]))
	probs = append(probs, p...)
	spec.Accounts, p = mapping.ParseAccountsYAML([]byte(data[KeyMapAccounts]))
	probs = append(probs, p...)

	t, err := mapping.NewTableWithOptions(name, spec, opts)
	probs = append(probs, tableProblems(spec, err)...)

	var fatal []error
	for _, pr := range probs {
		if pr.Fatal {
			fatal = append(fatal, pr)
		} else {
			out.skipped = append(out.skipped, pr)
		}
	}
	if len(fatal) > 0 {
		out.err = errors.Join(fatal...)
		return out
	}
	out.table = t
	return out
}

// tableProblems turns NewTableWithOptions' error into Problems. Their Index
// counts the parsed entries, not the ones written (the parsers dropped the
// bad ones), so each is restated with the entry's ARN instead.
func tableProblems(s mapping.Spec, err error) []mapping.Problem {
	if err == nil {
		return nil
	}
	var out []mapping.Problem
	for _, e := range splitJoined(err) {
		var p mapping.Problem
		if !errors.As(e, &p) {
			// Not about one entry (e.g. the table name): refuse the data.
			out = append(out, mapping.Problem{Section: "table", Index: -1, Err: e, Fatal: true})
			continue
		}
		if id := entryName(s, p.Section, p.Index); id != "" {
			p.Err = fmt.Errorf("entry %s: %w", id, p.Err)
			p.Index = -1
		}
		out = append(out, p)
	}
	return out
}

func entryName(s mapping.Spec, section string, i int) string {
	switch {
	case i < 0:
		return ""
	case section == mapping.SectionRoles && i < len(s.Roles):
		if sso := s.Roles[i].SSO; sso != nil {
			return "sso " + sso.PermissionSetName + " in " + sso.AccountID
		}
		return s.Roles[i].RoleARN
	case section == mapping.SectionUsers && i < len(s.Users):
		return s.Users[i].UserARN
	case section == mapping.SectionGroups && i < len(s.Groups):
		return s.Groups[i].GroupARN
	case section == mapping.SectionAccounts && i < len(s.Accounts):
		return s.Accounts[i]
	}
	return ""
}

// maxMessage bounds Event messages: the API rejects very long ones and a
// screenful is all `kubectl describe` readers want.
const maxMessage = 1000

// summarize joins errs into one line of at most maxMessage bytes, saying how
// many were left out.
func summarize[E error](errs []E) string {
	var b strings.Builder
	for i, e := range errs {
		s := e.Error()
		if i > 0 {
			s = "; " + s
		}
		if b.Len()+len(s) > maxMessage-40 {
			fmt.Fprintf(&b, "; and %d more", len(errs)-i)
			break
		}
		b.WriteString(s)
	}
	return b.String()
}

// splitJoined undoes errors.Join so each problem can be logged on its own.
func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
