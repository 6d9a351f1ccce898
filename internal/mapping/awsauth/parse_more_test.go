package awsauth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRolesSSOAndPatterns(t *testing.T) {
	data := `
- sso:
    permissionSetName: Dev
    accountID: "111122223333"
  username: dev:{{SessionName}}
- SSO: {PermissionSetName: Ops, AccountId: 111122223333, Partition: AWS-CN}
  username: ops
  userid: AROAEXAMPLE
- rolearn: ARN:AWS:IAM::111122223333:ROLE/CI-*
  username: ci
`
	roles, probs := ParseRolesYAML([]byte(data))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	want := []RoleMapping{
		{SSO: &SSOMapping{PermissionSetName: "Dev", AccountID: "111122223333", Partition: "aws"}, Username: "dev:{{SessionName}}"},
		{SSO: &SSOMapping{PermissionSetName: "Ops", AccountID: "111122223333", Partition: "aws-cn"}, Username: "ops", UserID: "AROAEXAMPLE"},
		{RoleARN: "arn:aws:iam::111122223333:role/CI-*", Username: "ci"},
	}
	if d := cmp.Diff(want, roles); d != "" {
		t.Errorf("roles (-want +got):\n%s", d)
	}
	// What the parser returns, NewTable accepts.
	if _, err := NewTable("T", roles, nil, nil); err != nil {
		t.Errorf("NewTable: %v", err)
	}
}

func TestParseOverlappingPatterns(t *testing.T) {
	data := `
- {rolearn: "arn:aws:iam::111122223333:role/ci-*", username: a}
- {rolearn: "arn:aws:iam::111122223333:role/web-*", username: b}
- {rolearn: "arn:aws:iam::111122223333:role/ci-*-prod", username: c}
- {rolearn: "arn:aws:iam::111122223333:role/ci-prod-*", username: d}
`
	roles, probs := ParseRolesYAML([]byte(data))
	if len(probs) != 1 || !probs[0].Fatal || probs[0].Index != 2 ||
		!strings.Contains(probs[0].Error(), "mapRoles[0] arn:aws:iam::111122223333:role/ci-*") {
		t.Fatalf("problems = %v, want one fatal overlap at mapRoles[2] naming mapRoles[0]", probs)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Username)
	}
	if d := cmp.Diff([]string{"b", "d"}, names); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}

	users, probs := ParseUsersYAML([]byte(`
- {userarn: "arn:aws:iam::111122223333:user/a*", username: a}
- {userarn: "arn:aws:iam::111122223333:user/A*", username: b}
- {userarn: "arn:aws:iam::111122223333:user/x/a*", username: c}
`))
	if len(probs) != 1 || !probs[0].Fatal || len(users) != 1 || users[0].Username != "c" {
		t.Errorf("users = %+v, problems = %v; want c kept and one fatal overlap", users, probs)
	}
}

func TestParseGroups(t *testing.T) {
	data := `
- grouparn: arn:aws:iam::111122223333:group/devs
  username: dev
  groups: [devs]
- GroupARN: ARN:AWS:IAM::111122223333:GROUP/team/Ops
  username: ops
  userid: AIDAEXAMPLE
- grouparn: arn:aws:iam::111122223333:group/dev*
  username: x
- grouparn: arn:aws:iam::111122223333:role/devs
  username: x
- rolearn: arn:aws:iam::111122223333:role/devs
  username: x
- grouparn: arn:aws:iam::111122223333:group/devs
  sso: {permissionSetName: x, accountID: "111122223333"}
  username: x
- grouparn: arn:aws:iam::111122223333:group/devs
  username: "{{SessionName}}:x"
`
	groups, probs := ParseGroupsYAML([]byte(data))
	want := []GroupMapping{
		{GroupARN: "arn:aws:iam::111122223333:group/devs", Username: "dev", Groups: []string{"devs"}},
		{GroupARN: "arn:aws:iam::111122223333:group/team/Ops", Username: "ops", UserID: "AIDAEXAMPLE"},
		// placeholders for the skipped entries that name a group
		{GroupARN: "arn:aws:iam::111122223333:group/devs", Rejected: `mapGroups[5] (line 15): "sso" is only allowed in mapRoles`},
		{GroupARN: "arn:aws:iam::111122223333:group/devs", Rejected: groups[len(groups)-1].Rejected},
	}
	if d := cmp.Diff(want, groups); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	wantProbs := []string{
		`mapGroups[2] (line 8): grouparn: wildcards are not allowed in group ARNs`,
		`mapGroups[3] (line 10): grouparn: "arn:aws:iam::111122223333:role/devs" is not an IAM group ARN`,
		`mapGroups[4] (line 12): unknown field "rolearn"`,
		`mapGroups[5] (line 15): "sso" is only allowed in mapRoles`,
		`mapGroups[6] (line 18): username: "{{SessionName}}:x": a template before the first ":" lets the caller choose the prefix; put literal text first`,
	}
	if d := cmp.Diff(wantProbs, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if !HasFatal(probs) || probs[4].Fatal != true || probs[0].Fatal {
		t.Errorf("fatal flags wrong: %+v", probs)
	}
}

func TestParseUsersRejectsSSO(t *testing.T) {
	_, probs := ParseUsersYAML([]byte("- sso: {permissionSetName: x, accountID: '111122223333'}\n  username: u\n"))
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), `"sso" is only allowed in mapRoles`) {
		t.Errorf("problems = %v", probs)
	}
}

func TestGroupARN(t *testing.T) {
	good := map[string]string{
		"arn:aws:iam::111122223333:group/devs":                        "arn:aws:iam::111122223333:group/devs",
		"arn:aws-us-gov:iam::111122223333:group/a/b/Devs":             "arn:aws-us-gov:iam::111122223333:group/devs",
		"arn:aws:iam::111122223333:group/" + strings.Repeat("g", 128): "arn:aws:iam::111122223333:group/" + strings.Repeat("g", 128),
	}
	for in, wantKey := range good {
		if key, _, err := parseGroupARN(in); err != nil || key != wantKey {
			t.Errorf("parseGroupARN(%q) = %q, %v; want %q", in, key, err, wantKey)
		}
	}
	for _, bad := range []string{
		"", "arn:aws:iam::111122223333:group/", "arn:aws:iam::111122223333:group", "arn:aws:sts::111122223333:group/g",
		"arn:aws:iam:us-east-1:111122223333:group/g", "arn:aws:iam::1111:group/g", "arn:moon:iam::111122223333:group/g",
		"arn:aws:iam::111122223333:group//g", "arn:aws:iam::111122223333:group/g h", "arn:aws:iam::111122223333:user/g",
		"arn:aws:iam::111122223333:group/" + strings.Repeat("g", 129), "arn:aws:iam::111122223333:group/g:x",
	} {
		if _, _, err := parseGroupARN(bad); err == nil {
			t.Errorf("parseGroupARN(%q) accepted", bad)
		}
	}
}
