package awsauth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
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
	roles, probs := parseRoles(data)
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	// As written: the parser no longer fills in the default partition,
	// lower-cases a given one or canonicalizes a pattern; rules.Build does
	// what those did (checked below).
	want := []mapping.Entry{
		{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: "111122223333"}, Username: "dev:{{SessionName}}",
			Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 0, Line: 2}},
		{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Ops", AccountID: "111122223333", Partition: "AWS-CN"}, Username: "ops", UserID: "AROAEXAMPLE",
			Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 1, Line: 6}},
		{Kind: mapping.KindRole, ARN: "ARN:AWS:IAM::111122223333:ROLE/CI-*", Username: "ci",
			Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 2, Line: 9}},
	}
	if d := cmp.Diff(want, roles); d != "" {
		t.Errorf("roles (-want +got):\n%s", d)
	}
	// What the parser returns, rules.Build accepts.
	tb, bp := build(t, rules.Options{SSORoleMatch: true}, roles)
	if len(bp) != 0 {
		t.Fatalf("Build: %v", joined(bp))
	}
	wantUser(t, tb, roleSession("AWSReservedSSO_Dev_0123456789abcdef"), "dev:s")
	wantUser(t, tb, mapping.Identity{ARN: "arn:aws-cn:sts::111122223333:assumed-role/AWSReservedSSO_Ops_0123456789abcdef/s", UserID: "AROAEXAMPLE:s"}, "ops")
	wantUser(t, tb, roleSession("ci-x"), "ci")
}

// Overlapping patterns are reported by rules.Build now, not by the
// parser: the parser returns every entry and Build the same one fatal
// problem, at the entry's origin.
func TestParseOverlappingPatterns(t *testing.T) {
	data := `
- {rolearn: "arn:aws:iam::111122223333:role/ci-*", username: a}
- {rolearn: "arn:aws:iam::111122223333:role/web-*", username: b}
- {rolearn: "arn:aws:iam::111122223333:role/ci-*-prod", username: c}
- {rolearn: "arn:aws:iam::111122223333:role/ci-prod-*", username: d}
`
	roles, probs := parseRoles(data)
	if len(probs) != 0 || len(roles) != 4 {
		t.Fatalf("parse: %d roles, problems = %v; want 4, none", len(roles), probs)
	}
	tb, probs := build(t, rules.Options{}, roles)
	// The other entry is named by its origin, which now gives its line.
	if len(probs) != 1 || !probs[0].Fatal || probs[0].Origin.Index != 2 ||
		!strings.Contains(probs[0].Error(), "mapRoles[0] (line 2) arn:aws:iam::111122223333:role/ci-*") {
		t.Fatalf("problems = %v, want one fatal overlap at mapRoles[2] naming mapRoles[0]", probs)
	}
	// b and d are kept; a and c are not.
	if r, _, _ := tb.Counts(); r != 2 {
		t.Errorf("roles in effect = %d, want 2", r)
	}
	wantUser(t, tb, roleSession("web-x"), "b")
	wantUser(t, tb, roleSession("ci-prod-x"), "d")
	for _, role := range []string{"ci-x", "ci-x-prod"} {
		if res, err := tb.Map(t.Context(), roleSession(role)); err == nil {
			t.Errorf("%s: Map = %+v, want the overlapping patterns left out", role, res)
		}
	}

	users, probs := parseUsers(`
- {userarn: "arn:aws:iam::111122223333:user/a*", username: a}
- {userarn: "arn:aws:iam::111122223333:user/A*", username: b}
- {userarn: "arn:aws:iam::111122223333:user/x/a*", username: c}
`)
	if len(probs) != 0 {
		t.Fatalf("parse: problems = %v, want none", probs)
	}
	tb, probs = build(t, rules.Options{}, users)
	if _, u, _ := tb.Counts(); len(probs) != 1 || !probs[0].Fatal || u != 1 {
		t.Errorf("users in effect = %d, problems = %v; want c kept and one fatal overlap", u, probs)
	}
	wantUser(t, tb, mapping.Identity{ARN: "arn:aws:iam::111122223333:user/x/ann", UserID: "AIDAX"}, "c")
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
	groups, probs := parseGroups(data)
	origin := func(i, line int) mapping.Origin {
		return mapping.Origin{Section: mapping.SectionGroups, Index: i, Line: line}
	}
	// As written: the group ARN is no longer canonicalized by the parser.
	// Refused entries carry the problem's error (without its place, which
	// is their Origin).
	want := []mapping.Entry{
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::111122223333:group/devs", Username: "dev", Groups: []string{"devs"}, Origin: origin(0, 2)},
		{Kind: mapping.KindGroup, ARN: "ARN:AWS:IAM::111122223333:GROUP/team/Ops", Username: "ops", UserID: "AIDAEXAMPLE", Origin: origin(1, 5)},
		// refused entries for the skipped entries that name a group
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::111122223333:group/devs", Origin: origin(5, 14), Refused: errors.New(`"sso" is only allowed in mapRoles`)},
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::111122223333:group/devs", Origin: origin(6, 17),
			Refused: errors.New(`username: "{{SessionName}}:x": a template before the first ":" lets the caller choose the prefix; put literal text first`)},
	}
	if d := cmp.Diff(want, groups, cmp.Comparer(sameError)); d != "" {
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
	if !mapping.HasFatal(probs) || probs[4].Fatal != true || probs[0].Fatal {
		t.Errorf("fatal flags wrong: %+v", probs)
	}
}

func TestParseUsersRejectsSSO(t *testing.T) {
	_, probs := parseUsers("- sso: {permissionSetName: x, accountID: '111122223333'}\n  username: u\n")
	if len(probs) != 1 || !strings.Contains(probs[0].Error(), `"sso" is only allowed in mapRoles`) {
		t.Errorf("problems = %v", probs)
	}
}

// sameError compares errors by message, for cmp.
func sameError(a, b error) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error())
}
