package awsauth

import (
	"errors"
	"fmt"
	"slices"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// entryFields is one mapRoles/mapUsers/mapGroups entry before validation.
type entryFields struct {
	arn, username, userID string
	groups                []string
	sso                   *mapping.SSO
	// lines of the entry and of each value, for problem.Line
	line, arnLine, usernameLine, groupsLine, userIDLine, ssoLine int
}

// entry builds the Entry f describes, in section at index i.
func (f entryFields) entry(section string, i int) mapping.Entry {
	e := mapping.Entry{Kind: kindOf(section), ARN: f.arn, SSO: f.sso, Username: f.username,
		Groups: f.groups, UserID: f.userID,
		Origin: mapping.Origin{Section: section, Index: i, Line: f.line}}
	if f.sso != nil {
		e.Kind = mapping.KindSSO
	}
	return e
}

// lineOf returns the line of the field rules.CheckSyntax names ("" for
// what the entry names).
func (f entryFields) lineOf(field string) int {
	switch field {
	case "username":
		return f.usernameLine
	case "groups":
		return f.groupsLine
	case "userid":
		return f.userIDLine
	case "":
		if f.sso != nil {
			return f.ssoLine
		}
		return f.arnLine
	}
	return f.line
}

func kindOf(section string) mapping.Kind {
	switch section {
	case mapping.SectionRoles:
		return mapping.KindRole
	case mapping.SectionUsers:
		return mapping.KindUser
	case mapping.SectionGroups:
		return mapping.KindGroup
	}
	return mapping.KindAccount
}

// arnKeyOf is the field that names an entry's principal in section.
func arnKeyOf(section string) string {
	switch section {
	case mapping.SectionRoles:
		return keyRoleARN
	case mapping.SectionUsers:
		return keyUserARN
	}
	return keyGroupARN
}

// parseEntries reads a mapRoles, mapUsers or mapGroups sequence. A nil or
// null node is an empty list. Bad entries are reported, with the line of
// the field at fault; the rest are returned as written.
// Reserved names and overlapping patterns are left to rules.Build, which
// knows the backend's options and sees every entry.
//
// A skipped entry whose ARN (or, in mapRoles, sso block) can still be read
// is returned refused (Entry.Refused) in its place, so that, the last entry
// for a principal winning, it shadows earlier entries for it instead of
// letting them come back into force. An entry whose ARN cannot be read
// names no one and shadows nothing.
func parseEntries(section string, n *yaml.Node) ([]mapping.Entry, []problem) {
	out := make([]mapping.Entry, 0, entryCount(n))
	arnKey, allowSSO := arnKeyOf(section), section == mapping.SectionRoles
	x := newExpander(n)
	probs := eachEntry(section, n, x, func(i int, e *yaml.Node) *problem {
		f, p := readEntry(section, i, e, arnKey, allowSSO, x)
		if p != nil {
			for _, k := range salvageKeys(e, arnKey, allowSSO, x) {
				out = appendRefused(out, entryFields{arn: k.arn, sso: k.sso, line: e.Line}.entry(section, i), p)
			}
			return p
		}
		m := f.entry(section, i)
		if err := rules.CheckTarget(m); err != nil {
			return entryProblem(section, i, f.lineOf(""), err)
		}
		if field, err := rules.CheckSyntax(m); err != nil {
			p := entryProblem(section, i, f.lineOf(field), err)
			out = appendRefused(out, m, p)
			return p
		}
		out = append(out, m)
		return nil
	})
	if x.exceeded {
		return nil, probs
	}
	return out, sortProblems(probs)
}

// SSO block keys, matched ignoring case like every other key.
const (
	keySSOPermissionSet = "permissionsetname"
	keySSOAccountID     = "accountid"
	keySSOPartition     = "partition"
)

// readSSO reads {permissionSetName, accountID, partition}, merge keys
// applied. accountID may be a plain YAML number, as in mapAccounts. A null
// partition, like an empty or absent one, means DefaultSSOPartition (AIA
// reads null as ""). On error it also returns the line of the offending
// node.
func readSSO(v *yaml.Node, x *expander) (*mapping.SSO, int, error) {
	if v.Kind != yaml.MappingNode {
		return nil, v.Line, fmt.Errorf("must be a mapping {permissionSetName, accountID, partition}, got %s", kindName(v))
	}
	fs, line, err := x.fields(v)
	if err != nil {
		return nil, line, err
	}
	var s mapping.SSO
	seen := map[string]bool{}
	for _, f := range fs {
		k, val := f.key, f.val
		seen[f.name] = true
		var dst *string
		switch f.name {
		case keySSOPermissionSet:
			dst = &s.PermissionSetName
		case keySSOAccountID:
			dst = &s.AccountID
			if isNumber(val) {
				*dst = val.Value
				continue
			}
		case keySSOPartition:
			dst = &s.Partition
			if isNull(val) {
				continue
			}
		default:
			return nil, k.Line, f.wrap(fmt.Errorf("unknown field %q", k.Value))
		}
		str, err := readString(val)
		if err != nil {
			return nil, val.Line, f.wrap(fmt.Errorf("%s: %w", k.Value, err))
		}
		*dst = str
	}
	if !seen[keySSOPermissionSet] {
		return nil, v.Line, errors.New("missing permissionSetName")
	}
	if !seen[keySSOAccountID] {
		return nil, v.Line, errors.New("missing accountID")
	}
	return &s, 0, nil
}

func isNull(v *yaml.Node) bool { return v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" }

func isNumber(v *yaml.Node) bool {
	return v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!int" || v.ShortTag() == "!!float")
}

func sortProblems(ps []problem) []problem {
	slices.SortStableFunc(ps, func(a, b problem) int { return a.Index - b.Index })
	return ps
}

// entryCount is how many entries the section n is written with, to size
// the result once.
func entryCount(n *yaml.Node) int {
	n = resolve(n)
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = resolve(n.Content[0])
	}
	if n == nil || n.Kind != yaml.SequenceNode || len(n.Content) > maxEntries {
		return 0
	}
	return len(n.Content)
}
