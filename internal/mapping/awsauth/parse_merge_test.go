package awsauth_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// YAML merge keys ("<<: *anchor") and aliases in mapping entries, as
// aws-iam-authenticator reads them (its yaml.v2 / yaml.v3 readers apply
// merges; the last entry for an ARN wins).

const (
	opsARN = "arn:aws:iam::" + shadowAcct + ":role/ops"
	// opsEntry is anchored as &ops and grants system:masters.
	opsEntry = "- &ops {rolearn: " + opsARN + ", username: ops-admin, groups: [system:masters]}\n"
	ssoAdmin = "- &adm\n  sso: &blk {permissionSetName: Admin, accountID: \"" + shadowAcct + "\"}\n  username: admin\n  groups: [system:masters]\n"
)

var ssoAdminSession = roleSession("AWSReservedSSO_Admin_0123456789abcdef")

// wantGrant fails unless Map grants id exactly username and groups.
func wantGrant(t *testing.T, tb *rules.Table, id mapping.Identity, username string, groups ...string) {
	t.Helper()
	res, err := tb.Map(context.Background(), id)
	if err != nil || res.Username != username || !slices.Equal(res.Groups, groups) {
		t.Errorf("%s: Map = %+v, %v; want %s %v", id.ARN, res, err, username, groups)
	}
}

// An entry that merges an earlier one and overrides some of its keys is a
// valid entry of its own, and being later it wins.
func TestParseRolesMergeKeyEntryWins(t *testing.T) {
	for name, tc := range map[string]struct {
		text       string
		id         mapping.Identity
		user       string
		groups     []string
		otherUsers map[string]string // role -> username, for the other entries
	}{
		"block style": {text: opsEntry + "- <<: *ops\n  groups: [view]\n",
			id: roleSession("ops"), user: "ops-admin", groups: []string{"view"}},
		"flow style": {text: opsEntry + "- {<<: *ops, groups: [view], username: ops-viewer}\n",
			id: roleSession("ops"), user: "ops-viewer", groups: []string{"view"}},
		"null groups override": {text: opsEntry + "- <<: *ops\n  groups: ~\n",
			id: roleSession("ops"), user: "ops-admin"},
		"inline merged mapping": {text: opsEntry + "- <<: {rolearn: " + opsARN + ", username: inline}\n",
			id: roleSession("ops"), user: "inline"},
		"merged arn overridden": {text: opsEntry + "- <<: *ops\n  rolearn: arn:aws:iam::" + shadowAcct + ":role/dev\n  groups: [view]\n",
			id: roleSession("dev"), user: "ops-admin", groups: []string{"view"},
			otherUsers: map[string]string{"ops": "ops-admin"}},
		"nested merge": {text: opsEntry + "- &mid {<<: *ops, groups: [edit]}\n- <<: *mid\n  username: nested\n",
			id: roleSession("ops"), user: "nested", groups: []string{"edit"}},
		"alias of a merging entry": {text: opsEntry + "- &v {<<: *ops, groups: [view]}\n- {<<: *ops, username: x}\n- *v\n",
			id: roleSession("ops"), user: "ops-admin", groups: []string{"view"}},
		"tagged merge key": {text: opsEntry + "- !!merge <<: *ops\n  groups: [view]\n",
			id: roleSession("ops"), user: "ops-admin", groups: []string{"view"}},
		"sso entry": {text: ssoAdmin + "- <<: *adm\n  groups: [view]\n",
			id: ssoAdminSession, user: "admin", groups: []string{"view"}},
		"merge inside sso block": {text: ssoAdmin + "- sso: {<<: *blk, partition: aws}\n  username: viewer\n",
			id: ssoAdminSession, user: "viewer"},
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := roleTable(t, tc.text, rules.Options{SSORoleMatch: true})
			if len(probs) != 0 {
				t.Errorf("problems = %v, want none", probs)
			}
			wantGrant(t, tb, tc.id, tc.user, tc.groups...)
			for role, u := range tc.otherUsers {
				wantUser(t, tb, roleSession(role), u)
			}
		})
	}
}

// An entry that merge keys make invalid is skipped whole, and it still
// shadows the principals it names, directly or through the merge: the
// earlier system:masters entry does not come back into force.
func TestParseRolesMergeProblemsShadow(t *testing.T) {
	for name, tc := range map[string]struct {
		second string // starts on line 2
		line   int
		msg    string
	}{
		"explicit typo, arn only merged": {"- <<: *ops\n  grups: [view]\n", 3, `unknown field "grups"`},
		"merged unknown field":           {"- <<: {rolearn: " + opsARN + ", usernme: x}\n  username: y\n", 2, `unknown field "usernme" (merged in by "<<" on line 2)`},
		"merged bad groups":              {"- <<: [{groups: view}, *ops]\n", 2, "groups: must be a list"},
		"merge value not a mapping":      {"- <<: 5\n  rolearn: " + opsARN + "\n  username: x\n", 2, "<< must be a mapping or a list of mappings, got !!int"},
		"merge value null":               {"- <<:\n  rolearn: " + opsARN + "\n  username: x\n", 2, "<< must be a mapping"},
		"list with a non-mapping":        {"- <<: [*ops, [a]]\n  groups: [view]\n", 2, "<<[1] must be a mapping, got a list"},
		"merge key twice":                {"- <<: *ops\n  groups: [view]\n  <<: {username: x}\n", 4, `merge key "<<" given more than once`},
		"key before merge":               {"- groups: [view]\n  <<: *ops\n", 2, `field "groups" comes before "<<"`},
		"case differs from merged":       {"- <<: *ops\n  Groups: [view]\n", 3, `fields "Groups" and "groups" differ only in case`},
		"duplicate in merged mapping":    {"- <<: {rolearn: " + opsARN + ", RoleArn: " + opsARN + "}\n  username: x\n", 2, `field "RoleArn" given more than once (merged in by "<<" on line 2)`},
		"duplicate written key":          {"- <<: *ops\n  groups: [view]\n  groups: [edit]\n", 4, `field "groups" given more than once`},
		"quoted merge key":               {"- \"<<\": *ops\n  groups: [view]\n", 2, `unknown field "<<"`},
		"merged arn and bad userid":      {"- <<: *ops\n  userid: not-valid!\n", 3, "letters and digits"},
	} {
		t.Run(name, func(t *testing.T) {
			tb, probs := roleTable(t, opsEntry+tc.second, rules.Options{})
			wantSkipped(t, probs, mapping.SectionRoles, 1, tc.line)
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), tc.msg) {
				t.Errorf("problems = %v, want one containing %q", probs, tc.msg)
			}
			wantDeny(t, tb, roleSession("ops"))
			if r, _, _ := tb.Counts(); r != 0 {
				t.Errorf("roles in effect = %d, want 0", r)
			}
		})
	}
}

// The same through an sso block merged in, and in mapUsers and mapGroups.
func TestParseMergeProblemsShadowOtherSections(t *testing.T) {
	t.Run("sso", func(t *testing.T) {
		tb, probs := roleTable(t, ssoAdmin+"- <<: *adm\n  username: [x]\n", rules.Options{SSORoleMatch: true})
		wantSkipped(t, probs, mapping.SectionRoles, 1, 6)
		wantDeny(t, tb, ssoAdminSession)
	})
	t.Run("sso block merge", func(t *testing.T) {
		tb, probs := roleTable(t, ssoAdmin+"- sso: {<<: *blk, region: x}\n  username: v\n", rules.Options{SSORoleMatch: true})
		wantSkipped(t, probs, mapping.SectionRoles, 1, 5)
		wantDeny(t, tb, ssoAdminSession)
	})
	t.Run("mapUsers", func(t *testing.T) {
		users, probs := parseUsers("- &a {userarn: arn:aws:iam::" + shadowAcct + ":user/alice, username: alice, groups: [system:masters]}\n" +
			"- <<: *a\n  grups: [view]\n")
		wantSkipped(t, probs, mapping.SectionUsers, 1, 3)
		tb, bp := build(t, rules.Options{}, users)
		if len(bp) != 0 {
			t.Fatal(joined(bp))
		}
		wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/alice", UserID: "AIDAX"})
	})
	t.Run("mapGroups", func(t *testing.T) {
		const g = "arn:aws:iam::" + shadowAcct + ":group/devs"
		groups, probs := parseGroups("- &g {grouparn: " + g + ", username: dev, groups: [system:masters]}\n" +
			"- <<: *g\n  sso: {}\n")
		wantSkipped(t, probs, mapping.SectionGroups, 1, 3)
		tb, bp := build(t, rules.Options{Groups: fixedGroups{g}}, groups)
		if len(bp) != 0 {
			t.Fatal(joined(bp))
		}
		wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/bob", UserID: "AIDAX"})
	})
}

// A key written in the entry beats merged ones; in a list of merged
// mappings the earlier one wins (the YAML merge rule, which both of AIA's
// YAML readers follow), and a merged mapping's own keys beat what it
// merges.
func TestParseMergePrecedence(t *testing.T) {
	const base = "- &a {rolearn: " + opsARN + ", username: from-a}\n" +
		"- &b {rolearn: arn:aws:iam::" + shadowAcct + ":role/b, username: from-b, groups: [from-b], userid: AROABBBB}\n" +
		"- &c {<<: *b, username: from-c}\n"
	for name, tc := range map[string]struct {
		entry  string
		arn    string
		user   string
		groups []string
		userID string
	}{
		"earlier wins":         {"- <<: [*a, *b]\n", opsARN, "from-a", []string{"from-b"}, "AROABBBB"},
		"order reversed":       {"- <<: [*b, *a]\n", "arn:aws:iam::" + shadowAcct + ":role/b", "from-b", []string{"from-b"}, "AROABBBB"},
		"written beats merged": {"- <<: [*a, *b]\n  username: own\n  userid: AROAOWN\n", opsARN, "own", []string{"from-b"}, "AROAOWN"},
		"nested own keys win":  {"- <<: *c\n", "arn:aws:iam::" + shadowAcct + ":role/b", "from-c", []string{"from-b"}, "AROABBBB"},
		"nested then listed":   {"- <<: [*c, *a]\n", "arn:aws:iam::" + shadowAcct + ":role/b", "from-c", []string{"from-b"}, "AROABBBB"},
	} {
		t.Run(name, func(t *testing.T) {
			roles, probs := parseRoles(base + tc.entry)
			if len(probs) != 0 || len(roles) != 4 {
				t.Fatalf("roles, problems = %+v, %v; want 4 roles, no problems", roles, probs)
			}
			got := roles[3]
			if got.ARN != tc.arn || got.Username != tc.user || !slices.Equal(got.Groups, tc.groups) || got.UserID != tc.userID {
				t.Errorf("entry = %+v, want %s %s %v %s", got, tc.arn, tc.user, tc.groups, tc.userID)
			}
		})
	}
}

// An alias as a whole entry repeats the anchored entry, which, being the
// last entry for its role, wins again.
func TestParseAliasAsWholeEntry(t *testing.T) {
	tb, probs := roleTable(t, opsEntry+"- {rolearn: "+opsARN+", username: viewer, groups: [view]}\n- *ops\n", rules.Options{})
	if len(probs) != 0 {
		t.Errorf("problems = %v", probs)
	}
	wantGrant(t, tb, roleSession("ops"), "ops-admin", "system:masters")
}

// bomb puts in entry, for REFS, a list of nine mappings each of which
// merges nine more, levels deep: 9^levels copies of a two-key mapping.
func bomb(levels int, entry string) string {
	m := "&l0 {rolearn: " + opsARN + ", username: u}"
	for i := 1; i < levels; i++ {
		m = fmt.Sprintf("&l%d {<<: [%s%s]}", i, m, strings.Repeat(fmt.Sprintf(", *l%d", i-1), 8))
	}
	return strings.ReplaceAll(entry, "REFS", m+strings.Repeat(fmt.Sprintf(", *l%d", levels-1), 8))
}

// nest returns a mapping merging one merging one ..., depth deep.
func nest(depth int) string {
	m := "{rolearn: " + opsARN + ", username: u}"
	for range depth - 1 {
		m = "{<<: " + m + "}"
	}
	return m
}

// Nested aliases in merge keys ("billion laughs") are expanded within a
// bound; going over it refuses the whole section (fatal, no entries), fast.
func TestParseMergeAliasBomb(t *testing.T) {
	for name, text := range map[string]string{
		"entry":                       bomb(9, "- {<<: [REFS]}\n"),
		"behind an early error":       bomb(9, "- {rolearn: x, rolearn: y, <<: [REFS]}\n"),
		"in an sso block":             bomb(9, "- {sso: {<<: [REFS]}, username: u}\n"),
		"in a skipped entry's sso":    bomb(9, "- {bogus: 1, sso: {<<: [REFS]}, username: u}\n"),
		"many entries, each in bound": strings.Repeat(bomb(4, "- {<<: [REFS]}\n"), 60),
		"merges nested 40 deep":       "- " + nest(40) + "\n",
		"skipped, nested 40 deep":     "- {bogus: 1, <<: " + nest(39) + "}\n",
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			roles, probs := parseRoles(text)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if len(roles) != 0 {
				t.Errorf("%d roles returned, want none", len(roles))
			}
			if len(probs) != 1 || !probs[0].Fatal || probs[0].Origin.Index != -1 ||
				!strings.Contains(probs[0].Error(), "merge keys expand too far") && !strings.Contains(probs[0].Error(), "YAML nodes through aliases") {
				t.Errorf("problems = %v, want one fatal section problem", probs)
			}
		})
	}
	t.Run("mapUsers and mapGroups", func(t *testing.T) {
		text := strings.ReplaceAll(bomb(9, "- {<<: [REFS]}\n"), "rolearn: "+opsARN, "userarn: arn:aws:iam::"+shadowAcct+":user/u")
		if users, probs := parseUsers(text); len(users) != 0 || !mapping.HasFatal(probs) {
			t.Errorf("ParseSectionYAML(mapUsers) = %v, %v; want a fatal problem", users, probs)
		}
		text = strings.ReplaceAll(text, "userarn: arn:aws:iam::"+shadowAcct+":user/u", "grouparn: arn:aws:iam::"+shadowAcct+":group/g")
		if groups, probs := parseGroups(text); len(groups) != 0 || !mapping.HasFatal(probs) {
			t.Errorf("ParseSectionYAML(mapGroups) = %v, %v; want a fatal problem", groups, probs)
		}
	})
}

// A large but ordinary section stays well within the bound, and so does
// one entry of the "many entries" bomb above.
func TestParseMergeManyEntries(t *testing.T) {
	for name, text := range map[string]string{"one small bomb": bomb(4, "- {<<: [REFS]}\n"), "nested 32 deep": "- " + nest(32) + "\n"} {
		if roles, probs := parseRoles(text); len(probs) != 0 || len(roles) != 1 {
			t.Errorf("%s: %d roles, problems %v; want 1, none", name, len(roles), probs)
		}
	}
	var b strings.Builder
	b.WriteString("- &base {rolearn: " + opsARN + ", username: u, groups: [a, b, c], userid: AROABASE}\n")
	for range 5000 {
		b.WriteString("- {<<: *base, username: v}\n")
	}
	roles, probs := parseRoles(b.String())
	if len(probs) != 0 || len(roles) != 5001 {
		t.Errorf("%d roles, problems %v; want 5001, none", len(roles), probs)
	}
}

// An sso block with a null or empty partition names the default partition
// ("aws"), as in AIA (which reads null as ""): it matches like a block
// without one, and when its entry is skipped it shadows earlier entries for
// that permission set.
func TestParseSSONullPartition(t *testing.T) {
	for _, part := range []string{"partition:", "partition: ~", "partition: null", `partition: ""`} {
		block := "  sso:\n    permissionSetName: Admin\n    accountID: \"" + shadowAcct + "\"\n    " + part + "\n"
		t.Run(part+"/matches", func(t *testing.T) {
			tb, probs := roleTable(t, "-"+block[1:]+"  username: admin\n", rules.Options{SSORoleMatch: true})
			if len(probs) != 0 {
				t.Errorf("problems = %v", probs)
			}
			wantUser(t, tb, ssoAdminSession, "admin")
			// roleTable's mapAccounts maps the aws-cn session; the sso
			// entry must not.
			cn := mapping.Identity{ARN: "arn:aws-cn:sts::" + shadowAcct + ":assumed-role/AWSReservedSSO_Admin_0123456789abcdef/s"}
			if res, err := tb.Map(context.Background(), cn); err == nil && res.Username == "admin" {
				t.Errorf("%s: Map = %+v, want the sso entry not to match", cn.ARN, res)
			}
		})
		for name, rest := range map[string]string{
			"unknown key in block": "    region: us-east-1\n  username: viewer\n",
			"bad userid":           "  username: viewer\n  userid: bad!\n",
			"unknown field":        "  username: viewer\n  bogus: 1\n",
		} {
			t.Run(part+"/shadows/"+name, func(t *testing.T) {
				tb, probs := roleTable(t, ssoAdmin+"-"+block[1:]+rest, rules.Options{SSORoleMatch: true})
				if len(probs) != 1 || probs[0].Origin.Index != 1 {
					t.Errorf("problems = %v, want mapRoles[1] skipped", probs)
				}
				wantDeny(t, tb, ssoAdminSession)
			})
		}
	}
}

// The worked example in docs/mappings.md ("Merge keys and aliases").
func TestDocsMergeExample(t *testing.T) {
	tb, probs := roleTable(t, `- &ops
  rolearn: arn:aws:iam::111122223333:role/ops
  username: ops-admin
  groups: [system:masters]
- <<: *ops                     # everything from &ops ...
  groups: [view]               # ... but this group list
- <<: *ops
  rolearn: arn:aws:iam::111122223333:role/ops-ro
  username: ops-ro
  grups: [view]                # typo: skipped, and ops-ro is denied
`, rules.Options{})
	if len(probs) != 1 || probs[0].Error() != `mapRoles[2] (line 10): unknown field "grups"` {
		t.Errorf("problems = %v", probs)
	}
	wantGrant(t, tb, roleSession("ops"), "ops-admin", "view")
	wantDeny(t, tb, roleSession("ops-ro"))
}
