package awsauth_test

import (
	"context"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// A skipped or refused pattern entry shadows earlier entries with the same
// pattern, as a skipped exact entry shadows its ARN
// (parse_shadow_test.go): whoever the pattern is the best match for is
// denied, and no lower tier (shorter pattern, mapGroups, mapAccounts) and
// no later backend decides instead.

const ciPattern = "arn:aws:iam::" + shadowAcct + ":role/ci-*"

func roleSession(role string) mapping.Identity {
	return mapping.Identity{ARN: "arn:aws:sts::" + shadowAcct + ":assumed-role/" + role + "/s", UserID: "AROAX:s"}
}

// wantUser fails unless Map grants id the username want.
func wantUser(t *testing.T, tb *mapping.Table, id mapping.Identity, want string) {
	t.Helper()
	res, err := tb.Map(context.Background(), id)
	if err != nil || res.Username != want {
		t.Errorf("%s: Map = %+v, %v; want %s", id.ARN, res, err, want)
	}
}

// roleTable parses mapRoles text and builds a Table with mapAccounts for
// shadowAcct; it fails the test on any fatal problem.
func roleTable(t *testing.T, text string, o mapping.Options) (*mapping.Table, []mapping.Problem) {
	t.Helper()
	roles, probs := mapping.ParseRolesYAML([]byte(text))
	if mapping.HasFatal(probs) {
		t.Fatalf("fatal problems: %v", probs)
	}
	o.Logger = quietLogger(t)
	tb, err := mapping.NewTableWithOptions("T", mapping.Spec{Roles: roles, Accounts: []string{shadowAcct}}, o)
	if err != nil {
		t.Errorf("NewTable: %v (the parser already reported the skipped entry)", err)
	}
	return tb, probs
}

func TestParseRolesSkippedPatternShadowsEarlierPattern(t *testing.T) {
	const first = "- rolearn: " + ciPattern + "\n  username: ci-admin\n  groups: [system:masters]\n" +
		"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ci-deploy-*\n  username: deploy\n" +
		"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ci-exact\n  username: exact\n"
	for name, second := range map[string]string{
		"bad userid":       "- rolearn: " + ciPattern + "\n  username: ci\n  userid: not-valid!\n",
		"unknown field":    "- usernme: x\n  rolearn: " + ciPattern + "\n  username: ci\n",
		"missing username": "- rolearn: " + ciPattern + "\n  groups: [ci]\n",
		"empty group":      "- rolearn: " + ciPattern + "\n  username: ci\n  groups: [\"\"]\n",
		"other case":       "- rolearn: arn:aws:iam::" + shadowAcct + ":role/CI-*\n  username: ci\n  groups: ci\n",
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := roleTable(t, first+second, mapping.Options{})
			if len(probs) != 1 || probs[0].Index != 3 {
				t.Errorf("problems = %v, want exactly the skipped entry", probs)
			}
			// The pattern's best match is the skipped entry: denied, and
			// not passed on to mapAccounts.
			wantDeny(t, tb, roleSession("ci-test"))
			wantDeny(t, tb, roleSession("CI-Other"))
			// Entries that outrank it, and principals it does not match,
			// are untouched.
			wantUser(t, tb, roleSession("ci-deploy-prod"), "deploy")
			wantUser(t, tb, roleSession("ci-exact"), "exact")
			wantUser(t, tb, roleSession("dev"), "arn:aws:iam::"+shadowAcct+":role/dev")
			if r, _, _ := tb.Counts(); r != 2 {
				t.Errorf("roles in effect = %d, want 2 (ci-deploy-* and ci-exact)", r)
			}
		})
	}
}

func TestParseUsersSkippedPatternShadowsEarlierPattern(t *testing.T) {
	const p = "arn:aws:iam::" + shadowAcct + ":user/contractors/*"
	users, probs := mapping.ParseUsersYAML([]byte(
		"- userarn: " + p + "\n  username: contractor\n  groups: [system:masters]\n" +
			"- userarn: " + p + "\n  username: contractor\n  groups: [viewers]\n  bogus: 1\n"))
	wantSkipped(t, probs, mapping.SectionUsers, 1, 7)
	const g = "arn:aws:iam::" + shadowAcct + ":group/devs"
	tb, err := mapping.NewTableWithOptions("T", mapping.Spec{
		Users:    users,
		Groups:   []mapping.GroupMapping{{GroupARN: g, Username: "dev"}},
		Accounts: []string{shadowAcct},
	}, mapping.Options{Logger: quietLogger(t), Groups: fixedGroups{g}})
	if err != nil {
		t.Errorf("NewTable: %v", err)
	}
	// Neither the earlier pattern, nor mapGroups, nor mapAccounts.
	wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/contractors/ann", UserID: "AIDAX"})
	wantUser(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/bob", UserID: "AIDAX"}, "dev")
	if _, u, _ := tb.Counts(); u != 0 {
		t.Errorf("users in effect = %d, want 0", u)
	}
}

// An entry NewTableWithOptions refuses itself (a reserved group) shadows its
// pattern too, and is reported once, not as a fatal overlap.
func TestTableRefusedPatternShadowsEarlierPattern(t *testing.T) {
	tb, err := mapping.NewTableWithOptions("T", mapping.Spec{
		Roles: []mapping.RoleMapping{
			{RoleARN: ciPattern, Username: "ci-admin", Groups: []string{"system:masters"}},
			{RoleARN: ciPattern, Username: "ci", Groups: []string{"system:ci"}},
		},
		Accounts: []string{shadowAcct},
	}, mapping.Options{Logger: quietLogger(t)})
	probs := problemsOf(err)
	if len(probs) != 1 || probs[0].Index != 1 || probs[0].Fatal {
		t.Errorf("problems = %v, want one non-fatal problem at mapRoles[1]", probs)
	}
	wantDeny(t, tb, roleSession("ci-test"))
}

// The last entry for a pattern wins: a valid entry after a skipped one
// applies, without an overlap error. Two valid entries with one pattern
// stay a load error even with a skipped one between them.
func TestPatternShadowLastEntryWins(t *testing.T) {
	const bad = "- rolearn: " + ciPattern + "\n  username: x\n  userid: bad!\n"
	const good = "- rolearn: " + ciPattern + "\n  username: ci\n"
	tb, probs := roleTable(t, bad+good, mapping.Options{})
	if len(probs) != 1 {
		t.Errorf("problems = %v, want only the skipped entry", probs)
	}
	wantUser(t, tb, roleSession("ci-test"), "ci")

	roles, probs := mapping.ParseRolesYAML([]byte(good + bad + good))
	if !mapping.HasFatal(probs) {
		t.Errorf("parse: problems = %v, want the two valid ci-* entries refused as overlapping", probs)
	}
	_, err := mapping.NewTableWithOptions("T", mapping.Spec{Roles: []mapping.RoleMapping{
		{RoleARN: ciPattern, Username: "a"}, {RoleARN: ciPattern, Rejected: "skipped"}, {RoleARN: ciPattern, Username: "b"},
	}}, mapping.Options{Logger: quietLogger(t)})
	if p := problemsOf(err); len(p) != 1 || !p[0].Fatal {
		t.Errorf("table: problems = %v (roles %+v), want one fatal overlap", p, roles)
	}
}

// A skipped pattern that a principal matches as well as an earlier pattern
// of equal rank denies it (ambiguous); one of higher rank denies what it is
// the best match for. Neither is a load error: only entries in effect can
// make one.
func TestSkippedPatternOfOtherTextDenies(t *testing.T) {
	tb, _ := roleTable(t, "- rolearn: "+ciPattern+"\n  username: ci\n"+
		"- rolearn: arn:aws:iam::"+shadowAcct+":role/ci-*-prod\n  username: x\n  userid: bad!\n"+
		"- rolearn: arn:aws:iam::"+shadowAcct+":role/ci-deploy-*\n  username: x\n  groups: [\"\"]\n", mapping.Options{})
	wantDeny(t, tb, roleSession("ci-x-prod"))
	wantDeny(t, tb, roleSession("ci-deploy-x"))
	wantUser(t, tb, roleSession("ci-test"), "ci")
}

// An sso block readSSO refuses (an unknown or repeated key) still names its
// permission set, so the entry shadows earlier entries for it.
func TestParseRolesSkippedSSOBlockShadowsEarlierOne(t *testing.T) {
	const first = "- sso: {permissionSetName: Admin, accountID: \"" + shadowAcct + "\"}\n  username: admin\n  groups: [system:masters]\n"
	admin := roleSession("AWSReservedSSO_Admin_0123456789abcdef")
	for name, second := range map[string]string{
		"unknown key":        "- sso: {permissionSetName: Admin, accountID: \"" + shadowAcct + "\", region: us-east-1}\n  username: viewer\n",
		"repeated key":       "- sso: {permissionSetName: Admin, accountID: " + shadowAcct + ", accountId: \"444455556666\"}\n  username: viewer\n",
		"explicit partition": "- sso: {permissionSetName: ADMIN, accountID: \"" + shadowAcct + "\", partition: AWS, x: 1}\n  username: viewer\n",
		"with rolearn":       "- sso: {permissionSetName: Admin, accountID: \"" + shadowAcct + "\"}\n  rolearn: arn:aws:iam::" + shadowAcct + ":role/x\n  username: v\n",
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := roleTable(t, first+second, mapping.Options{SSORoleMatch: true})
			if len(probs) != 1 || probs[0].Index != 1 {
				t.Errorf("problems = %v, want mapRoles[1] skipped", probs)
			}
			wantDeny(t, tb, admin)
			if r, _, _ := tb.Counts(); r != 0 {
				t.Errorf("roles in effect = %d, want 0", r)
			}
		})
	}
}

// problemsOf unpacks NewTableWithOptions' joined error.
func problemsOf(err error) []mapping.Problem {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []mapping.Problem
	for _, e := range errs {
		if p, ok := e.(mapping.Problem); ok {
			out = append(out, p)
		}
	}
	return out
}

// The worked example in docs/mappings.md ("Skipped entries and load
// errors").
func TestDocsSkippedPatternExample(t *testing.T) {
	tb, probs := roleTable(t, `- rolearn: arn:aws:iam::111122223333:role/ci-*
  username: ci:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/ci-deploy-*
  username: deploy:{{SessionName}}
  groups: [deployers]
- rolearn: arn:aws:iam::111122223333:role/ci-*
  username: ci:{{SessionName}}
  group: [ci-readers]          # typo: "group"
`, mapping.Options{})
	if len(probs) != 1 || probs[0].Error() != `mapRoles[2] (line 9): unknown field "group"` {
		t.Errorf("problems = %v", probs)
	}
	id := func(role, session string) mapping.Identity {
		return mapping.Identity{ARN: "arn:aws:sts::" + shadowAcct + ":assumed-role/" + role + "/" + session}
	}
	wantDeny(t, tb, id("ci-test", "build-1"))
	wantUser(t, tb, id("ci-deploy-prod", "build-2"), "deploy:build-2")
	wantUser(t, tb, id("dev", "x"), "arn:aws:iam::"+shadowAcct+":role/dev")
}
