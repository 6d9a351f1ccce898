package awsauth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func TestParseRolesYAML(t *testing.T) {
	data := `
- rolearn: arn:aws:iam::111122223333:role/admin
  username: admin:{{AccessKeyID}}:{{SessionName}}
  groups: [system:masters]
- roleARN: arn:aws:sts::111122223333:assumed-role/Dev/alice
  UserName: dev
  Groups:
    - devs
  userid: AROAEXAMPLE
- RoleArn: arn:aws:iam::111122223333:role/team/node
  username: system:node:{{EC2PrivateDNSName}}
  groups: null
`
	roles, probs := parseRoles(data)
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	// Entries come back as written: the assumed-role ARN is no longer
	// turned into its role ARN by the parser (rules.Build still matches it
	// to the role, checked below).
	want := []mapping.Entry{
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/admin", Username: "admin:{{AccessKeyID}}:{{SessionName}}", Groups: []string{"system:masters"},
			Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 0, Line: 2}},
		{Kind: mapping.KindRole, ARN: "arn:aws:sts::111122223333:assumed-role/Dev/alice", Username: "dev", Groups: []string{"devs"}, UserID: "AROAEXAMPLE",
			Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 1, Line: 5}},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/team/node", Username: "system:node:{{EC2PrivateDNSName}}",
			Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 2, Line: 10}},
	}
	if d := cmp.Diff(want, roles); d != "" {
		t.Errorf("roles (-want +got):\n%s", d)
	}
	tb, bp := build(t, rules.Options{}, roles)
	if len(bp) != 0 {
		t.Fatalf("Build: %v", joined(bp))
	}
	wantUser(t, tb, mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/Dev/bob", UserID: "AROAEXAMPLE:bob"}, "dev")
}

func TestParseRolesProblems(t *testing.T) {
	const ok = "arn:aws:iam::111122223333:role/ok"
	tests := []struct {
		name, entry string // entry starts on line 2 (line 1 is a good entry)
		line        int
		fatal       bool
		msg         string
	}{
		{"unknown field", "- rolarn: " + ok + "\n  username: u", 2, false, `unknown field "rolarn"`},
		{"sso no account", "- sso: {permissionSetName: x}\n  username: u", 2, false, "sso: missing accountID"},
		{"sso bad key", "- sso: {permissionSetName: x, accountID: '111122223333', region: us-east-1}\n  username: u", 2, false, `unknown field "region"`},
		{"sso not mapping", "- sso: Dev\n  username: u", 2, false, "must be a mapping"},
		{"sso and rolearn", "- rolearn: " + ok + "\n  sso: {permissionSetName: x, accountID: '111122223333'}\n  username: u", 3, false, "not both"},
		{"sso bad partition", "- sso: {permissionSetName: x, accountID: '111122223333', partition: moon}\n  username: u", 2, false, "sso.partition"},
		{"sso long name", "- sso: {permissionSetName: " + strings.Repeat("x", 33) + ", accountID: '111122223333'}\n  username: u", 2, false, "longer than 32"},
		{"duplicate key", "- rolearn: " + ok + "\n  username: u\n  RoleARN: " + ok, 4, false, `field "RoleARN" given more than once`},
		{"duplicate username", "- rolearn: " + ok + "\n  username: u\n  UserName: v", 4, false, "more than once"},
		{"missing rolearn", "- username: u", 2, false, "missing rolearn"},
		{"missing username", "- rolearn: " + ok, 2, false, "missing username"},
		{"empty username", "- rolearn: " + ok + "\n  username: ''", 3, false, "username is empty"},
		{"null username", "- rolearn: " + ok + "\n  username:", 3, false, "must be a string"},
		{"empty rolearn", "- rolearn: ''\n  username: u", 2, false, "rolearn is empty"},
		{"int username", "- rolearn: " + ok + "\n  username: 12", 3, false, "must be a string, got !!int"},
		{"groups string", "- rolearn: " + ok + "\n  username: u\n  groups: system:masters", 4, false, "must be a list"},
		{"groups int", "- rolearn: " + ok + "\n  username: u\n  groups:\n    - a\n    - 1", 6, false, "[1] must be a string"},
		{"groups empty item", "- rolearn: " + ok + "\n  username: u\n  groups: ['']", 4, false, "groups[0] is empty"},
		{"user arn", "- rolearn: arn:aws:iam::111122223333:user/u\n  username: u", 2, false, "not an IAM role"},
		{"bad arn", "- rolearn: arn:aws:iam::1111:role/r\n  username: u", 2, false, "12 digits"},
		{"wildcard account", "- rolearn: arn:aws:iam::*:role/x\n  username: u", 2, true, "not allowed in the account"},
		{"wildcard partition", "- rolearn: arn:*:iam::111122223333:role/x\n  username: u", 2, true, "not allowed in the partition"},
		{"wildcard service", "- rolearn: arn:aws:*::111122223333:role/x\n  username: u", 2, true, "not allowed in the service"},
		{"role pattern path", "- rolearn: arn:aws:iam::111122223333:role/teams/dev/*\n  username: u", 2, true, "cannot have a path"},
		{"two stars", "- rolearn: arn:aws:iam::111122223333:role/*a*\n  username: u", 2, true, "only one"},
		{"assumed-role pattern", "- rolearn: arn:aws:sts::111122223333:assumed-role/r/*\n  username: u", 2, true, "IAM role ARN"},
		{"bad char in pattern", "- rolearn: arn:aws:iam::111122223333:role/a?*\n  username: u", 2, true, "not allowed in a name"},
		{"template before colon", "- rolearn: " + ok + "\n  username: '{{SessionName}}:masters'", 3, true, "before the first"},
		{"group template before colon", "- rolearn: " + ok + "\n  username: u\n  groups: ['a{{AccountID}}:x']", 4, true, "groups[0]"},
		{"empty userid", "- rolearn: " + ok + "\n  username: u\n  userid: ''", 4, false, "userid is empty"},
		{"bad userid", "- rolearn: " + ok + "\n  username: u\n  userid: 'AROA:s'", 4, false, "letters and digits"},
		{"not a mapping", "- just a string", 2, false, "must be a mapping"},
		{"unknown template", "- rolearn: " + ok + "\n  username: '{{SessionID}}'", 3, true, "unknown variable {{SessionID}}"},
		{"template case", "- rolearn: " + ok + "\n  username: '{{sessionname}}'", 3, true, "unknown variable"},
		{"stray open", "- rolearn: " + ok + "\n  username: 'a{{b'", 3, true, "unclosed"},
		{"stray close", "- rolearn: " + ok + "\n  username: 'a}}b'", 3, true, "stray"},
		{"group template", "- rolearn: " + ok + "\n  username: u\n  groups: ['{{Nope}}']", 4, true, "groups[0]"},
		{"node username on a pattern", "- rolearn: arn:aws:iam::111122223333:role/fargate-*\n  username: system:node:{{SessionName}}", 3, false, "only allowed on an exact role ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "- {rolearn: " + ok + ", username: good}\n" + tt.entry + "\n- {rolearn: " + ok + "2, username: good2}\n"
			roles, probs := parseRoles(data)
			if len(probs) != 1 {
				t.Fatalf("problems = %v, want exactly one", probs)
			}
			p := probs[0]
			if p.Origin.Section != "mapRoles" || p.Origin.Index != 1 || p.Origin.Line != tt.line || p.Fatal != tt.fatal {
				t.Errorf("problem = %+v (%v), want mapRoles[1] line %d fatal %v", p, p, tt.line, tt.fatal)
			}
			if !strings.Contains(p.Error(), tt.msg) {
				t.Errorf("Error() = %q, want it to contain %q", p.Error(), tt.msg)
			}
			if mapping.HasFatal(probs) != tt.fatal {
				t.Errorf("HasFatal = %v", !tt.fatal)
			}
			// The bad entry is skipped whole; its neighbours are kept. When
			// its ARN is readable it comes back refused, carrying nothing
			// else.
			var usable []mapping.Entry
			for _, m := range roles {
				if m.Refused == nil {
					usable = append(usable, m)
				} else if _, err := rules.Check(m, rules.Options{}); !refused(m) || err == nil {
					t.Errorf("refused entry %+v", m)
				}
			}
			if len(usable) != 2 || usable[0].Username != "good" || usable[1].Username != "good2" {
				t.Errorf("roles = %+v, want the two good neighbours", roles)
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	p := mapping.Problem{Origin: mapping.Origin{Section: "mapRoles", Index: 2, Line: 14}, Err: errors.New(`unknown field "rolarn"`)}
	if got, want := p.Error(), `mapRoles[2] (line 14): unknown field "rolarn"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	p = mapping.Problem{Origin: mapping.Origin{Section: "mapUsers", Index: -1}, Err: errors.New("must be a list")}
	if got, want := p.Error(), "mapUsers: must be a list"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseUsers(t *testing.T) {
	data := `- userarn: arn:aws:iam::111122223333:user/ops/alice
  username: alice
  groups: [devs]
- UserARN: ARN:AWS:IAM::111122223333:root
  username: root
- userarn: arn:aws:iam::111122223333:role/r
  username: x
- userarn: arn:aws:sts::111122223333:federated-user/f
  username: x
- rolearn: arn:aws:iam::111122223333:role/r
  username: x
`
	users, probs := parseUsers(data)
	// As written: the root ARN is no longer lower-cased by the parser.
	want := []mapping.Entry{
		{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:user/ops/alice", Username: "alice", Groups: []string{"devs"},
			Origin: mapping.Origin{Section: mapping.SectionUsers, Index: 0, Line: 1}},
		{Kind: mapping.KindUser, ARN: "ARN:AWS:IAM::111122223333:root", Username: "root",
			Origin: mapping.Origin{Section: mapping.SectionUsers, Index: 1, Line: 4}},
	}
	if d := cmp.Diff(want, users); d != "" {
		t.Errorf("users (-want +got):\n%s", d)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	wantProbs := []string{
		`mapUsers[2] (line 6): userarn "arn:aws:iam::111122223333:role/r" is a role ARN, not an IAM user or root`,
		`mapUsers[3] (line 8): userarn "arn:aws:sts::111122223333:federated-user/f" is a federated-user ARN, not an IAM user or root`,
		`mapUsers[4] (line 10): unknown field "rolearn"`,
	}
	if d := cmp.Diff(wantProbs, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

func TestParseAccounts(t *testing.T) {
	data := "- '111122223333'\n- 444455556666\n- 012345678901\n- 111122223333\n- 1234\n- '11112222333x'\n- [a]\n- null\n- 1.11122223333e11\n"
	entries, probs := awsauth.ParseSectionYAML(mapping.SectionAccounts, []byte(data), awsauth.Source{})
	var accts []string
	for _, e := range entries {
		if e.Kind != mapping.KindAccount {
			t.Errorf("entry %+v is not an account", e)
		}
		accts = append(accts, e.Account)
	}
	if want := []string{"111122223333", "444455556666", "012345678901"}; !slices.Equal(accts, want) {
		t.Errorf("accounts = %q, want %q", accts, want)
	}
	var lines []int
	for _, p := range probs {
		if p.Origin.Section != "mapAccounts" || p.Fatal {
			t.Errorf("problem %+v", p)
		}
		lines = append(lines, p.Origin.Line)
	}
	if want := []int{5, 6, 7, 8, 9}; !slices.Equal(lines, want) {
		t.Errorf("problem lines = %v, want %v (%v)", lines, want, probs)
	}
}

func TestParseSectionShape(t *testing.T) {
	for _, empty := range []string{"", "\n", "null", "~", "[]", "# nothing\n"} {
		r, p := parseRoles(empty)
		if len(r) != 0 || len(p) != 0 {
			t.Errorf("ParseSectionYAML(mapRoles, %q) = %v, %v; want empty", empty, r, p)
		}
	}
	if r, p := awsauth.ParseSection(mapping.SectionRoles, nil, awsauth.Source{}); len(r) != 0 || len(p) != 0 {
		t.Errorf("ParseSection(mapRoles, nil) = %v, %v", r, p)
	}
	for _, bad := range []string{"rolearn: x", "'a string'", "- [unclosed", "- a\n---\n- b"} {
		_, p := parseRoles(bad)
		if len(p) != 1 || !p[0].Fatal || p[0].Origin.Index != -1 {
			t.Errorf("ParseSectionYAML(mapRoles, %q) problems = %+v, want one fatal section problem", bad, p)
		}
	}
}

func TestParseAliases(t *testing.T) {
	data := `- &base {rolearn: "arn:aws:iam::111122223333:role/a", username: a, groups: &g [x, y]}
- {rolearn: "arn:aws:iam::111122223333:role/b", username: b, groups: *g}
- *base
- {<<: *base, username: c}
`
	roles, probs := parseRoles(data)
	if len(probs) != 0 {
		t.Errorf("problems = %v, want none (merge keys are honoured)", probs)
	}
	if len(roles) != 4 || roles[1].Groups[1] != "y" || roles[2].Username != "a" ||
		roles[3].Username != "c" || roles[3].ARN != roles[0].ARN || len(roles[3].Groups) != 2 {
		t.Errorf("roles = %+v", roles)
	}
}
