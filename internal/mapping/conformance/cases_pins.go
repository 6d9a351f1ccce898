package conformance

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// runPins checks userid on every entry kind: the STS UserId (before ":")
// must equal it, and a mismatch is as if the entry were absent.
func runPins(t *testing.T, f Factory) {
	const otherRole, otherUser = "AROAEXAMPLEROLE2222", "AIDAEXAMPLEUSER2222"
	reuid := func(id mapping.Identity, uid string) mapping.Identity {
		if _, sess, ok := strings.Cut(id.UserID, ":"); ok {
			uid += ":" + sess
		}
		id.UserID = uid
		return id
	}
	cases := []struct {
		name   string
		spec   mapping.Spec
		opts   mapping.Options
		id     mapping.Identity
		bad    []string
		wantAs string
	}{
		{"Role", mapping.Spec{Roles: []mapping.RoleMapping{{RoleARN: roleARN(acct, "r"), Username: "r", UserID: roleUID}}},
			mapping.Options{}, session(t, "aws", acct, "r", "s"), []string{otherRole, ""}, "r"},
		{"RoleWithPath", mapping.Spec{Roles: []mapping.RoleMapping{{RoleARN: roleARN(acct, "p/q/r"), Username: "r", UserID: roleUID}}},
			mapping.Options{}, session(t, "aws", acct, "r", "s"), []string{otherRole}, "r"},
		{"User", mapping.Spec{Users: []mapping.UserMapping{{UserARN: userARN(acct, "u"), Username: "u", UserID: userUID}}},
			mapping.Options{}, iamUser(t, acct, "u"), []string{otherUser, ""}, "u"},
		{"SSO", mapping.Spec{Roles: []mapping.RoleMapping{{SSO: &mapping.SSOMapping{PermissionSetName: "Dev", AccountID: acct}, Username: "sso", UserID: roleUID}}},
			mapping.Options{SSORoleMatch: true}, session(t, "aws", acct, ssoRole("Dev"), "s"), []string{otherRole}, "sso"},
		{"RolePattern", mapping.Spec{Roles: []mapping.RoleMapping{{RoleARN: roleARN(acct, "ci-*"), Username: "ci", UserID: roleUID}}},
			mapping.Options{}, session(t, "aws", acct, "ci-a", "s"), []string{otherRole}, "ci"},
		{"UserPattern", mapping.Spec{Users: []mapping.UserMapping{{UserARN: userARN(acct, "svc-*"), Username: "svc", UserID: userUID}}},
			mapping.Options{}, iamUser(t, acct, "svc-a"), []string{otherUser}, "svc"},
		{"Group", mapping.Spec{Groups: []mapping.GroupMapping{{GroupARN: groupARN(acct, "devs"), Username: "g", UserID: userUID}}},
			mapping.Options{Groups: &fakeGroups{byUser: map[string][]string{userARN(acct, "u"): {groupARN(acct, "devs")}}}},
			iamUser(t, acct, "u"), []string{otherUser}, "g"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := build(t, f, c.spec, c.opts)
			want(t, mustMap(t, m, c.id), c.wantAs)
			unique, _, _ := strings.Cut(c.id.UserID, ":")
			for _, uid := range append(c.bad, unique[:len(unique)-1], unique+"0", strings.ToLower(unique)) {
				mustNotMap(t, m, reuid(c.id, uid))
			}
		})
	}
	t.Run("MismatchFallsToNextTier", func(t *testing.T) {
		roles := []mapping.RoleMapping{
			{RoleARN: roleARN(acct, "ci-a"), Username: "exact", UserID: otherRole},
			{RoleARN: roleARN(acct, "ci-*"), Username: "pattern"},
		}
		m := build(t, f, mapping.Spec{Roles: roles}, mapping.Options{})
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-a", "s")), "pattern")
		// A more specific pattern pinned to another role gives way too.
		roles = []mapping.RoleMapping{
			{RoleARN: roleARN(acct, "ci-deploy-*"), Username: "deploy", UserID: otherRole},
			{RoleARN: roleARN(acct, "ci-*"), Username: "ci"},
		}
		m = build(t, f, mapping.Spec{Roles: roles}, mapping.Options{})
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-deploy-x", "s")), "ci")
	})
}
