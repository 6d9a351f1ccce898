package conformance

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// runPins checks userid on every entry kind: the STS UserId (before ":")
// must equal it, and a mismatch is as if the entry were absent.
func runPins(t *testing.T, f Factory, caps Capabilities) {
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
		spec   spec
		opts   rules.Options
		id     mapping.Identity
		bad    []string
		wantAs string
	}{
		{"Role", spec{Roles: []mapping.Entry{{Kind: mapping.KindRole, ARN: roleARN(acct, "r"), Username: "r", UserID: roleUID}}},
			rules.Options{}, session(t, "aws", acct, "r", "s"), []string{otherRole, ""}, "r"},
		{"RoleWithPath", spec{Roles: []mapping.Entry{{Kind: mapping.KindRole, ARN: roleARN(acct, "p/q/r"), Username: "r", UserID: roleUID}}},
			rules.Options{}, session(t, "aws", acct, "r", "s"), []string{otherRole}, "r"},
		{"User", spec{Users: []mapping.Entry{{Kind: mapping.KindUser, ARN: userARN(acct, "u"), Username: "u", UserID: userUID}}},
			rules.Options{}, iamUser(t, acct, "u"), []string{otherUser, ""}, "u"},
		{"SSO", spec{Roles: []mapping.Entry{{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "sso", UserID: roleUID}}},
			rules.Options{SSORoleMatch: true}, session(t, "aws", acct, ssoRole("Dev"), "s"), []string{otherRole}, "sso"},
		{"RolePattern", spec{Roles: []mapping.Entry{{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-*"), Username: "ci", UserID: roleUID}}},
			rules.Options{}, session(t, "aws", acct, "ci-a", "s"), []string{otherRole}, "ci"},
		{"UserPattern", spec{Users: []mapping.Entry{{Kind: mapping.KindUser, ARN: userARN(acct, "svc-*"), Username: "svc", UserID: userUID}}},
			rules.Options{}, iamUser(t, acct, "svc-a"), []string{otherUser}, "svc"},
		{"Group", spec{Groups: []mapping.Entry{{Kind: mapping.KindGroup, ARN: groupARN(acct, "devs"), Username: "g", UserID: userUID}}},
			rules.Options{Groups: &fakeGroups{byUser: map[string][]string{userARN(acct, "u"): {groupARN(acct, "devs")}}}},
			iamUser(t, acct, "u"), []string{otherUser}, "g"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if caps.NoSSO && c.name == "SSO" || caps.NoGroups && c.name == "Group" {
				t.Skip("the backend's format cannot state this entry")
			}
			m := build(t, f, c.spec, c.opts)
			want(t, mustMap(t, m, c.id), c.wantAs)
			unique, _, _ := strings.Cut(c.id.UserID, ":")
			for _, uid := range append(c.bad, unique[:len(unique)-1], unique+"0", strings.ToLower(unique)) {
				mustNotMap(t, m, reuid(c.id, uid))
			}
		})
	}
	t.Run("MismatchFallsToNextTier", func(t *testing.T) {
		roles := []mapping.Entry{
			{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-a"), Username: "exact", UserID: otherRole},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-*"), Username: "pattern"},
		}
		m := build(t, f, spec{Roles: roles}, rules.Options{})
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-a", "s")), "pattern")
		// A more specific pattern pinned to another role gives way too.
		roles = []mapping.Entry{
			{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-deploy-*"), Username: "deploy", UserID: otherRole},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "ci-*"), Username: "ci"},
		}
		m = build(t, f, spec{Roles: roles}, rules.Options{})
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-deploy-x", "s")), "ci")
	})
}
