package awsauth_test

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// aws-iam-authenticator reads aws-auth through encoding/json, which matches
// field names with Unicode case folding: "uſerarn" (U+017F, long s) is
// userarn to it, so such an entry replaces earlier ones for its principal.
// iamgate refuses the entry (only plain ASCII field names are read) and
// must still let it shadow that principal: the earlier grant is denied.

const aliceARN = "arn:aws:iam::" + shadowAcct + ":user/alice"

var alice = mapping.Identity{ARN: aliceARN, UserID: "AIDAX"}

func usersTable(t *testing.T, text string) (*rules.Table, []mapping.Problem) {
	t.Helper()
	users, probs := parseUsers(text)
	if mapping.HasFatal(probs) {
		t.Fatalf("fatal problems: %v", probs)
	}
	tb, bp := build(t, rules.Options{}, users, accounts(shadowAcct))
	if len(bp) != 0 {
		t.Errorf("Build: %v", joined(bp))
	}
	return tb, probs
}

func TestParseFoldedKeysShadowEarlierGrant(t *testing.T) {
	const adminUser = "- userarn: " + aliceARN + "\n  username: alice\n  groups: [system:masters]\n"
	for name, tc := range map[string]struct {
		second, key string
		line        int
	}{
		"long s":         {"- uſerarn: " + aliceARN + "\n  username: alice-ro\n", `"u\u017ferarn"`, 4},
		"long s, merged": {"- <<: {uſerarn: " + aliceARN + "}\n  username: alice-ro\n", `"u\u017ferarn"`, 4},
		"long s, upper":  {"- UſERARN: " + aliceARN + "\n  username: alice-ro\n", `"U\u017fERARN"`, 4},
		// strings.ToLower("İ") is "i": read as userid, which AIA ignores.
		"dotted I":      {"- userarn: " + aliceARN + "\n  username: alice-ro\n  userİd: AIDAX\n", `"user\u0130d"`, 6},
		"long s groups": {"- userarn: " + aliceARN + "\n  username: alice-ro\n  groupſ: [view]\n", `"group\u017f"`, 6},
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := usersTable(t, adminUser+tc.second)
			wantSkipped(t, probs, mapping.SectionUsers, 1, tc.line)
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), "not plain ASCII") || !strings.Contains(probs[0].Error(), tc.key) {
				t.Errorf("problems = %v, want one naming %s as not plain ASCII", probs, tc.key)
			}
			wantDeny(t, tb, alice)
		})
	}
}

// The same for an sso block: "ſſo", a folded key inside the block, and
// both merged in.
func TestParseFoldedSSOKeysShadowEarlierGrant(t *testing.T) {
	const acct = `accountID: "` + shadowAcct + `"`
	for name, second := range map[string]string{
		"sso key":          "- ſſo: {permissionSetName: Admin, " + acct + "}\n  username: viewer\n",
		"SſO key":          "- SſO: {permissionSetName: Admin, " + acct + "}\n  username: viewer\n",
		"block key":        "- sso: {permiſſionSetName: Admin, " + acct + "}\n  username: viewer\n",
		"both":             "- ſſo: {PERMIſſIONSETNAME: Admin, " + acct + "}\n  username: viewer\n",
		"merged sso key":   "- <<: {ſſo: {permissionSetName: Admin, " + acct + "}}\n  username: viewer\n",
		"merged block key": "- sso: {<<: {permiſſionSetName: Admin}, " + acct + "}\n  username: viewer\n",
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := roleTable(t, ssoAdmin+second, rules.Options{SSORoleMatch: true})
			wantSkipped(t, probs, mapping.SectionRoles, 1, 5)
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), "not plain ASCII") {
				t.Errorf("problems = %v, want one about a non-ASCII field name", probs)
			}
			wantDeny(t, tb, ssoAdminSession)
		})
	}
}

// Keys encoding/json does not fold to a field name stay unknown fields and
// shadow nothing (here a Cyrillic "е").
func TestParseUnfoldedKeysNameNothing(t *testing.T) {
	const adminUser = "- userarn: " + aliceARN + "\n  username: alice\n  groups: [system:masters]\n"
	tb, probs := usersTable(t, adminUser+"- us\u0435rarn: "+aliceARN+"\n  username: alice-ro\n")
	if len(probs) != 1 || probs[0].Origin.Index != 1 {
		t.Errorf("problems = %v, want mapUsers[1] skipped", probs)
	}
	wantUser(t, tb, alice, "alice")
}
