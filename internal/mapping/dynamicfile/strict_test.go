package dynamicfile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

type groupsOf []string

func (g groupsOf) GroupsForUser(context.Context, string) ([]string, error) { return g, nil }

// With dynamicfileUserIDStrict, an entry left out for having no userid is
// still the last entry for what it names: an earlier, pinned entry for the
// same role, pattern, permission set, user or group does not come back into
// force, and neither mapGroups nor mapAccounts decides instead. The
// principal is denied with an error that is not ErrNotMapped, so no later
// backend decides either.
func TestLoadUserIDStrictEntryWithoutUserIDShadows(t *testing.T) {
	const a = "111122223333"
	const group = "arn:aws:iam::" + a + ":group/devs"
	const pinned = `"username": "admin", "groups": ["system:masters"], "userid": "AROAEXAMPLE1111"`
	sso := `"sso": {"permissionSetName": "Admin", "accountID": "` + a + `"}`
	for name, tc := range map[string]struct {
		section string // top-level key
		first   string // an entry with a userid
		second  string // the same principal without one
		id      mapping.Identity
	}{
		"role": {"mapRoles", `"rolearn": "arn:aws:iam::` + a + `:role/ops", ` + pinned,
			`"rolearn": "arn:aws:iam::` + a + `:role/team/OPS", "username": "viewer"`,
			mapping.Identity{ARN: "arn:aws:sts::" + a + ":assumed-role/ops/s", UserID: "AROAEXAMPLE1111:s"}},
		// (The same pattern twice is a load error whatever the userids:
		// TestLoadUserIDStrictSamePatternTwice.) A more specific pattern
		// without userid shadows the broader one for what it matches.
		"role pattern": {"mapRoles", `"rolearn": "arn:aws:iam::` + a + `:role/ci-*", ` + pinned,
			`"rolearn": "arn:aws:iam::` + a + `:role/ci-deploy-*", "username": "viewer"`,
			mapping.Identity{ARN: "arn:aws:sts::" + a + ":assumed-role/ci-deploy-x/s", UserID: "AROAEXAMPLE1111:s"}},
		"sso": {"mapRoles", sso + `, ` + pinned, sso + `, "username": "viewer"`,
			mapping.Identity{ARN: "arn:aws:sts::" + a + ":assumed-role/AWSReservedSSO_Admin_0123456789abcdef/s", UserID: "AROAEXAMPLE1111:s"}},
		"user": {"mapUsers", `"userarn": "arn:aws:iam::` + a + `:user/alice", ` + pinned,
			`"userarn": "arn:aws:iam::` + a + `:user/alice", "username": "viewer"`,
			mapping.Identity{ARN: "arn:aws:iam::" + a + ":user/alice", UserID: "AROAEXAMPLE1111"}},
		"user pattern": {"mapUsers", `"userarn": "arn:aws:iam::` + a + `:user/c/*", ` + pinned,
			`"userarn": "arn:aws:iam::` + a + `:user/c/a*", "username": "viewer"`,
			mapping.Identity{ARN: "arn:aws:iam::" + a + ":user/c/ann", UserID: "AROAEXAMPLE1111"}},
		"group": {"mapGroups", `"grouparn": "` + group + `", ` + pinned,
			`"grouparn": "` + group + `", "username": "viewer"`,
			mapping.Identity{ARN: "arn:aws:iam::" + a + ":user/bob", UserID: "AROAEXAMPLE1111"}},
	} {
		t.Run(name, func(t *testing.T) {
			doc := `{"` + tc.section + `": [{` + tc.first + `}, {` + tc.second + `}], "mapAccounts": ["` + a + `"]}`
			opts := rules.Options{SSORoleMatch: true, Groups: groupsOf{group}}
			// Without the second entry the first maps the principal.
			first := `{"` + tc.section + `": [{` + tc.first + `}]}`
			out, _, err := load(holder(t, opts), "f", []byte(first), true)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := out.Table.Map(context.Background(), tc.id); err != nil || r.Username != "admin" {
				t.Fatalf("first entry alone: Map = %+v, %v; want admin", r, err)
			}
			out, _, err = load(holder(t, opts), "f", []byte(doc), true)
			if err != nil {
				t.Fatal(err)
			}
			tb := out.Table
			if len(out.Skipped) != 1 || !strings.Contains(out.Skipped[0].Error(), "dynamicfileUserIDStrict") {
				t.Errorf("skipped = %v, want the entry without userid", out.Skipped)
			}
			r, err := tb.Map(context.Background(), tc.id)
			if err == nil || errors.Is(err, mapping.ErrNotMapped) {
				t.Errorf("Map = %+v, %v; want a deny: the last entry for it has no userid", r, err)
			}
			// The broader pattern stays for what the skipped one does not
			// match; an exact key is replaced.
			want := 0
			if strings.HasSuffix(name, "pattern") {
				want = 1
			}
			if r, u, _ := tb.Counts(); r+u+tb.GroupCount() != want {
				t.Errorf("entries in effect: %d roles, %d users, %d groups; want %d", r, u, tb.GroupCount(), want)
			}
		})
	}
}

// Two entries with one pattern refuse the file whole without strict mode.
// In strict mode the one without userid is refused first, and rules.Build
// (which now finds overlaps) leaves refused entries out of that check: the
// file loads and the refused entry, last for the pattern, denies it.
func TestLoadUserIDStrictSamePatternTwice(t *testing.T) {
	doc := []byte(`{"mapRoles": [
		{"rolearn": "arn:aws:iam::111122223333:role/ci-*", "username": "admin", "userid": "AROAEXAMPLE1111"},
		{"rolearn": "arn:aws:iam::111122223333:role/ci-*", "username": "viewer"}]}`)
	if _, _, err := load(holder(t, rules.Options{}), "f", doc, false); err == nil || !strings.Contains(err.Error(), "can both match one principal") {
		t.Errorf("load = %v, want the file refused for overlapping patterns", err)
	}
	// Overlaps are found by rules.Build after strict mode refused the second entry, so the file loads and denies.
	out, _, err := load(holder(t, rules.Options{}), "f", doc, true)
	if err != nil || len(out.Skipped) != 1 || !strings.Contains(out.Skipped[0].Error(), "dynamicfileUserIDStrict") {
		t.Fatalf("strict load = %v, skipped %v; want it loaded with the entry without userid skipped", err, out.Skipped)
	}
	id := mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/ci-x/s", UserID: "AROAEXAMPLE1111:s"}
	if r, err := out.Table.Map(context.Background(), id); err == nil || errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("Map = %+v, %v; want a deny: the last entry for the pattern has no userid", r, err)
	}
}

// Without strict mode an entry without userid is an ordinary entry: the last
// one wins and maps.
func TestLoadNotStrictLastEntryWins(t *testing.T) {
	out, c, err := load(holder(t, rules.Options{}), "f", []byte(`{"mapRoles": [
		{"rolearn": "arn:aws:iam::111122223333:role/ops", "username": "admin", "userid": "AROAEXAMPLE1111"},
		{"rolearn": "arn:aws:iam::111122223333:role/ops", "username": "viewer"}]}`), false)
	if err != nil || len(out.Skipped) != 0 {
		t.Fatalf("load: %+v, %v", c, err)
	}
	r, err := out.Table.Map(context.Background(), mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/ops/s", UserID: "AROAEXAMPLE1111:s"})
	if err != nil || r.Username != "viewer" {
		t.Errorf("Map = %+v, %v; want viewer", r, err)
	}
}
