package conformance

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func runSSO(t *testing.T, f Factory) {
	on := rules.Options{SSORoleMatch: true}
	dev := mapping.Entry{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "dev:{{SessionName}}", Groups: []string{"devs"}}

	t.Run("ExactPermissionSet", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{dev}}, on)
		r := mustMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "alice"))
		want(t, r, "dev:alice", "devs")
		if !strings.Contains(r.Source, "mapRoles[") {
			t.Errorf("Source = %q, want the mapRoles entry", r.Source)
		}
		want(t, mustMap(t, m, session(t, "aws", acct, "awsreservedsso_dev_0123456789ABCDEF", "alice")), "dev:alice", "devs")
		// Near misses: aws-iam-authenticator matched Dev_admin for Dev.
		for _, role := range []string{
			ssoRole("Dev_admin"), ssoRole("Devs"), ssoRole("De"), ssoRole("xDev"),
			"AWSReservedSSO_Dev_0123456789abcde", "AWSReservedSSO_Dev_0123456789abcdeg",
			"AWSReservedSSO_Dev_0123456789abcdef0", "AWSReservedSSO_Dev0123456789abcdef",
			"AWSReservedSSOx_Dev_0123456789abcdef", "Dev", "AWSReservedSSO__0123456789abcdef",
		} {
			mustNotMap(t, m, session(t, "aws", acct, role, "alice"))
		}
		mustNotMap(t, m, session(t, "aws", other, ssoRole("Dev"), "alice"))
		mustNotMap(t, m, session(t, "aws-cn", acct, ssoRole("Dev"), "alice"))
		mustNotMap(t, m, iamUser(t, acct, ssoRole("Dev")))
	})
	t.Run("UnderscoreInPermissionSet", func(t *testing.T) {
		da := mapping.Entry{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev_admin", AccountID: acct}, Username: "dev-admin"}
		m := build(t, f, spec{Roles: []mapping.Entry{da}}, on)
		want(t, mustMap(t, m, session(t, "aws", acct, ssoRole("Dev_admin"), "s")), "dev-admin")
		mustNotMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "s"))
	})
	t.Run("ExplicitPartition", func(t *testing.T) {
		// aws-iam-authenticator stopped matching when partition was given.
		aws := dev
		aws.SSO = &mapping.SSO{PermissionSetName: "Dev", AccountID: acct, Partition: "aws"}
		cn := mapping.Entry{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Ops", AccountID: acct, Partition: "aws-cn"}, Username: "ops"}
		m := build(t, f, spec{Roles: []mapping.Entry{aws, cn}}, on)
		want(t, mustMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "bob")), "dev:bob", "devs")
		mustNotMap(t, m, session(t, "aws-us-gov", acct, ssoRole("Dev"), "bob"))
		want(t, mustMap(t, m, session(t, "aws-cn", acct, ssoRole("Ops"), "bob")), "ops")
		mustNotMap(t, m, session(t, "aws", acct, ssoRole("Ops"), "bob"))
	})
	t.Run("RolePath", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{dev}}, on)
		for _, path := range []string{"", "aws-reserved/sso.amazonaws.com/", "aws-reserved/sso.amazonaws.com/eu-west-1/"} {
			a := "arn:aws:iam::" + acct + ":role/" + path + ssoRole("Dev")
			want(t, mustMap(t, m, ident(t, a, roleUID, "")), "dev:", "devs")
		}
		mustNotMap(t, m, ident(t, "arn:aws:iam::"+acct+":role/other/"+ssoRole("Dev"), roleUID, ""))
	})
	t.Run("GateOffNeverMatches", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{dev}}, rules.Options{})
		mustNotMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "alice"))
	})
	t.Run("ExactARNBeatsSSO", func(t *testing.T) {
		exact := mapping.Entry{Kind: mapping.KindRole, ARN: roleARN(acct, ssoRole("Dev")), Username: "exact"}
		m := build(t, f, spec{Roles: []mapping.Entry{exact, dev}}, on)
		want(t, mustMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "s")), "exact")
		m = build(t, f, spec{Roles: []mapping.Entry{dev, exact}}, on)
		want(t, mustMap(t, m, session(t, "aws", acct, ssoRole("Dev"), "s")), "exact")
	})
	t.Run("BadEntriesRefused", func(t *testing.T) {
		probe := session(t, "aws", acct, ssoRole("Dev"), "s")
		for name, s := range map[string]*mapping.SSO{
			"no name":        {AccountID: acct},
			"bad account":    {PermissionSetName: "Dev", AccountID: "1234"},
			"no account":     {PermissionSetName: "Dev"},
			"bad partition":  {PermissionSetName: "Dev", AccountID: acct, Partition: "aws-moon"},
			"wildcard name":  {PermissionSetName: "D*", AccountID: acct},
			"bad characters": {PermissionSetName: "Dev/x", AccountID: acct},
		} {
			t.Run(name, func(t *testing.T) {
				refused(t, f, spec{Roles: []mapping.Entry{{Kind: mapping.KindSSO, SSO: s, Username: "dev"}}}, on, probe)
			})
		}
		t.Run("sso and rolearn", func(t *testing.T) {
			both := dev
			both.ARN = roleARN(acct, "x")
			refused(t, f, spec{Roles: []mapping.Entry{both}}, on, probe, session(t, "aws", acct, "x", "s"))
		})
	})
}
