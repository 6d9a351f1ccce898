package conformance

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func runPatterns(t *testing.T, f Factory, caps Capabilities) {
	none := rules.Options{}
	rp := func(pat, username string) mapping.Entry {
		return mapping.Entry{Kind: mapping.KindRole, ARN: roleARN(acct, pat), Username: username}
	}

	t.Run("RolePattern", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{rp("ci-*", "ci")}}, none)
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-deploy", "s")), "ci")
		want(t, mustMap(t, m, session(t, "aws", acct, "CI-Deploy", "s")), "ci")
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-", "s")), "ci")
		for _, near := range []string{"ci", "cix", "xci-a", "c-i-a"} {
			mustNotMap(t, m, session(t, "aws", acct, near, "s"))
		}
		mustNotMap(t, m, session(t, "aws", other, "ci-deploy", "s"))
		mustNotMap(t, m, session(t, "aws-cn", acct, "ci-deploy", "s"))
		mustNotMap(t, m, iamUser(t, acct, "ci-deploy"))
	})
	t.Run("StarAnywhereInName", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{rp("*-admin", "a"), rp("team-*-ro", "ro")}}, none)
		want(t, mustMap(t, m, session(t, "aws", acct, "x-admin", "s")), "a")
		want(t, mustMap(t, m, session(t, "aws", acct, "team-a-ro", "s")), "ro")
		mustNotMap(t, m, session(t, "aws", acct, "x-admins", "s"))
		mustNotMap(t, m, session(t, "aws", acct, "team-a-rw", "s"))
	})
	t.Run("NeverSeesSessionName", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{rp("admin*", "admin")}}, none)
		mustNotMap(t, m, session(t, "aws", acct, "dev", "admin"))
		mustNotMap(t, m, session(t, "aws", acct, "dev", "admin-x"))
		want(t, mustMap(t, m, session(t, "aws", acct, "admin2", "dev")), "admin")
	})
	t.Run("LongestLiteralPrefixWins", func(t *testing.T) {
		for _, order := range [][]mapping.Entry{
			{rp("ci-*", "ci"), rp("ci-deploy-*", "deploy"), rp("*", "any")},
			{rp("*", "any"), rp("ci-deploy-*", "deploy"), rp("ci-*", "ci")},
		} {
			m := build(t, f, spec{Roles: order}, none)
			want(t, mustMap(t, m, session(t, "aws", acct, "ci-deploy-prod", "s")), "deploy")
			want(t, mustMap(t, m, session(t, "aws", acct, "ci-test", "s")), "ci")
			want(t, mustMap(t, m, session(t, "aws", acct, "web", "s")), "any")
		}
	})
	t.Run("Precedence", func(t *testing.T) {
		roles := []mapping.Entry{
			rp("*", "pattern"),
			{Kind: mapping.KindRole, ARN: roleARN(acct, "admin"), Username: "exact"},
			{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "sso"},
		}
		m := build(t, f, spec{Roles: roles, Accounts: []string{acct}}, rules.Options{SSORoleMatch: true})
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "exact")
		if !caps.NoSSO {
			want(t, mustMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "s")), "sso")
		}
		want(t, mustMap(t, m, session(t, "aws", acct, "other", "s")), "pattern")
		if !caps.NoAccounts {
			// mapAccounts comes last.
			want(t, mustMap(t, m, iamUser(t, acct, "carol")), userARN(acct, "carol"))
		}
	})
	t.Run("UserPattern", func(t *testing.T) {
		users := []mapping.Entry{
			{Kind: mapping.KindUser, ARN: userARN(acct, "team/*"), Username: "team"},
			{Kind: mapping.KindUser, ARN: userARN(acct, "svc-*"), Username: "svc"},
		}
		m := build(t, f, spec{Users: users}, none)
		want(t, mustMap(t, m, iamUser(t, acct, "team/bob")), "team")
		want(t, mustMap(t, m, iamUser(t, acct, "svc-a")), "svc")
		mustNotMap(t, m, iamUser(t, acct, "team/sub/bob")) // "*" never matches "/"
		mustNotMap(t, m, iamUser(t, acct, "bob"))
		mustNotMap(t, m, iamUser(t, acct, "team"))
		mustNotMap(t, m, iamUser(t, acct, "x/svc-a"))
		mustNotMap(t, m, iamUser(t, other, "svc-a"))
		mustNotMap(t, m, session(t, "aws", acct, "svc-a", "s"))
		mustNotMap(t, m, ident(t, "arn:aws:iam::"+acct+":root", acct, ""))
		mustNotMap(t, m, ident(t, "arn:aws:sts::"+acct+":federated-user/svc-a", acct+":svc-a", ""))
	})
	t.Run("EqualRankNoOverlapLoads", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{rp("ci-*-a", "a"), rp("ci-*-b", "b")}}, none)
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-x-a", "s")), "a")
		want(t, mustMap(t, m, session(t, "aws", acct, "ci-x-b", "s")), "b")
	})
	t.Run("EqualRankOverlapRefused", func(t *testing.T) {
		for _, pair := range [][2]string{{"ci-*", "ci-*-prod"}, {"ci-*", "CI-*"}, {"ci-*x", "ci-*"}, {"*", "*-admin"}} {
			probe := session(t, "aws", acct, strings.ReplaceAll(pair[1], "*", "q")+"x", "s")
			probe2 := session(t, "aws", acct, strings.ReplaceAll(pair[1], "*", "q"), "s")
			refused(t, f, spec{Roles: []mapping.Entry{rp(pair[0], "first"), rp(pair[1], "second")}}, none, probe, probe2)
		}
		refused(t, f, spec{Users: []mapping.Entry{
			{Kind: mapping.KindUser, ARN: userARN(acct, "a*"), Username: "one"}, {Kind: mapping.KindUser, ARN: userARN(acct, "a*"), Username: "two"},
		}}, none, iamUser(t, acct, "ab"))
	})
	t.Run("UnsafePatternsRefused", func(t *testing.T) {
		probe := session(t, "aws", acct, "dev", "s")
		for _, a := range []string{
			"arn:aws:iam::*:role/dev", "arn:aws:iam::11112222333*:role/dev", "arn:*:iam::" + acct + ":role/dev",
			"arn:aws:*::" + acct + ":role/dev", "arn:aws:iam:*:" + acct + ":role/dev", "arn:aws:iam::" + acct + ":*",
			"arn:aws:iam::" + acct + ":*/dev", "arn:aws:iam::" + acct + ":role/teams/*", "arn:aws:iam::" + acct + ":role/*/dev",
			"arn:aws:iam::" + acct + ":role/d*v*", "arn:aws:sts::" + acct + ":assumed-role/dev/*",
			"arn:aws:sts::" + acct + ":assumed-role/d*/s", "arn:aws:iam::" + acct + ":user/d*",
		} {
			t.Run(a, func(t *testing.T) {
				refused(t, f, spec{Roles: []mapping.Entry{{Kind: mapping.KindRole, ARN: a, Username: "dev"}}}, none, probe)
			})
		}
		for _, a := range []string{"arn:aws:iam::*:user/dev", "arn:aws:iam::" + acct + ":user/*/dev", "arn:aws:iam::" + acct + ":role/d*"} {
			refused(t, f, spec{Users: []mapping.Entry{{Kind: mapping.KindUser, ARN: a, Username: "dev"}}}, none,
				iamUser(t, acct, "dev"), iamUser(t, acct, "x/dev"))
		}
	})
}
