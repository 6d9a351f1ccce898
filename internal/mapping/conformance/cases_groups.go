package conformance

import (
	"errors"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func runGroups(t *testing.T, f Factory, caps Capabilities) {
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
	groups := []mapping.Entry{
		{Kind: mapping.KindGroup, ARN: groupARN(acct, "devs"), Username: "member", Groups: []string{"devs", "readers"}},
		{Kind: mapping.KindGroup, ARN: groupARN(acct, "ops"), Username: "member", Groups: []string{"readers", "ops"}},
	}

	t.Run("MemberMapped", func(t *testing.T) {
		g := newResolver()
		otherDevs := mapping.Entry{Kind: mapping.KindGroup, ARN: groupARN(other, "devs"), Username: "other-devs"}
		cnDevs := mapping.Entry{Kind: mapping.KindGroup, ARN: "arn:aws-cn:iam::" + acct + ":group/devs", Username: "cn-devs"}
		m := build(t, f, spec{Groups: append([]mapping.Entry{otherDevs, cnDevs}, groups...)}, rules.Options{Groups: g})
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
		m := build(t, f, spec{Groups: groups}, rules.Options{Groups: newResolver()})
		want(t, mustMap(t, m, iamUser(t, acct, "bob")), "member", "devs", "readers", "ops")
	})
	t.Run("DifferentUsernamesDeny", func(t *testing.T) {
		gs := []mapping.Entry{
			{Kind: mapping.KindGroup, ARN: groupARN(acct, "devs"), Username: "dev"},
			{Kind: mapping.KindGroup, ARN: groupARN(acct, "ops"), Username: "op"},
		}
		m := build(t, f, spec{Groups: gs, Accounts: []string{acct}}, rules.Options{Groups: newResolver()})
		mustFail(t, m, iamUser(t, acct, "bob"))
		want(t, mustMap(t, m, iamUser(t, acct, "alice")), "dev")
	})
	t.Run("ResolverErrorDenies", func(t *testing.T) {
		m := build(t, f, spec{Groups: groups}, rules.Options{Groups: newResolver()})
		mustFail(t, m, iamUser(t, acct, "erin"))
	})
	t.Run("NoResolverNeverMatches", func(t *testing.T) {
		m := build(t, f, spec{Groups: groups}, rules.Options{})
		mustNotMap(t, m, iamUser(t, acct, "alice"))
	})
	t.Run("DirectMappingsWin", func(t *testing.T) {
		g := newResolver()
		users := []mapping.Entry{
			{Kind: mapping.KindUser, ARN: userARN(acct, "direct"), Username: "direct"},
			{Kind: mapping.KindUser, ARN: userARN(acct, "patt*"), Username: "pattern"},
		}
		m := build(t, f, spec{Users: users, Groups: groups}, rules.Options{Groups: g})
		want(t, mustMap(t, m, iamUser(t, acct, "direct")), "direct")
		want(t, mustMap(t, m, iamUser(t, acct, "patterned")), "pattern")
		if n := g.callCount(); n != 0 {
			t.Errorf("resolver called %d times for users with direct mappings", n)
		}
	})
	t.Run("OnlyIAMUsers", func(t *testing.T) {
		g := newResolver()
		m := build(t, f, spec{Groups: groups}, rules.Options{Groups: g})
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
		if caps.NoAccounts {
			t.Skip("the backend's format has no mapAccounts")
		}
		m := build(t, f, spec{Groups: groups, Accounts: []string{acct}}, rules.Options{Groups: newResolver()})
		want(t, mustMap(t, m, iamUser(t, acct, "alice")), "member", "devs", "readers")
		want(t, mustMap(t, m, iamUser(t, acct, "carol")), userARN(acct, "carol"))
		// IAM unreachable: a group entry might have applied, so the
		// account fallback must not decide instead (GroupLookupFailureDenies).
		mustFail(t, m, iamUser(t, acct, "erin"))
	})
	t.Run("BadEntriesRefused", func(t *testing.T) {
		for _, a := range []string{groupARN(acct, "dev*"), groupARN("1234", "devs"), roleARN(acct, "devs"), "arn:aws:iam::" + acct + ":group/", ""} {
			refused(t, f, spec{Groups: []mapping.Entry{{Kind: mapping.KindGroup, ARN: a, Username: "member"}}},
				rules.Options{Groups: newResolver()}, iamUser(t, acct, "alice"))
		}
	})
}

// runGroupLookupFailure checks that when IAM cannot say which groups a user
// is in and mapGroups entries for the user's account exist, the review is
// denied: not left to mapAccounts (a later backend is the chain's part,
// tested in package mapping), and says why.
func runGroupLookupFailure(t *testing.T, f Factory, caps Capabilities) {
	g := &fakeGroups{fail: map[string]bool{userARN(acct, "erin"): true}}
	m := build(t, f, spec{
		Groups:   []mapping.Entry{{Kind: mapping.KindGroup, ARN: groupARN(acct, "admins"), Username: "admin", Groups: []string{"system:masters"}}},
		Accounts: []string{acct, other},
	}, rules.Options{Groups: g})
	_, err := m.Map(t.Context(), iamUser(t, acct, "erin"))
	if !errors.Is(err, mapping.ErrGroupLookup) {
		t.Errorf("Map with IAM failing = %v, want mapping.ErrGroupLookup", err)
	}
	if caps.NoAccounts {
		return
	}
	// No group entry for the other account: IAM is not asked, the account
	// entry applies.
	want(t, mustMap(t, m, iamUser(t, other, "erin")), userARN(other, "erin"))
}
