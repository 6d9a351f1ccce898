package conformance

import (
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// runShadows checks that a later entry for a principal that cannot be used
// denies that principal instead of reviving the earlier, broader entry or
// falling back to mapGroups or mapAccounts. A backend may instead refuse
// the whole spec (a mounted file does, at start-up): that grants nothing
// too.
func runShadows(t *testing.T, f Factory, caps Capabilities) {
	groups := &fakeGroups{byUser: map[string][]string{
		userARN(acct, "bob"):  {groupARN(acct, "admins")},
		userARN(acct, "dave"): {groupARN(acct, "ops")},
	}}
	spec := spec{
		Roles: []mapping.Entry{
			{Kind: mapping.KindRole, ARN: roleARN(acct, "admin"), Username: "admin", Groups: []string{"system:masters"}},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-*"), Username: "ci", Groups: []string{"system:masters"}},
			{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Admin", AccountID: acct}, Username: "sso", Groups: []string{"system:masters"}},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "dev"), Username: "dev"},
			// The later entries: a malformed userid, an empty username.
			{Kind: mapping.KindRole, ARN: roleARN(acct, "Admin"), Username: "admin-readonly", UserID: "not-a-unique-id!"},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-*"), Username: ""},
			{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Admin", AccountID: acct}, Username: ""},
		},
		Users: []mapping.Entry{
			{Kind: mapping.KindUser, ARN: userARN(acct, "alice"), Username: "alice", Groups: []string{"system:masters"}},
			{Kind: mapping.KindUser, ARN: userARN(acct, "alice"), Username: "", Groups: []string{"devs"}},
			{Kind: mapping.KindUser, ARN: userARN(acct, "bob"), Username: "", Groups: []string{"devs"}},
		},
		Groups: []mapping.Entry{
			{Kind: mapping.KindGroup, ARN: groupARN(acct, "admins"), Username: "group-admin", Groups: []string{"system:masters"}},
			{Kind: mapping.KindGroup, ARN: groupARN(acct, "ops"), Username: "ops", Groups: []string{"system:masters"}},
			// The later entry for ops: an empty username.
			{Kind: mapping.KindGroup, ARN: groupARN(acct, "ops"), Username: ""},
		},
		Accounts: []string{acct},
	}
	m, err := f(t, spec.entries(), rules.Options{SSORoleMatch: true, Groups: groups})
	if err != nil {
		t.Logf("backend refused the spec as a whole: %v", err)
		return
	}
	m = traced{m, t}
	mustNotGrant(t, m, session(t, "aws", acct, "admin", "s"))
	mustNotGrant(t, m, session(t, "aws", acct, "ci-deploy", "s"))
	mustNotGrant(t, m, session(t, "aws", acct, ssoRole("Admin"), "s"))
	mustNotGrant(t, m, iamUser(t, acct, "alice"))
	mustNotGrant(t, m, iamUser(t, acct, "bob"))
	mustNotGrant(t, m, iamUser(t, acct, "dave"))
	want(t, mustMap(t, m, session(t, "aws", acct, "dev", "s")), "dev")
	if !caps.NoAccounts {
		want(t, mustMap(t, m, iamUser(t, acct, "carol")), userARN(acct, "carol"))
	}
}
