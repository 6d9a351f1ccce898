package conformance

import (
	"errors"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

const (
	instance17 = "i-0123456789abcdef0"
	instance8  = "i-0123abcd"
)

func runEC2(t *testing.T, f Factory) {
	node := mapping.Entry{Kind: mapping.KindRole, ARN: roleARN(acct, "node"), Username: "system:node:{{EC2PrivateDNSName}}",
		Groups: []string{"system:bootstrappers", "system:nodes"}}
	newEC2 := func() *fakeEC2 {
		return &fakeEC2{names: map[string]string{
			acct + "/" + instance17:             "ip-10-0-0-1.ec2.internal",
			acct + "/" + instance8:              "ip-10-0-0-2.ec2.internal",
			acct + "/i-0123456789abcdef1":       "Not A DNS Name",
			acct + "/i-0123456789abcdef2":       "x.ec2.internal:system:masters",
			other + "/" + "i-0123456789abcdef3": "ip-10-0-0-3.ec2.internal",
		}}
	}
	spec := spec{Roles: []mapping.Entry{node}, Accounts: []string{acct}}

	t.Run("Resolved", func(t *testing.T) {
		m := build(t, f, spec, rules.Options{EC2: newEC2()})
		want(t, mustMap(t, m, session(t, "aws", acct, "node", instance17)), "system:node:ip-10-0-0-1.ec2.internal", "system:bootstrappers", "system:nodes")
		want(t, mustMap(t, m, session(t, "aws", acct, "node", instance8)), "system:node:ip-10-0-0-2.ec2.internal", "system:bootstrappers", "system:nodes")
	})
	t.Run("FailuresDeny", func(t *testing.T) {
		e := newEC2()
		m := build(t, f, spec, rules.Options{EC2: e})
		// Not even the mapAccounts fallback: the entry matched and failed.
		for _, sess := range []string{
			"i-0123456789abcdef9",                        // lookup fails
			"i-0123456789abcdef1", "i-0123456789abcdef2", // unusable answers
			"i-0123456789abcdef3", // known, but in another account
		} {
			mustFail(t, m, session(t, "aws", acct, "node", sess))
		}
		before := e.callCount()
		// Not named like an instance: never looked up.
		for _, sess := range []string{"i-0123456789abcdef", "I-0123456789ABCDEF0", "i-0123456789abcdeg0", "i-0123abc", "node", "x-0123456789abcdef0"} {
			mustFail(t, m, session(t, "aws", acct, "node", sess))
		}
		if n := e.callCount() - before; n != 0 {
			t.Errorf("resolver called %d times for sessions not named like an instance", n)
		}
	})
	t.Run("NoResolverDenies", func(t *testing.T) {
		m := build(t, f, spec, rules.Options{})
		id := session(t, "aws", acct, "node", instance17)
		_, err := m.Map(t.Context(), id)
		if !errors.Is(err, rules.ErrEC2PrivateDNSNameUnsupported) {
			t.Errorf("Map = %v, want ErrEC2PrivateDNSNameUnsupported", err)
		}
	})
}

func runReserved(t *testing.T, f Factory) {
	none := rules.Options{}
	r := func(username string, groups ...string) mapping.Entry {
		return mapping.Entry{Kind: mapping.KindRole, ARN: roleARN(acct, "r"), Username: username, Groups: groups}
	}
	probe := func(sess string) mapping.Identity { return session(t, "aws", acct, "r", sess) }

	t.Run("SafeFormsLoad", func(t *testing.T) {
		m := build(t, f, spec{Roles: []mapping.Entry{
			r("system:node:{{SessionName}}", "system:masters", "system:bootstrappers", "system:nodes", "system:node-proxier", "eks:kube-proxy-windows"),
		}}, none)
		want(t, mustMap(t, m, probe("fargate-ip-10-0-0-1")), "system:node:fargate-ip-10-0-0-1",
			"system:masters", "system:bootstrappers", "system:nodes", "system:node-proxier", "eks:kube-proxy-windows")
	})
	t.Run("LiteralRefused", func(t *testing.T) {
		for _, m := range []mapping.Entry{
			r("system:admin"), r("System:Admin"), r("eks:x"), r("aws:x"), r("amazon:x"), r("iam:x"),
			r("system:node:{{SessionNameRaw}}"), r("system:serviceaccount:kube-system:{{SessionName}}"),
			r("u", "system:authenticated"), r("u", "system:masters2"), r("u", "eks:{{SessionName}}"), r("u", "SYSTEM:masters"),
			r("system:node:{{AccessKeyID}}"), r("u", "system:node:{{EC2PrivateDNSName}}"),
		} {
			t.Run(m.Username+"/"+firstOr(m.Groups), func(t *testing.T) {
				refused(t, f, spec{Roles: []mapping.Entry{m}}, none, probe("s"))
			})
		}
	})
	t.Run("TemplateBeforeColonRefused", func(t *testing.T) {
		// Session "system" would render system:masters.
		for _, m := range []mapping.Entry{
			r("{{SessionName}}:masters"), r("u", "{{SessionName}}:masters"), r("x{{SessionNameRaw}}:y"), r("{{AccountID}}:admin"),
		} {
			refused(t, f, spec{Roles: []mapping.Entry{m}}, none, probe("system"), probe("eks"))
		}
	})
	t.Run("Allowlist", func(t *testing.T) {
		spec := spec{Roles: []mapping.Entry{r("eks:operator:{{SessionName}}", "eks:operators")}}
		refused(t, f, spec, none, probe("s"))
		m := build(t, f, spec, rules.Options{AllowReserved: []string{"eks:operator:{{SessionName}}", "eks:operators"}})
		want(t, mustMap(t, m, probe("s")), "eks:operator:s", "eks:operators")
		// Exact text only.
		refused(t, f, spec, rules.Options{AllowReserved: []string{"eks:operator:", "eks:"}}, probe("s"))
	})
	t.Run("BackendReservedUsernamePrefixes", func(t *testing.T) {
		opts := rules.Options{ReservedUsernamePrefixes: []string{"admin:", "system:"}}
		refused(t, f, spec{Roles: []mapping.Entry{r("admin:{{SessionName}}")}}, opts, probe("s"))
		refused(t, f, spec{Roles: []mapping.Entry{r("system:node:{{SessionName}}")}}, opts, probe("s"))
		m := build(t, f, spec{Roles: []mapping.Entry{r("{{AccessKeyID}}")}}, opts)
		want(t, mustMap(t, m, probe("s")), akid)
		id := probe("s")
		id.AccessKeyID = "Admin:x"
		mustFail(t, m, id)
	})
}

func firstOr(gs []string) string {
	if len(gs) == 0 {
		return ""
	}
	return gs[0]
}
