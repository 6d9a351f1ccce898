package conformance

import (
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// runShadows checks that a later entry for a principal that cannot be used
// denies that principal instead of reviving the earlier, broader entry or
// falling back to mapGroups or mapAccounts. A backend may instead refuse
// the whole spec (a mounted file does, at start-up): that grants nothing
// too.
func runShadows(t *testing.T, f Factory) {
	groups := &fakeGroups{byUser: map[string][]string{userARN(acct, "bob"): {groupARN(acct, "admins")}}}
	spec := mapping.Spec{
		Roles: []mapping.RoleMapping{
			{RoleARN: roleARN(acct, "admin"), Username: "admin", Groups: []string{"system:masters"}},
			{RoleARN: roleARN(acct, "ci-*"), Username: "ci", Groups: []string{"system:masters"}},
			{SSO: &mapping.SSOMapping{PermissionSetName: "Admin", AccountID: acct}, Username: "sso", Groups: []string{"system:masters"}},
			{RoleARN: roleARN(acct, "dev"), Username: "dev"},
			// The later entries: a malformed userid, an empty username.
			{RoleARN: roleARN(acct, "Admin"), Username: "admin-readonly", UserID: "not-a-unique-id!"},
			{RoleARN: roleARN(acct, "ci-*"), Username: ""},
			{SSO: &mapping.SSOMapping{PermissionSetName: "Admin", AccountID: acct}, Username: ""},
		},
		Users: []mapping.UserMapping{
			{UserARN: userARN(acct, "alice"), Username: "alice", Groups: []string{"system:masters"}},
			{UserARN: userARN(acct, "alice"), Username: "", Groups: []string{"devs"}},
			{UserARN: userARN(acct, "bob"), Username: "", Groups: []string{"devs"}},
		},
		Groups: []mapping.GroupMapping{
			{GroupARN: groupARN(acct, "admins"), Username: "group-admin", Groups: []string{"system:masters"}},
		},
		Accounts: []string{acct},
	}
	m, err := f(t, spec, mapping.Options{SSORoleMatch: true, Groups: groups})
	if err != nil {
		t.Logf("backend refused the spec as a whole: %v", err)
		return
	}
	mustNotGrant(t, m, session(t, "aws", acct, "admin", "s"))
	mustNotGrant(t, m, session(t, "aws", acct, "ci-deploy", "s"))
	mustNotGrant(t, m, session(t, "aws", acct, ssoRole("Admin"), "s"))
	mustNotGrant(t, m, iamUser(t, acct, "alice"))
	mustNotGrant(t, m, iamUser(t, acct, "bob"))
	want(t, mustMap(t, m, session(t, "aws", acct, "dev", "s")), "dev")
	want(t, mustMap(t, m, iamUser(t, acct, "carol")), userARN(acct, "carol"))
}
