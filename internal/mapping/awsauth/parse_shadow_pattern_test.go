package awsauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
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
func wantUser(t *testing.T, tb *rules.Table, id mapping.Identity, want string) {
	t.Helper()
	res, err := tb.Map(context.Background(), id)
	if err != nil || res.Username != want {
		t.Errorf("%s: Map = %+v, %v; want %s", id.ARN, res, err, want)
	}
}

// roleTable parses mapRoles text and builds a Table with mapAccounts for
// shadowAcct; it fails the test on any fatal problem.
func roleTable(t *testing.T, text string, o rules.Options) (*rules.Table, []mapping.Problem) {
	t.Helper()
	roles, probs := parseRoles(text)
	if mapping.HasFatal(probs) {
		t.Fatalf("fatal problems: %v", probs)
	}
	tb, bp := build(t, o, roles, accounts(shadowAcct))
	if len(bp) != 0 {
		t.Errorf("Build: %v (the parser already reported the skipped entry)", joined(bp))
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
			tb, probs := roleTable(t, first+second, rules.Options{})
			if len(probs) != 1 || probs[0].Origin.Index != 3 {
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
	users, probs := parseUsers(
		"- userarn: " + p + "\n  username: contractor\n  groups: [system:masters]\n" +
			"- userarn: " + p + "\n  username: contractor\n  groups: [viewers]\n  bogus: 1\n")
	wantSkipped(t, probs, mapping.SectionUsers, 1, 7)
	const g = "arn:aws:iam::" + shadowAcct + ":group/devs"
	tb, bp := build(t, rules.Options{Groups: fixedGroups{g}}, users,
		[]mapping.Entry{{Kind: mapping.KindGroup, ARN: g, Username: "dev"}}, accounts(shadowAcct))
	if len(bp) != 0 {
		t.Errorf("Build: %v", joined(bp))
	}
	// Neither the earlier pattern, nor mapGroups, nor mapAccounts.
	wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/contractors/ann", UserID: "AIDAX"})
	wantUser(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/bob", UserID: "AIDAX"}, "dev")
	if _, u, _ := tb.Counts(); u != 0 {
		t.Errorf("users in effect = %d, want 0", u)
	}
}

// An entry rules.Build refuses itself (a reserved group) shadows its
// pattern too, and is reported once, not as a fatal overlap.
func TestTableRefusedPatternShadowsEarlierPattern(t *testing.T) {
	tb, probs := build(t, rules.Options{}, []mapping.Entry{
		{Kind: mapping.KindRole, ARN: ciPattern, Username: "ci-admin", Groups: []string{"system:masters"}, Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 0}},
		{Kind: mapping.KindRole, ARN: ciPattern, Username: "ci", Groups: []string{"system:ci"}, Origin: mapping.Origin{Section: mapping.SectionRoles, Index: 1}},
	}, accounts(shadowAcct))
	if len(probs) != 1 || probs[0].Origin.Index != 1 || probs[0].Fatal {
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
	tb, probs := roleTable(t, bad+good, rules.Options{})
	if len(probs) != 1 {
		t.Errorf("problems = %v, want only the skipped entry", probs)
	}
	wantUser(t, tb, roleSession("ci-test"), "ci")

	// Overlaps are now found by rules.Build, not by the parser: the parser
	// reports only the skipped entry, Build the overlap.
	roles, probs := parseRoles(good + bad + good)
	if len(probs) != 1 || mapping.HasFatal(probs) {
		t.Errorf("parse: problems = %v, want only the skipped entry", probs)
	}
	if _, bp := build(t, rules.Options{}, roles); !mapping.HasFatal(bp) {
		t.Errorf("parse and build: problems = %v, want the two valid ci-* entries refused as overlapping", bp)
	}
	_, p := build(t, rules.Options{}, []mapping.Entry{
		{Kind: mapping.KindRole, ARN: ciPattern, Username: "a"},
		{Kind: mapping.KindRole, ARN: ciPattern, Refused: errors.New("skipped")},
		{Kind: mapping.KindRole, ARN: ciPattern, Username: "b"},
	})
	if len(p) != 1 || !p[0].Fatal {
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
		"- rolearn: arn:aws:iam::"+shadowAcct+":role/ci-deploy-*\n  username: x\n  groups: [\"\"]\n", rules.Options{})
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
			tb, probs := roleTable(t, first+second, rules.Options{SSORoleMatch: true})
			if len(probs) != 1 || probs[0].Origin.Index != 1 {
				t.Errorf("problems = %v, want mapRoles[1] skipped", probs)
			}
			wantDeny(t, tb, admin)
			if r, _, _ := tb.Counts(); r != 0 {
				t.Errorf("roles in effect = %d, want 0", r)
			}
		})
	}
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
`, rules.Options{})
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
