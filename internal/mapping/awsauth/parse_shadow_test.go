package awsauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Entries the parsers skip (bad userid, empty group, unknown field, missing
// username...) must shadow earlier entries for the same ARN like entries the
// Table refuses (TestSkippedLaterEntryDoesNotReviveEarlierOne): the last
// entry for an ARN wins, and when it is unusable the principal is denied.

const shadowAcct = "111122223333"

// wantDeny fails unless Map denies id with a mapping error (not ErrNotMapped,
// which would let a later backend decide).
func wantDeny(t *testing.T, tb *rules.Table, id mapping.Identity) {
	t.Helper()
	res, err := tb.Map(context.Background(), id)
	switch {
	case err == nil:
		t.Errorf("%s: Map = %+v, want a deny: the last entry for it was skipped", id.ARN, res)
	case errors.Is(err, mapping.ErrNotMapped):
		t.Errorf("%s: err = %v, want a deny, not ErrNotMapped", id.ARN, err)
	}
}

func wantSkipped(t *testing.T, probs []mapping.Problem, section string, index, line int) {
	t.Helper()
	for _, p := range probs {
		if p.Origin.Section == section && p.Origin.Index == index {
			if p.Origin.Line != line {
				t.Errorf("problem %v: line %d, want %d", p, p.Origin.Line, line)
			}
			return
		}
	}
	t.Errorf("problems %v: want %s[%d] reported", probs, section, index)
}

func TestParseRolesSkippedLaterEntryShadowsEarlierOne(t *testing.T) {
	const first = "- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: ops-admin\n  groups: [system:masters]\n"
	for name, tc := range map[string]struct {
		second string
		line   int // line of the problem
	}{
		"bad userid":       {"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: x\n  groups: [viewers]\n  userid: not-valid!\n", 7},
		"empty group":      {"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: x\n  groups: [\"\"]\n", 6},
		"unknown field":    {"- usernme: x\n  rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: x\n", 4},
		"missing username": {"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  groups: [viewers]\n", 4},
		"mistyped groups":  {"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: x\n  groups: viewers\n", 6},
		"path and case":    {"- rolearn: arn:aws:iam::" + shadowAcct + ":role/team/OPS\n  username: x\n  userid: \"\"\n", 6},
		"assumed-role arn": {"- rolearn: arn:aws:sts::" + shadowAcct + ":assumed-role/ops/s\n  username: x\n  bogus: 1\n", 6},
	} {
		t.Run(name, func(t *testing.T) {
			roles, probs := parseRoles(first + tc.second)
			wantSkipped(t, probs, mapping.SectionRoles, 1, tc.line)
			if len(probs) != 1 {
				t.Errorf("problems = %v, want exactly one", probs)
			}
			tb, bp := build(t, rules.Options{}, roles, accounts(shadowAcct))
			if len(bp) != 0 {
				t.Errorf("Build: %v (the parser already reported the skipped entry)", joined(bp))
			}
			wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:sts::" + shadowAcct + ":assumed-role/ops/s", UserID: "AROAX:s"})
			if r, _, _ := tb.Counts(); r != 0 {
				t.Errorf("roles in effect = %d, want 0", r)
			}
		})
	}
}

func TestParseRolesSkippedSSOEntryShadowsEarlierOne(t *testing.T) {
	const sso = "  sso: {permissionSetName: Admin, accountID: \"" + shadowAcct + "\"}\n"
	roles, probs := parseRoles(
		"-" + sso[1:] + "  username: admin\n  groups: [system:masters]\n" +
			"-" + sso[1:] + "  username: viewer\n  groups: [viewers]\n  userid: bad!\n")
	wantSkipped(t, probs, mapping.SectionRoles, 1, 7)
	tb, _ := build(t, rules.Options{SSORoleMatch: true}, roles)
	wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:sts::" + shadowAcct + ":assumed-role/AWSReservedSSO_Admin_0123456789abcdef/s"})
}

func TestParseUsersSkippedLaterEntryShadowsEarlierOne(t *testing.T) {
	users, probs := parseUsers(
		"- userarn: arn:aws:iam::" + shadowAcct + ":user/alice\n  username: alice\n  groups: [system:masters]\n" +
			"- userarn: arn:aws:iam::" + shadowAcct + ":user/alice\n  username: alice\n  groups: [viewers, \"\"]\n")
	wantSkipped(t, probs, mapping.SectionUsers, 1, 6)
	tb, bp := build(t, rules.Options{}, users, accounts(shadowAcct))
	if len(bp) != 0 {
		t.Errorf("Build: %v", joined(bp))
	}
	wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/alice", UserID: "AIDAX"})
}

type fixedGroups []string

func (g fixedGroups) GroupsForUser(context.Context, string) ([]string, error) { return g, nil }

func TestParseGroupsSkippedLaterEntryShadowsEarlierOne(t *testing.T) {
	const g = "arn:aws:iam::" + shadowAcct + ":group/devs"
	groups, probs := parseGroups(
		"- grouparn: " + g + "\n  username: dev\n  groups: [system:masters]\n" +
			"- grouparn: " + g + "\n  username: dev\n  groups: [viewers]\n  userid: AIDA-X\n")
	wantSkipped(t, probs, mapping.SectionGroups, 1, 7)
	tb, bp := build(t, rules.Options{Groups: fixedGroups{g}}, groups, accounts(shadowAcct))
	if len(bp) != 0 {
		t.Errorf("Build: %v", joined(bp))
	}
	wantDeny(t, tb, mapping.Identity{ARN: "arn:aws:iam::" + shadowAcct + ":user/bob", UserID: "AIDAX"})
	if n := tb.GroupCount(); n != 0 {
		t.Errorf("GroupCount = %d, want 0", n)
	}
}

// An entry whose ARN cannot be read names no principal, so it shadows
// nothing: it is only skipped and reported.
func TestParseSkippedEntryWithUnparseableARNShadowsNothing(t *testing.T) {
	roles, probs := parseRoles(
		"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: ops\n" +
			"- rolearn: arn:aws:iam::12:role/ops\n  username: x\n  userid: bad!\n" +
			"- rolearn: [arn:aws:iam::" + shadowAcct + ":role/ops]\n  username: x\n")
	if len(probs) != 2 {
		t.Errorf("problems = %v, want 2", probs)
	}
	tb, bp := build(t, rules.Options{}, roles)
	if len(bp) != 0 {
		t.Fatal(joined(bp))
	}
	res, err := tb.Map(context.Background(), mapping.Identity{ARN: "arn:aws:sts::" + shadowAcct + ":assumed-role/ops/s"})
	if err != nil || res.Username != "ops" {
		t.Errorf("Map = %+v, %v; want ops", res, err)
	}
}

// A later valid entry still replaces a skipped one, and a skipped entry does
// not touch other ARNs.
func TestParseSkippedEntryOnlyShadowsEarlierEntries(t *testing.T) {
	roles, probs := parseRoles(
		"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: x\n  userid: bad!\n" +
			"- rolearn: arn:aws:iam::" + shadowAcct + ":role/ops\n  username: ops\n" +
			"- rolearn: arn:aws:iam::" + shadowAcct + ":role/dev\n  username: dev\n")
	if len(probs) != 1 {
		t.Errorf("problems = %v, want 1", probs)
	}
	tb, bp := build(t, rules.Options{}, roles)
	if len(bp) != 0 {
		t.Fatal(joined(bp))
	}
	for role, want := range map[string]string{"ops": "ops", "dev": "dev"} {
		res, err := tb.Map(context.Background(), mapping.Identity{ARN: "arn:aws:sts::" + shadowAcct + ":assumed-role/" + role + "/s"})
		if err != nil || res.Username != want {
			t.Errorf("%s: Map = %+v, %v; want %s", role, res, err, want)
		}
	}
	if r, _, _ := tb.Counts(); r != 2 {
		t.Errorf("roles = %d, want 2", r)
	}
	for _, m := range roles {
		if m.Refused != nil && (m.Username != "" || m.Groups != nil || m.UserID != "") {
			t.Errorf("refused entry %+v carries more than its ARN", m)
		}
		if _, err := rules.Check(m, rules.Options{}); m.Refused != nil && err == nil {
			t.Errorf("refused entry %+v passes Check", m)
		}
	}
}
