package mapping

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// entryFields is one mapRoles/mapUsers/mapGroups entry before validation.
type entryFields struct {
	arn, username, userID string
	groups                []string
	sso                   *SSOMapping
	// lines of the entry and of each value, for Problem.Line
	line, arnLine, usernameLine, groupsLine, userIDLine, ssoLine int
}

// checkNames validates username, groups and userid, reporting the line of
// the offending value. Reserved names are checked by NewTable, which knows
// the allowlist.
func (f entryFields) checkNames(section string, i int) *Problem {
	if err := checkUsername(f.username); err != nil {
		return entryProblem(section, i, f.usernameLine, err)
	}
	if err := checkGroups(f.groups); err != nil {
		return entryProblem(section, i, f.groupsLine, err)
	}
	if err := checkUserID(f.userID); err != nil {
		return entryProblem(section, i, f.userIDLine, err)
	}
	return nil
}

// ParseRoles reads a mapRoles sequence. A nil or null node is an empty list.
// Bad entries are skipped whole and reported; the rest are returned with
// assumed-role ARNs canonicalized to their role and sso partitions filled
// in. Patterns that overlap at equal rank are both left out (Fatal).
//
// A skipped entry whose rolearn (a role or a safe pattern) or sso block
// can still be read is returned as a placeholder (RoleMapping.Rejected) in
// its place, so that, the last entry for a role, pattern or permission set
// winning, it shadows earlier entries for it instead of letting them come
// back into force. An entry whose ARN cannot be read names no one and
// shadows nothing.
func ParseRoles(n *yaml.Node) ([]RoleMapping, []Problem) {
	var out []RoleMapping
	var pats []patternEntry
	var pos []int // index in out of each pats element
	x := newExpander(n)
	probs := eachEntry(SectionRoles, n, x, func(i int, e *yaml.Node) *Problem {
		f, p := readEntry(SectionRoles, i, e, keyRoleARN, true, x)
		if p != nil {
			for _, k := range salvageKeys(e, keyRoleARN, true, x) {
				out = appendRolePlaceholder(out, RoleMapping{RoleARN: k.arn, SSO: k.sso}, p)
			}
			return p
		}
		m := RoleMapping{RoleARN: f.arn, Username: f.username, Groups: f.groups, UserID: f.userID, SSO: f.sso}
		tg, err := roleTarget(m)
		if err != nil {
			line := f.arnLine
			if f.sso != nil {
				line = f.ssoLine
			}
			return entryProblem(SectionRoles, i, line, err)
		}
		if p := f.checkNames(SectionRoles, i); p != nil {
			out = appendRolePlaceholder(out, m, p)
			return p
		}
		m = normalizeRole(m, tg)
		if tg.kind == targetPattern {
			pats, pos = append(pats, patternEntry{index: i, pat: tg.pat}), append(pos, len(out))
		}
		out = append(out, m)
		return nil
	})
	if x.exceeded {
		return nil, probs
	}
	p, drop := patternOverlaps(SectionRoles, pats, func(i int) string { return out[pos[i]].RoleARN })
	return dropAt(out, pos, drop), sortProblems(append(probs, p...))
}

// normalizeRole canonicalizes m's rolearn, or fills in its sso partition.
func normalizeRole(m RoleMapping, tg target) RoleMapping {
	if tg.kind == targetSSO {
		sso := *m.SSO
		sso.Partition = strings.ToLower(sso.Partition)
		if sso.Partition == "" {
			sso.Partition = DefaultSSOPartition
		}
		m.SSO = &sso
	} else {
		m.RoleARN = tg.canon
	}
	return m
}

// ParseUsers reads a mapUsers sequence; see ParseRoles (placeholders for
// skipped entries included).
func ParseUsers(n *yaml.Node) ([]UserMapping, []Problem) {
	var out []UserMapping
	var pats []patternEntry
	var pos []int
	x := newExpander(n)
	probs := eachEntry(SectionUsers, n, x, func(i int, e *yaml.Node) *Problem {
		f, p := readEntry(SectionUsers, i, e, keyUserARN, false, x)
		if p != nil {
			for _, k := range salvageKeys(e, keyUserARN, false, x) {
				out = appendUserPlaceholder(out, k.arn, p)
			}
			return p
		}
		tg, err := userTarget(f.arn)
		if err != nil {
			return entryProblem(SectionUsers, i, f.arnLine, err)
		}
		if p := f.checkNames(SectionUsers, i); p != nil {
			out = appendUserPlaceholder(out, f.arn, p)
			return p
		}
		if tg.kind == targetPattern {
			pats, pos = append(pats, patternEntry{index: i, pat: tg.pat}), append(pos, len(out))
		}
		out = append(out, UserMapping{UserARN: tg.canon, Username: f.username, Groups: f.groups, UserID: f.userID})
		return nil
	})
	if x.exceeded {
		return nil, probs
	}
	p, drop := patternOverlaps(SectionUsers, pats, func(i int) string { return out[pos[i]].UserARN })
	return dropAt(out, pos, drop), sortProblems(append(probs, p...))
}

// ParseGroups reads a mapGroups sequence: {grouparn, username, groups,
// userid}. See ParseRoles.
func ParseGroups(n *yaml.Node) ([]GroupMapping, []Problem) {
	var out []GroupMapping
	x := newExpander(n)
	probs := eachEntry(SectionGroups, n, x, func(i int, e *yaml.Node) *Problem {
		f, p := readEntry(SectionGroups, i, e, keyGroupARN, false, x)
		if p != nil {
			for _, k := range salvageKeys(e, keyGroupARN, false, x) {
				out = appendGroupPlaceholder(out, k.arn, p)
			}
			return p
		}
		tg, err := groupTarget(f.arn)
		if err != nil {
			return entryProblem(SectionGroups, i, f.arnLine, err)
		}
		if p := f.checkNames(SectionGroups, i); p != nil {
			out = appendGroupPlaceholder(out, f.arn, p)
			return p
		}
		out = append(out, GroupMapping{GroupARN: tg.canon, Username: f.username, Groups: f.groups, UserID: f.userID})
		return nil
	})
	if x.exceeded {
		return nil, probs
	}
	return out, probs
}

// ParseGroupsYAML is ParseRolesYAML for mapGroups.
func ParseGroupsYAML(data []byte) ([]GroupMapping, []Problem) {
	n, p := decodeYAML(SectionGroups, data)
	if p != nil {
		return nil, []Problem{*p}
	}
	return ParseGroups(n)
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
func readSSO(v *yaml.Node, x *expander) (*SSOMapping, int, error) {
	if v.Kind != yaml.MappingNode {
		return nil, v.Line, fmt.Errorf("must be a mapping {permissionSetName, accountID, partition}, got %s", kindName(v))
	}
	fs, line, err := x.fields(v)
	if err != nil {
		return nil, line, err
	}
	var s SSOMapping
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

// dropAt removes out[pos[i]] for every i in drop.
func dropAt[T any](out []T, pos []int, drop map[int]bool) []T {
	if len(drop) == 0 {
		return out
	}
	gone := map[int]bool{}
	for i := range drop {
		gone[pos[i]] = true
	}
	kept := out[:0:0]
	for i, m := range out {
		if !gone[i] {
			kept = append(kept, m)
		}
	}
	return kept
}

func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int { return a.Index - b.Index })
	return ps
}
