package lint

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Names EKS gives the node role's entry.
const (
	NodeUsername        = "system:node:{{EC2PrivateDNSName}}"
	FargateNodeUsername = "system:node:{{SessionName}}"
	groupNodes          = "system:nodes"
	groupBootstrappers  = "system:bootstrappers"
	groupNodeProxier    = "system:node-proxier"
	groupMasters        = "system:masters"
)

// IsNodeEntry reports whether e is the entry nodes (EC2 or Fargate) join
// with: a node username and the system:nodes group.
func IsNodeEntry(e mapping.Entry) bool {
	return e.Refused == nil && (e.Username == NodeUsername || e.Username == FargateNodeUsername) && slices.Contains(e.Groups, groupNodes)
}

// GrantsMasters reports whether e puts someone in system:masters.
func GrantsMasters(e mapping.Entry) bool {
	return e.Refused == nil && slices.Contains(e.Groups, groupMasters)
}

// ssoRoleRe matches the roles IAM Identity Center creates for a permission
// set: AWSReservedSSO_<permission set>_<16 hex digits>.
var ssoRoleRe = regexp.MustCompile(`^AWSReservedSSO_(.+)_[0-9a-fA-F]{16}$`)

// entryRules check one entry the server accepts.
func entryRules(e mapping.Entry, info *entryInfo, o Options) []Finding {
	var out []Finding
	add := func(sev Severity, rule string, line int, format string, args ...any) {
		f := Finding{Severity: sev, Rule: rule, File: e.Origin.File, Line: line,
			Section: e.Origin.Section, Index: e.Origin.Index, Message: fmt.Sprintf(format, args...)}
		if f.File == "" {
			f.Object = e.Origin.Object
		}
		out = append(out, f)
	}
	arnLine := info.lineOf(arnKey(e), "arn", "sso")
	if arnLine == 0 {
		arnLine = e.Origin.Line
	}
	groupsLine := info.lineOf("groups")
	if groupsLine == 0 {
		groupsLine = e.Origin.Line
	}
	who := describe(e)
	if e.Kind == mapping.KindRole && !strings.Contains(e.ARN, "*") {
		if a, err := arn.Parse(e.ARN); err == nil {
			role := a.Canonical()
			role.Path = "/"
			switch {
			case a.Type == arn.TypeAssumedRole:
				add(Error, "assumed-role-arn", arnLine, "%s is an STS assumed-role ARN, which aws-iam-authenticator never matches; use %s", arnKey(e), role.String())
			case ssoRoleRe.MatchString(a.Name) && e.Origin.Section == mapping.SectionRoles:
				ps := ssoRoleRe.FindStringSubmatch(a.Name)[1]
				add(Warning, "sso-role-arn", arnLine, "%s names an IAM Identity Center role whose suffix changes when the permission set is re-provisioned; write sso: {permissionSetName: %s, accountID: %q} instead", arnKey(e), ps, a.AccountID)
			case a.Type == arn.TypeRole && a.Path != "/" && a.Path != "":
				add(Warning, "role-path", arnLine, "the role ARN has the path %s: iamgate matches it, but aws-iam-authenticator never does (STS drops role paths); write %s", a.Path, role.String())
			}
		}
	}
	if isNodeish(e) {
		if msg := nodeShape(e); msg != "" {
			add(Error, "node-role-shape", groupsLine, "%s", msg)
		}
	}
	if slices.Contains(e.Groups, groupMasters) {
		add(Warning, "system-masters", groupsLine, "%s gets system:masters, full cluster admin that no RBAC rule can limit; bind a ClusterRole to a group of its own instead", who)
	}
	if e.Kind == mapping.KindAccount {
		add(Warning, "map-accounts", e.Origin.Line, "mapAccounts maps every IAM user and role of account %s (username = its ARN); map the roles that need access instead", e.Account)
	}
	if o.BoundGroups != nil {
		for _, g := range e.Groups {
			if strings.Contains(g, "{{") || strings.HasPrefix(g, "system:") || strings.HasPrefix(g, "eks:") || o.BoundGroups[g] {
				continue
			}
			add(Warning, "unbound-group", groupsLine, "group %q is granted to %s but no RoleBinding or ClusterRoleBinding names it, so it grants nothing; bind it (kubectl create clusterrolebinding … --group=%s) or remove it", g, who, g)
		}
	}
	if o.Target == TargetAccessEntries {
		for _, msg := range accessEntryBlockers(e) {
			add(Warning, "access-entries", arnLine, "%s", msg)
		}
	}
	return out
}

func describe(e mapping.Entry) string {
	switch {
	case e.Kind == mapping.KindAccount:
		return "account " + e.Account
	case e.SSO != nil:
		return fmt.Sprintf("permission set %s in %s", e.SSO.PermissionSetName, e.SSO.AccountID)
	case strings.Contains(e.ARN, "*"):
		return "every principal matching " + e.ARN
	}
	return e.ARN
}

func isNodeish(e mapping.Entry) bool {
	return strings.HasPrefix(e.Username, "system:node:") || slices.Contains(e.Groups, groupNodes) || slices.Contains(e.Groups, groupBootstrappers)
}

// nodeShape says what a node-role entry lacks, "" when it has the shape EKS
// writes: groups system:bootstrappers and system:nodes, username
// system:node:{{EC2PrivateDNSName}} ({{SessionName}} for Fargate pod
// execution roles and hybrid nodes, which EKS writes with or without
// system:node-proxier).
func nodeShape(e mapping.Entry) string {
	var missing []string
	for _, g := range []string{groupBootstrappers, groupNodes} {
		if !slices.Contains(e.Groups, g) {
			missing = append(missing, g)
		}
	}
	fargate := e.Username == FargateNodeUsername
	switch {
	case e.Username != NodeUsername && !fargate:
		return fmt.Sprintf("a node role entry (groups %s) must have username %s, not %q: nodes cannot register otherwise", strings.Join(e.Groups, ", "), NodeUsername, e.Username)
	case len(missing) > 0:
		return fmt.Sprintf("a node role entry must have the groups system:bootstrappers and system:nodes; add %s or nodes cannot join", strings.Join(missing, " and "))
	}
	return ""
}

// accessEntryBlockers say why e has no EKS access entry equivalent.
func accessEntryBlockers(e mapping.Entry) []string {
	var out []string
	switch {
	case e.Kind == mapping.KindAccount:
		out = append(out, "access entries cannot map a whole account: create an access entry for each role or user of "+e.Account)
	case e.Kind == mapping.KindGroup:
		out = append(out, "access entries cannot map IAM groups: create an access entry for each member, or move them to a role")
	case strings.Contains(e.ARN, "*"):
		out = append(out, "access entries take exact principal ARNs, not patterns: create one for each role "+e.ARN+" matches")
	}
	for _, g := range e.Groups {
		if strings.HasPrefix(g, "system:") && g != groupNodes && g != groupBootstrappers && g != groupNodeProxier {
			hint := ""
			if g == groupMasters {
				hint = " (associate AmazonEKSClusterAdminPolicy instead)"
			}
			out = append(out, fmt.Sprintf("access entries refuse the group %q%s", g, hint))
		}
	}
	return out
}

// duplicates reports entries a later entry for the same principal shadows
// (the last one wins), with both lines.
func duplicates(t *rules.Table, entries []mapping.Entry, infos map[infoKey]*entryInfo) []Finding {
	if t == nil {
		return nil
	}
	var out []Finding
	listed := t.Entries()
	for i, l := range listed {
		if l.Verdict != mapping.VerdictShadowed {
			continue
		}
		e := l.Entry
		winner := "a later entry"
		for j := len(listed) - 1; j > i; j-- {
			if samePrincipal(e, listed[j].Entry) {
				w := listed[j].Entry.Origin
				winner = fmt.Sprintf("%s[%d] on line %d", w.Section, w.Index, w.Line)
				break
			}
		}
		line := infos[infoKey{e.Origin.Section, e.Origin.Index}].lineOf(arnKey(e), "arn", "sso")
		if line == 0 {
			line = e.Origin.Line
		}
		how := "the last one wins"
		if e.Origin.Section == mapping.SectionSpec {
			how = "the newest object wins"
		}
		f := Finding{Severity: Warning, Rule: "duplicate-arn", File: e.Origin.File, Line: line, Section: e.Origin.Section, Index: e.Origin.Index,
			Message: fmt.Sprintf("%s is mapped again by %s and %s, so this entry (line %d) is ignored; delete one of them", describe(e), winner, how, line)}
		if f.File == "" {
			f.Object = e.Origin.Object
		}
		out = append(out, f)
	}
	return out
}

// samePrincipal is a plain comparison for naming the winner; Build has
// already decided that e is shadowed.
func samePrincipal(a, b mapping.Entry) bool {
	if a.Kind != b.Kind {
		return false
	}
	if a.SSO != nil || b.SSO != nil {
		return a.SSO != nil && b.SSO != nil && strings.EqualFold(a.SSO.PermissionSetName, b.SSO.PermissionSetName) && a.SSO.AccountID == b.SSO.AccountID
	}
	ka, kb := strings.ToLower(a.ARN), strings.ToLower(b.ARN)
	if pa, err := arn.Parse(a.ARN); err == nil {
		if k, ok := pa.RoleKey(); ok {
			ka = k
		}
	}
	if pb, err := arn.Parse(b.ARN); err == nil {
		if k, ok := pb.RoleKey(); ok {
			kb = k
		}
	}
	return ka == kb
}
