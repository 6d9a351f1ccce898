package kube_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

const account = "111122223333"

// The identities of the scenarios. Session names are what STS reports in the
// assumed-role ARN; {{SessionName}} turns "@" into "-".
var (
	adminID = identity{
		accessKeyID: "ASIAE2EADMIN00000001", secret: "e2e-admin-secret", sessionToken: "e2e-admin-session-token",
		sts: ststest.Identity{
			Arn: "arn:aws:sts::" + account + ":assumed-role/k8s-admin/alice@example.com", Account: account,
			UserId: "AROAE2EADMIN00000001:alice@example.com",
		},
	}
	k10ID = identity{
		accessKeyID: "ASIAE2EK100000000001", secret: "e2e-k10-secret", sessionToken: "e2e-k10-session-token",
		sts: ststest.Identity{
			Arn: "arn:aws:sts::" + account + ":assumed-role/k10-operator/ci-42", Account: account,
			UserId: "AROAE2EK100000000001:ci-42",
		},
	}
	bobID = identity{
		accessKeyID: "AKIAE2EBOB0000000001", secret: "e2e-bob-secret",
		sts: ststest.Identity{Arn: "arn:aws:iam::" + account + ":user/bob", Account: account, UserId: "AIDAE2EBOB0000000001"},
	}
	// malloryID is a real identity (STS vouches for her) that no entry maps.
	malloryID = identity{
		accessKeyID: "AKIAE2EMALLORY000001", secret: "e2e-mallory-secret",
		sts: ststest.Identity{Arn: "arn:aws:iam::" + account + ":user/mallory", Account: account, UserId: "AIDAE2EMALLORY000001"},
	}
)

// mountedFileMappings is the config file's server section, written as the
// seed documents write aws-auth entries (seeds 000, 001 and 003).
const mountedFileMappings = `  backendMode: [MountedFile]
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/k8s-admin
    username: admin:{{AccessKeyID}}:{{SessionName}}
    groups:
    - system:masters
  - rolearn: arn:aws:iam::111122223333:role/k10-operator
    username: k10:{{SessionName}}
    groups:
    - k10:basic
  mapUsers:
  - userarn: arn:aws:iam::111122223333:user/bob
    username: bob
`

// TestAPIServerMountedFile starts one control plane and one iamgate server for all
// MountedFile scenarios (each start costs seconds); each scenario is its own
// subtest with its own identity and token.
func TestAPIServerMountedFile(t *testing.T) {
	c := startCluster(t, mountedFileMappings, adminID, k10ID, bobID, malloryID)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *cluster)
	}{
		{"AdminRoleIsSystemMasters", testAdminRoleIsSystemMasters},
		{"GroupBoundToClusterRole", testGroupBoundToClusterRole},
		{"UserNameBoundToClusterRole", testUserNameBoundToClusterRole},
		{"UnmappedIdentityIsUnauthorized", testUnmappedIdentityIsUnauthorized},
		{"OtherClusterTokenIsUnauthorized", testOtherClusterTokenIsUnauthorized},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
	}
}

// Seed 001: a role mapped to admin:{{AccessKeyID}}:{{SessionName}} in
// system:masters can do everything, and kube-apiserver sees the username,
// groups, uid and extra iamgate answered.
func testAdminRoleIsSystemMasters(t *testing.T, c *cluster) {
	kc := c.kubeconfigFor(t, adminID, c.id)
	u := whoami(t, kc)
	if want := "admin:" + adminID.accessKeyID + ":alice-example.com"; u.Username != want {
		t.Errorf("whoami username = %q, want %q", u.Username, want)
	}
	for _, g := range []string{"system:masters", "system:authenticated"} {
		if !slices.Contains(u.Groups, g) {
			t.Errorf("whoami groups = %v, want %s among them", u.Groups, g)
		}
	}
	if want := "aws-iam-authenticator:" + account + ":AROAE2EADMIN00000001"; u.UID != want {
		t.Errorf("whoami uid = %q, want %q", u.UID, want)
	}
	if got := u.Extra["arn"]; len(got) != 1 || got[0] != adminID.sts.Arn {
		t.Errorf("whoami extra arn = %v, want [%s]", got, adminID.sts.Arn)
	}
	if got := u.Extra["canonicalArn"]; len(got) != 1 || got[0] != "arn:aws:iam::"+account+":role/k8s-admin" {
		t.Errorf("whoami extra canonicalArn = %v, want the role ARN", got)
	}
	wantCan(t, kc, true, "* *", "delete nodes", "create clusterrolebindings")
}

// Seeds 000/003: a role mapped into group k10:basic, bound by
// "kubectl create clusterrolebinding --group=k10:basic" to a ClusterRole,
// gets exactly that role's rights: nothing before the binding, nothing
// beyond it after.
func testGroupBoundToClusterRole(t *testing.T, c *cluster) {
	kc := c.kubeconfigFor(t, k10ID, c.id)
	u := whoami(t, kc)
	if u.Username != "k10:ci-42" || !slices.Contains(u.Groups, "k10:basic") || slices.Contains(u.Groups, "system:masters") {
		t.Fatalf("whoami = %q %v, want k10:ci-42 in k10:basic (not system:masters)", u.Username, u.Groups)
	}
	wantCan(t, kc, false, "list pods")

	c.admin(t, "create", "clusterrole", "k10-basic", "--verb=get,list,watch", "--resource=pods,deployments.apps")
	c.admin(t, "create", "clusterrolebinding", "k10-basic", "--clusterrole=k10-basic", "--group=k10:basic")
	eventually(t, "k10:basic can list pods after the binding", func() bool { return canI(t, kc, "list", "pods") })

	wantCan(t, kc, true, "get pods", "watch pods", "list pods -n kube-system", "list deployments.apps")
	wantCan(t, kc, false, "create pods", "delete pods", "list secrets", "delete nodes", "get nodes",
		"create deployments.apps", "* *")

	if _, errOut, err := kubectl(t, kc, "get", "pods", "-n", "kube-system"); err != nil {
		t.Errorf("kubectl get pods as k10:basic: %v\n%s", err, errOut)
	}
	_, errOut, err := kubectl(t, kc, "get", "secrets", "-n", "default")
	if err == nil || !strings.Contains(errOut, `User "k10:ci-42" cannot list resource "secrets"`) {
		t.Errorf("kubectl get secrets as k10:basic: err %v, stderr %q; want Forbidden naming k10:ci-42", err, errOut)
	}
}

// A ClusterRoleBinding to a User name (mapUsers: bob) works as for any
// Kubernetes user.
func testUserNameBoundToClusterRole(t *testing.T, c *cluster) {
	kc := c.kubeconfigFor(t, bobID, c.id)
	if u := whoami(t, kc); u.Username != "bob" {
		t.Fatalf("whoami username = %q, want bob", u.Username)
	}
	wantCan(t, kc, false, "list configmaps")

	c.admin(t, "create", "clusterrole", "config-reader", "--verb=get,list", "--resource=configmaps")
	c.admin(t, "create", "clusterrolebinding", "bob-config-reader", "--clusterrole=config-reader", "--user=bob")
	eventually(t, "bob can list configmaps after the binding", func() bool { return canI(t, kc, "list", "configmaps") })

	wantCan(t, kc, true, "get configmaps")
	wantCan(t, kc, false, "delete configmaps", "list pods", "list secrets")
}

// An identity STS vouches for but no entry maps gets "Unauthorized", and the
// server's audit line says why.
func testUnmappedIdentityIsUnauthorized(t *testing.T, c *cluster) {
	mark := c.log.Len()
	_, errOut, err := kubectl(t, c.kubeconfigFor(t, malloryID, c.id), "auth", "whoami")
	if err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Fatalf("whoami as an unmapped identity: err %v, stderr %q; want Unauthorized", err, errOut)
	}
	rs := c.reviewsSince(t, mark)
	if len(rs) == 0 {
		t.Fatal("iamgate logged no review: the apiserver never asked the webhook")
	}
	for _, r := range rs {
		if r.Decision != "deny" || r.Reason != "not_mapped" || r.AccessKeyID != malloryID.accessKeyID {
			t.Errorf("review = %+v, want deny not_mapped for %s", r, malloryID.accessKeyID)
		}
	}
}

// A token signed for another cluster id is refused even for the admin
// role: the cluster id is a signed header STS checks.
func testOtherClusterTokenIsUnauthorized(t *testing.T, c *cluster) {
	mark := c.log.Len()
	_, errOut, err := kubectl(t, c.kubeconfigFor(t, adminID, "other"), "auth", "whoami")
	if err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Fatalf("whoami with a token for cluster \"other\": err %v, stderr %q; want Unauthorized", err, errOut)
	}
	rs := c.reviewsSince(t, mark)
	if len(rs) == 0 {
		t.Fatal("iamgate logged no review: the apiserver never asked the webhook")
	}
	for _, r := range rs {
		if r.Decision != "deny" || r.Reason != "sts_invalid" {
			t.Errorf("review = %+v, want deny sts_invalid", r)
		}
	}
}
