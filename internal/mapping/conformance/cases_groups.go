package conformance

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

func runGroups(t *testing.T, f Factory) {
	newResolver := func() *fakeGroups {
		return &fakeGroups{
			byUser: map[string][]string{
				userARN(acct, "alice"):     {groupARN(acct, "devs")},
				userARN(acct, "bob"):       {groupARN(acct, "ops"), groupARN(acct, "team/devs")}, // path as IAM reports it
				userARN(acct, "carol"):     {groupARN(acct, "nobody")},
				userARN(acct, "mallory"):   {groupARN(other, "devs"), "arn:aws-cn:iam::" + acct + ":group/devs", "not-an-arn"},
				userARN(acct, "ops/dave"):  {groupARN(acct, "ops")},
				userARN(acct, "direct"):    {groupARN(acct, "devs")},
				userARN(acct, "patterned"): {groupARN(acct, "devs")},
			},
			fail: map[string]bool{userARN(acct, "erin"): true},
		}
	}
	groups := []mapping.GroupMapping{
		{GroupARN: groupARN(acct, "devs"), Username: "member", Groups: []string{"devs", "readers"}},
		{GroupARN: groupARN(acct, "ops"), Username: "member", Groups: []string{"readers", "ops"}},
	}

	t.Run("MemberMapped", func(t *testing.T) {
		g := newResolver()
		otherDevs := mapping.GroupMapping{GroupARN: groupARN(other, "devs"), Username: "other-devs"}
		cnDevs := mapping.GroupMapping{GroupARN: "arn:aws-cn:iam::" + acct + ":group/devs", Username: "cn-devs"}
		m := build(t, f, mapping.Spec{Groups: append([]mapping.GroupMapping{otherDevs, cnDevs}, groups...)}, mapping.Options{Groups: g})
		r := mustMap(t, m, iamUser(t, acct, "alice"))
		want(t, r, "member", "devs", "readers")
		if !strings.Contains(r.Source, "mapGroups[") {
			t.Errorf("Source = %q, want the mapGroups entry", r.Source)
		}
		want(t, mustMap(t, m, iamUser(t, acct, "ops/dave")), "member", "readers", "ops")
		mustNotMap(t, m, iamUser(t, acct, "carol"))
		mustNotMap(t, m, iamUser(t, acct, "nobody"))
		// Groups of another account or partition, or garbage, never count.
		mustNotMap(t, m, iamUser(t, acct, "mallory"))
		mustNotMap(t, m, iamUser(t, other, "alice"))
	})
	t.Run("MergedInEntryOrder", func(t *testing.T) {
		// bob is in ops and devs (listed ops first by IAM); entries say devs
		// first, so devs' groups come first, duplicates once.
		m := build(t, f, mapping.Spec{Groups: groups}, mapping.Options{Groups: newResolver()})
		want(t, mustMap(t, m, iamUser(t, acct, "bob")), "member", "devs", "readers", "ops")
	})
	t.Run("DifferentUsernamesDeny", func(t *testing.T) {
		gs := []mapping.GroupMapping{
			{GroupARN: groupARN(acct, "devs"), Username: "dev"},
			{GroupARN: groupARN(acct, "ops"), Username: "op"},
		}
		m := build(t, f, mapping.Spec{Groups: gs, Accounts: []string{acct}}, mapping.Options{Groups: newResolver()})
		mustFail(t, m, iamUser(t, acct, "bob"))
		want(t, mustMap(t, m, iamUser(t, acct, "alice")), "dev")
	})
	t.Run("ResolverErrorNotMapped", func(t *testing.T) {
		m := build(t, f, mapping.Spec{Groups: groups}, mapping.Options{Groups: newResolver()})
		mustNotMap(t, m, iamUser(t, acct, "erin"))
	})
	t.Run("NoResolverNeverMatches", func(t *testing.T) {
		m := build(t, f, mapping.Spec{Groups: groups}, mapping.Options{})
		mustNotMap(t, m, iamUser(t, acct, "alice"))
	})
	t.Run("DirectMappingsWin", func(t *testing.T) {
		g := newResolver()
		users := []mapping.UserMapping{
			{UserARN: userARN(acct, "direct"), Username: "direct"},
			{UserARN: userARN(acct, "patt*"), Username: "pattern"},
		}
		m := build(t, f, mapping.Spec{Users: users, Groups: groups}, mapping.Options{Groups: g})
		want(t, mustMap(t, m, iamUser(t, acct, "direct")), "direct")
		want(t, mustMap(t, m, iamUser(t, acct, "patterned")), "pattern")
		if n := g.callCount(); n != 0 {
			t.Errorf("resolver called %d times for users with direct mappings", n)
		}
	})
	t.Run("OnlyIAMUsers", func(t *testing.T) {
		g := newResolver()
		m := build(t, f, mapping.Spec{Groups: groups}, mapping.Options{Groups: g})
		mustNotMap(t, m, session(t, "aws", acct, "alice", "s"))
		mustNotMap(t, m, ident(t, "arn:aws:iam::"+acct+":root", acct, ""))
		mustNotMap(t, m, ident(t, "arn:aws:sts::"+acct+":federated-user/alice", acct+":alice", ""))
		// No group entry for this account: IAM is not asked.
		mustNotMap(t, m, iamUser(t, other, "alice"))
		if n := g.callCount(); n != 0 {
			t.Errorf("resolver called %d times, want 0", n)
		}
	})
	t.Run("MapAccountsAfterGroups", func(t *testing.T) {
		m := build(t, f, mapping.Spec{Groups: groups, Accounts: []string{acct}}, mapping.Options{Groups: newResolver()})
		want(t, mustMap(t, m, iamUser(t, acct, "alice")), "member", "devs", "readers")
		want(t, mustMap(t, m, iamUser(t, acct, "carol")), userARN(acct, "carol"))
		// IAM unreachable: no group-derived mapping, but the account
		// fallback still applies as if the user were in no group.
		want(t, mustMap(t, m, iamUser(t, acct, "erin")), userARN(acct, "erin"))
	})
	t.Run("BadEntriesRefused", func(t *testing.T) {
		for _, a := range []string{groupARN(acct, "dev*"), groupARN("1234", "devs"), roleARN(acct, "devs"), "arn:aws:iam::" + acct + ":group/", ""} {
			refused(t, f, mapping.Spec{Groups: []mapping.GroupMapping{{GroupARN: a, Username: "member"}}},
				mapping.Options{Groups: newResolver()}, iamUser(t, acct, "alice"))
		}
	})
}
