package kube_test

import (
	"strings"
	"testing"
)

// Role paths, sso entries, patterns and userid pins through a real kube-apiserver: one control
// plane and one iamgate server (MountedFile, SSORoleMatch on by flag) for
// all of them. Each rule is checked with the identity it must map and the
// near miss it must not.

const m4FileConfig = `clusterID: e2e-cluster
server:
  backendMode: [MountedFile]
  mapRoles:
  # Item 1: a role with a path; STS reports its sessions without it.
  - rolearn: arn:aws:iam::111122223333:role/teams/dev/deployer
    username: deployer:{{SessionName}}
    groups: [m4-deployers]
  # Item 2: an IAM Identity Center permission set, partition written out.
  - sso:
      permissionSetName: Dev
      accountID: "111122223333"
      partition: aws
    username: sso-dev:{{SessionName}}
    groups: [m4-sso-devs]
  # Item 3: patterns, the longer literal prefix first, an exact entry above both.
  - rolearn: arn:aws:iam::111122223333:role/ci-*
    username: ci:{{SessionName}}
    groups: [m4-ci]
  - rolearn: arn:aws:iam::111122223333:role/ci-deploy-*
    username: ci-deploy:{{SessionName}}
    groups: [m4-ci]
  - rolearn: arn:aws:iam::111122223333:role/ci-admin
    username: ci-admin:{{SessionName}}
    groups: [m4-ci]
  # Item 5: pinned to the role's unique ID.
  - rolearn: arn:aws:iam::111122223333:role/pinned
    username: pinned:{{SessionName}}
    groups: [m4-pinned]
    userid: AROAE2EPINNED0000001
`

// Identities of the MountedFile scenarios: each key is its own principal.
var (
	m4Deployer   = m4Role("ASIAM4DEPLOYER000001", "deployer", "release-7", "AROAE2EDEPLOYER00001")
	m4Deployer2  = m4Role("ASIAM4DEPLOYER200001", "deployer2", "release-7", "AROAE2EDEPLOYER20001")
	m4PathAsRole = m4Role("ASIAM4PATHASROLE0001", "dev", "release-7", "AROAE2EPATHASROLE001")

	m4SSODev      = m4Role("ASIAM4SSODEV00000001", "AWSReservedSSO_Dev_0123456789abcdef", "alice@example.com", "AROAE2ESSODEV0000001")
	m4SSODevAdmin = m4Role("ASIAM4SSODEVADMIN001", "AWSReservedSSO_Dev_admin_0123456789abcdef", "alice@example.com", "AROAE2ESSODEVADMIN01")
	m4SSODev15Hex = m4Role("ASIAM4SSODEV15HEX001", "AWSReservedSSO_Dev_0123456789abcde", "alice@example.com", "AROAE2ESSODEV15HEX01")

	m4CIRunner      = m4Role("ASIAM4CIRUNNER000001", "ci-runner", "job-1", "AROAE2ECIRUNNER00001")
	m4CIDeployProd  = m4Role("ASIAM4CIDEPLOYPROD01", "ci-deploy-prod", "job-2", "AROAE2ECIDEPLOYPROD1")
	m4CIAdmin       = m4Role("ASIAM4CIADMIN0000001", "ci-admin", "job-3", "AROAE2ECIADMIN000001")
	m4CIXRunner     = m4Role("ASIAM4CIXRUNNER00001", "cix-runner", "job-4", "AROAE2ECIXRUNNER0001")
	m4SessionAsRole = m4Role("ASIAM4SESSIONASROLE1", "dev", "ci-runner", "AROAE2EPATHASROLE001")

	m4Pinned    = m4Role("ASIAM4PINNED00000001", "pinned", "bob", "AROAE2EPINNED0000001")
	m4Recreated = m4Role("ASIAM4RECREATED00001", "pinned", "bob", "AROAE2ERECREATED0001")
)

func TestAPIServerRulesMountedFile(t *testing.T) {
	c := m4StartCluster(t, m4Setup{
		config: m4FileConfig,
		flags:  []string{"--feature-gates", "SSORoleMatch=true"},
		ids: []identity{m4Deployer, m4Deployer2, m4PathAsRole, m4SSODev, m4SSODevAdmin, m4SSODev15Hex,
			m4CIRunner, m4CIDeployProd, m4CIAdmin, m4CIXRunner, m4SessionAsRole, m4Pinned, m4Recreated},
	})
	// RBAC: every group these entries grant may read pods, nothing more.
	m4PodReaders(t, c, "m4-deployers", "m4-sso-devs", "m4-ci", "m4-pinned")

	t.Run("1-RolePath", func(t *testing.T) {
		// The entry's path is ignored: the deployer session maps.
		m4Allowed(t, c, m4Deployer, "deployer:release-7",
			"mapRoles[arn:aws:iam::111122223333:role/teams/dev/deployer]", "m4-deployers")
		m4RBACView(t, c, m4Deployer)
		// Near misses: another role whose name starts the same, and a role
		// named after a segment of the path.
		m4Unauthorized(t, c, m4Deployer2, "not_mapped", "")
		m4Unauthorized(t, c, m4PathAsRole, "not_mapped", "")
	})
	t.Run("2-SSOPermissionSet", func(t *testing.T) {
		// Exactly permission set Dev (partition "aws" written out, which
		// aws-iam-authenticator stopped matching).
		m4Allowed(t, c, m4SSODev, "sso-dev:alice-example.com", "mapRoles[sso:aws:111122223333:Dev]", "m4-sso-devs")
		m4RBACView(t, c, m4SSODev)
		// Permission set Dev_admin is not Dev (aws-iam-authenticator's
		// prefix match let it in), nor is a 15-digit suffix.
		m4Unauthorized(t, c, m4SSODevAdmin, "not_mapped", "")
		m4Unauthorized(t, c, m4SSODev15Hex, "not_mapped", "")
		// With the gate off nothing maps: TestAPIServerRulesConfigMap.
	})
	t.Run("3-Patterns", func(t *testing.T) {
		m4Allowed(t, c, m4CIRunner, "ci:job-1", "mapRoles[arn:aws:iam::111122223333:role/ci-*]", "m4-ci")
		m4RBACView(t, c, m4CIRunner)
		// The longest literal prefix wins over ci-*.
		m4Allowed(t, c, m4CIDeployProd, "ci-deploy:job-2", "mapRoles[arn:aws:iam::111122223333:role/ci-deploy-*]", "m4-ci")
		// An exact entry wins over every pattern, visible in whoami.
		m4Allowed(t, c, m4CIAdmin, "ci-admin:job-3", "mapRoles[arn:aws:iam::111122223333:role/ci-admin]", "m4-ci")
		// Near misses: a name the pattern does not fit, and a session named
		// like the pattern (a pattern never sees the session name).
		m4Unauthorized(t, c, m4CIXRunner, "not_mapped", "")
		m4Unauthorized(t, c, m4SessionAsRole, "not_mapped", "")
		// Unsafe patterns stop the server: TestAPIServerRulesRefusedConfigs.
	})
	t.Run("5-UserIDPin", func(t *testing.T) {
		u := m4Allowed(t, c, m4Pinned, "pinned:bob", "mapRoles[arn:aws:iam::111122223333:role/pinned]", "m4-pinned")
		if want := "aws-iam-authenticator:" + account + ":AROAE2EPINNED0000001"; u.UID != want {
			t.Errorf("whoami uid = %q, want %q", u.UID, want)
		}
		m4RBACView(t, c, m4Pinned)
		// Same role name, same session, but STS reports another unique ID:
		// the role was deleted and re-created. The entry is as if absent.
		m4Unauthorized(t, c, m4Recreated, "not_mapped", "")
	})
}

// m4PodReaders binds groups to a ClusterRole that may get and list pods.
// (The bootstrap "view" role is empty here: no controller manager runs
// to aggregate its rules.)
func m4PodReaders(t *testing.T, c *cluster, groups ...string) {
	t.Helper()
	c.admin(t, "create", "clusterrole", "m4-pod-reader", "--verb=get,list", "--resource=pods")
	args := []string{"create", "clusterrolebinding", "m4-pod-reader", "--clusterrole=m4-pod-reader"}
	for _, g := range groups {
		args = append(args, "--group="+g)
	}
	c.admin(t, args...)
}

// m4RBACView checks that id reached RBAC with a group bound to
// m4-pod-reader: it may list pods and may not delete them.
func m4RBACView(t *testing.T, c *cluster, id identity) {
	t.Helper()
	kc := c.kubeconfigFor(t, id, c.id)
	eventually(t, id.sts.Arn+" can list pods through the m4-pod-reader binding", func() bool { return canI(t, kc, "list", "pods") })
	wantCan(t, kc, false, "delete pods", "list secrets")
}

// TestAPIServerRulesRefusedConfigs runs the built server on configs it must
// refuse at start, and checks the error names the entry. No apiserver is
// needed: the server exits before it serves anything.
func TestAPIServerRulesRefusedConfigs(t *testing.T) {
	const ok = "  - rolearn: arn:aws:iam::111122223333:role/ok\n    username: ok\n"
	for _, tc := range []struct {
		name, entry string
		want        []string
	}{
		// Item 3: GetCallerIdentity answers for every account.
		{"3-AccountWildcard", "  - rolearn: arn:aws:iam::*:role/ci-runner\n    username: ci:{{SessionName}}\n",
			[]string{"mapRoles[1]", `arn:aws:iam::*:role/ci-runner`, "account"}},
		// Item 3: STS drops role paths, so this would mean every role.
		{"3-RolePatternWithPath", "  - rolearn: arn:aws:iam::111122223333:role/teams/dev/*\n    username: dev\n",
			[]string{"mapRoles[1]", "role/teams/dev/*", "path"}},
		// Item 3: equal rank, both match ci-x-prod.
		{"3-EqualRankOverlap", "  - rolearn: arn:aws:iam::111122223333:role/ci-*\n    username: a\n" +
			"  - rolearn: arn:aws:iam::111122223333:role/ci-*-prod\n    username: b\n",
			[]string{"mapRoles[2]", "role/ci-*-prod", "role/ci-*"}},
		// Item 7: session "system" would render system:masters.
		{"7-TemplateBeforeColon", "  - rolearn: arn:aws:iam::111122223333:role/anyone\n    username: \"{{SessionName}}:masters\"\n",
			[]string{"mapRoles[1]", "{{SessionName}}:masters", "template before the first"}},
		// Item 7: the MountedFile backend refuses a reserved literal name
		// (aws-auth skips the entry instead: TestAPIServerRulesConfigMap).
		{"7-ReservedLiteralGroup", "  - rolearn: arn:aws:iam::111122223333:role/viewer\n    username: viewer\n    groups: [system:foo]\n",
			[]string{"mapRoles[1]", `"system:foo"`, "reserved name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := m4ServerRefuses(t, "clusterID: e2e-cluster\nserver:\n  mapRoles:\n"+ok+tc.entry)
			if !m4HasAll(out, tc.want...) {
				t.Errorf("server output does not name the entry (want %q):\n%s", tc.want, out)
			}
			if strings.Contains(out, "iamgate server starting") {
				t.Errorf("server logged that it was starting:\n%s", out)
			}
		})
	}
}
