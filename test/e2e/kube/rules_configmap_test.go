package kube_test

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// Reserved prefixes, and sso entries with the SSORoleMatch gate
// off, through the aws-auth ConfigMap (EKSConfigMap backend): one control
// plane, one iamgate server. The ConfigMap is where a reserved name is
// skipped (logged) while the other entries apply, and where an edit with a
// template before the first ":" is rejected as a whole.

const m4AWSAuth = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/fargate-pod-execution
      username: system:node:{{SessionName}}
      groups:
      - system:bootstrappers
      - system:nodes
      - system:node-proxier
    - rolearn: arn:aws:iam::111122223333:role/viewer
      username: viewer
      groups:
      - system:foo
    - rolearn: arn:aws:iam::111122223333:role/ok
      username: ok:{{SessionName}}
      groups:
      - m4-ok
    - sso:
        permissionSetName: Dev
        accountID: "111122223333"
      username: sso-dev:{{SessionName}}
      groups:
      - m4-sso-devs
    - rolearn: arn:aws:iam::444455556666:role/ops
      username: ops:{{SessionName}}
      groups:
      - m4-ok
`

// m4AWSAuthEdit adds, to the same data, an entry whose username lets the
// session name choose the prefix: session "system" would be system:masters.
var m4AWSAuthEdit = strings.Replace(m4AWSAuth, "    - sso:", `    - rolearn: arn:aws:iam::111122223333:role/anyone
      username: "{{SessionName}}:masters"
    - sso:`, 1)

var (
	m4Fargate = m4Role("ASIAM4FARGATE0000001", "fargate-pod-execution", "fargate-ip-10-0-1-2.us-west-2.compute.internal", "AROAE2EFARGATE000001")
	m4Viewer  = m4Role("ASIAM4VIEWER00000001", "viewer", "carol", "AROAE2EVIEWER0000001")
	m4OK      = m4Role("ASIAM4OK000000000001", "ok", "dave", "AROAE2EOK00000000001")
	m4System  = m4Role("ASIAM4SYSTEM00000001", "anyone", "system", "AROAE2EANYONE0000001")
	m4OK2     = m4Role("ASIAM4OK000000000002", "ok", "erin", "AROAE2EOK00000000001")
	// m4Scrubbed is a session in 444455556666, an account listed in
	// scrubbedAccounts.
	m4Scrubbed = identity{
		accessKeyID: "ASIAM4SCRUBBED000001", secret: "secret-scrubbed", sessionToken: "token-scrubbed",
		sts: ststest.Identity{
			Arn: "arn:aws:sts::444455556666:assumed-role/ops/frank", Account: "444455556666",
			UserId: "AROAE2ESCRUBBED00001:frank",
		},
	}
)

func TestAPIServerRulesConfigMap(t *testing.T) {
	c := m4StartCluster(t, m4Setup{
		// SSORoleMatch is not set: off, as in aws-iam-authenticator.
		config: "clusterID: e2e-cluster\nserver:\n  backendMode: [EKSConfigMap]\n  scrubbedAccounts: [\"444455556666\"]\n",
		ids:    []identity{m4Fargate, m4Viewer, m4OK, m4SSODev, m4System, m4OK2, m4Scrubbed},
	})
	mark := c.log.Len()
	m4Apply(t, c, m4AWSAuth)
	m4WhoamiEventually(t, c, m4OK, "ok:dave")
	m4PodReaders(t, c, "m4-ok", "m4-sso-devs")

	t.Run("7-SafeNodeUsername", func(t *testing.T) {
		// The Fargate form EKS writes, with the reserved groups EKS writes.
		m4Allowed(t, c, m4Fargate, "system:node:fargate-ip-10-0-1-2.us-west-2.compute.internal",
			"EKSConfigMap mapRoles[arn:aws:iam::111122223333:role/fargate-pod-execution]",
			"system:bootstrappers", "system:nodes", "system:node-proxier")
	})
	t.Run("7-ReservedLiteralSkippedOthersLoad", func(t *testing.T) {
		// groups: [system:foo] is refused at load: that entry is left out
		// and logged, the rest of the ConfigMap applies. As the last entry
		// for role/viewer it still denies that role (mapping_error, not
		// not_mapped): no earlier entry or later tier may answer instead.
		line := m4LogHas(t, c, mark, "skipped invalid mapping entry", "system:foo")
		if !strings.Contains(line, "role/viewer") {
			t.Errorf("skip log line does not name the entry: %s", line)
		}
		m4Unauthorized(t, c, m4Viewer, "mapping_error", "the last entry for this principal was left out")
		m4Allowed(t, c, m4OK, "ok:dave", "EKSConfigMap mapRoles[arn:aws:iam::111122223333:role/ok]", "m4-ok")
		m4RBACView(t, c, m4OK)
	})
	t.Run("7-ScrubbedAccount", func(t *testing.T) {
		// A scrubbed account's user gets AIA's opaque uid and no extra, and
		// its audit line leaves the identity out.
		mark := c.log.Len()
		u := whoami(t, c.kubeconfigFor(t, m4Scrubbed, c.id))
		if u.Username != "ops:frank" || u.UID != "aws-iam-authenticator:administrative:ops:frank" || len(u.Extra) != 0 {
			t.Errorf("whoami = %q uid %q extra %v; want ops:frank, uid aws-iam-authenticator:administrative:ops:frank, no extra",
				u.Username, u.UID, u.Extra)
		}
		rs := m4ReviewsSince(c, mark)
		if len(rs) == 0 {
			t.Fatal("iamgate logged no review")
		}
		for _, r := range rs {
			if r.Decision != "allow" || r.AccessKeyID != "" {
				t.Errorf("review = %+v, want allow without the access key id", r)
			}
		}
		line := m4LogHas(t, c, mark, `"msg":"review"`)
		if !strings.Contains(line, `"scrubbed":true`) || m4HasAny(line, `"arn"`, `"canonicalArn"`, `"accountId"`, `"userId"`) {
			t.Errorf("audit line of a scrubbed account names the identity: %s", line)
		}
		// Near miss: an account not listed keeps uid and extra.
		u = whoami(t, c.kubeconfigFor(t, m4OK, c.id))
		if u.UID != "aws-iam-authenticator:"+account+":AROAE2EOK00000000001" || len(u.Extra["arn"]) != 1 {
			t.Errorf("whoami of an unscrubbed account: uid %q extra %v", u.UID, u.Extra)
		}
	})
	t.Run("2-SSOGateOff", func(t *testing.T) {
		// The sso entry loads but never matches without SSORoleMatch.
		m4Unauthorized(t, c, m4SSODev, "not_mapped", "")
		m4LogHas(t, c, 0, "sso entries loaded but inactive")
	})
	t.Run("7-TemplateBeforeColonRejected", func(t *testing.T) {
		// The edit is rejected whole; the last good mappings stay.
		mark := c.log.Len()
		m4Apply(t, c, m4AWSAuthEdit)
		line := m4LogHas(t, c, mark, "rejected ConfigMap data", "{{SessionName}}:masters")
		if !strings.Contains(line, "stay in effect") {
			t.Errorf("reject log line does not say the last good mappings stay: %s", line)
		}
		// Session "system" of the role gets nothing, let alone system:masters.
		m4Unauthorized(t, c, m4System, "not_mapped", "")
		m4Allowed(t, c, m4OK2, "ok:erin", "EKSConfigMap mapRoles[arn:aws:iam::111122223333:role/ok]", "m4-ok")
	})
}
