package kube_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// The EKSConfigMap scenarios: aws-auth is created and edited with kubectl as
// admin, iamgate follows it, and every check logs in with a fresh token.

// aws-auth entries as eksctl writes them (keys sorted), at the indentation
// of a mapRoles list; awsAuth puts them into the ConfigMap.
const (
	// Worker nodes (eksctl's node group role).
	awsAuthNodeRole = `- groups:
  - system:bootstrappers
  - system:nodes
  rolearn: arn:aws:iam::111122223333:role/eksctl-e2e-nodegroup-ng-1-NodeInstanceRole-1GFKA1037E1XO
  username: system:node:{{EC2PrivateDNSName}}
`
	// Seed 001: administrators, named after their access key and session.
	awsAuthAdminRole = `- groups:
  - system:masters
  rolearn: arn:aws:iam::111122223333:role/k8s-admin
  username: admin:{{AccessKeyID}}:{{SessionName}}
`
	// Seeds 000/003: backup operators, whose rights come from a binding to k10:basic.
	awsAuthK10Role = `- groups:
  - k10:basic
  rolearn: arn:aws:iam::111122223333:role/k10-operator
  username: k10:{{SessionName}}
`
	// A role the scenarios add and remove.
	awsAuthOpsRole = `- groups:
  - ops:readers
  rolearn: arn:aws:iam::111122223333:role/ops
  username: ops:{{SessionName}}
`
	// A new entry saved with its last line indented wrongly: the whole
	// mapRoles string is no longer valid YAML.
	awsAuthMisindentedRole = `- groups:
  - system:masters
  rolearn: arn:aws:iam::111122223333:role/latecomer
  username: latecomer
    groups: [system:masters]
`
)

// awsAuthSeed is aws-auth as the seeds' clusters have it.
var awsAuthSeed = []string{awsAuthNodeRole, awsAuthAdminRole, awsAuthK10Role}

// awsAuth is the kube-system/aws-auth manifest with these mapRoles entries
// and eksctl's empty mapUsers.
func awsAuth(mapRoles ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n  mapRoles: |\n")
	for _, entry := range mapRoles {
		for _, line := range strings.SplitAfter(entry, "\n") {
			if line != "" {
				b.WriteString("    " + line)
			}
		}
	}
	b.WriteString("  mapUsers: |\n    []\n")
	return b.String()
}

// deployRBAC is what deploy/ grants iamgate's ServiceAccount.
var deployRBAC = filepath.Join("..", "..", "..", "deploy", "base", "rbac.yaml")

// asIAMGateServiceAccount is a kubeconfig acting as the ServiceAccount
// deploy/ runs iamgate as (kube-system/iamgate), so the server reads aws-auth
// and records Events with exactly the rights deploy/base/rbac.yaml gives it.
func asIAMGateServiceAccount(t *testing.T, c *cluster) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(c.kube.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range kc.AuthInfos {
		u.Impersonate = "system:serviceaccount:kube-system:iamgate"
	}
	path := filepath.Join(t.TempDir(), "iamgate-sa.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAPIServerEKSConfigMap shares one control plane and one iamgate server
// (--backend-mode EKSConfigMap, running as its deployed ServiceAccount)
// between the aws-auth scenarios. Each scenario first applies the aws-auth it
// starts from, so they do not depend on each other's edits.
func TestAPIServerEKSConfigMap(t *testing.T) {
	c := startClusterWith(t, clusterOptions{
		serverArgs: []string{"--backend-mode", "EKSConfigMap"},
		beforeServer: func(t *testing.T, c *cluster) {
			c.admin(t, "apply", "-f", deployRBAC)
			c.apply(t, awsAuth(awsAuthSeed...))
		},
		serverKubeconfig: asIAMGateServiceAccount,
	}, "")
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *cluster)
	}{
		{"AdminRoleIsSystemMasters", testAWSAuthAdminRoleIsSystemMasters},
		{"AddedEntryGrants", testAWSAuthAddedEntryGrants},
		{"RemovedEntryIsUnauthorized", testAWSAuthRemovedEntryIsUnauthorized},
		{"BrokenEditKeepsPreviousMappings", testAWSAuthBrokenEditKeepsPreviousMappings},
		{"DeletedConfigMapMapsNobody", testAWSAuthDeletedConfigMapMapsNobody},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
	}
}

// Seed 001 in aws-auth, as eksctl writes it (node role included): the admin
// role's session is admin:{{AccessKeyID}}:{{SessionName}} in system:masters
// and can do everything. The seed loads whole: no entry is skipped.
func testAWSAuthAdminRoleIsSystemMasters(t *testing.T, c *cluster) {
	load := c.applyAWSAuth(t, awsAuth(awsAuthSeed...))
	if load.rejected || load.roles != 3 || load.skipped != 0 {
		t.Fatalf("seed aws-auth: %+v, want 3 roles loaded, none skipped", load)
	}
	admin := c.roleSession(t, "k8s-admin", "alice@example.com")
	kc := c.kubeconfigFor(t, admin, c.id)
	u := whoami(t, kc)
	if want := "admin:" + admin.accessKeyID + ":alice-example.com"; u.Username != want {
		t.Errorf("whoami username = %q, want %q", u.Username, want)
	}
	if !slices.Contains(u.Groups, "system:masters") {
		t.Errorf("whoami groups = %v, want system:masters among them", u.Groups)
	}
	wantCan(t, kc, true, "* *", "delete nodes", "update configmaps -n kube-system")

	k10 := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "k10-operator", "ci-42"), c.id))
	if k10.Username != "k10:ci-42" || !slices.Contains(k10.Groups, "k10:basic") || slices.Contains(k10.Groups, "system:masters") {
		t.Errorf("whoami as k10-operator = %q %v, want k10:ci-42 in k10:basic only", k10.Username, k10.Groups)
	}
}

// Editing aws-auth to add an entry lets that role in, without restarting
// iamgate.
func testAWSAuthAddedEntryGrants(t *testing.T, c *cluster) {
	c.applyAWSAuth(t, awsAuth(awsAuthSeed...))
	if !c.unauthorized(t, c.roleSession(t, "ops", "dana")) {
		t.Fatal("the ops role got in before aws-auth mapped it")
	}

	if load := c.applyAWSAuth(t, awsAuth(append(awsAuthSeed, awsAuthOpsRole)...)); load.rejected {
		t.Fatalf("aws-auth with the ops entry added was rejected: %+v", load)
	}
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "ops", "dana"), c.id))
	if u.Username != "ops:dana" || !slices.Contains(u.Groups, "ops:readers") {
		t.Errorf("whoami after adding the ops entry = %q %v, want ops:dana in ops:readers", u.Username, u.Groups)
	}
}

// Editing aws-auth to remove an entry locks that role out: a fresh token of
// the role is Unauthorized, while the entries left keep working.
func testAWSAuthRemovedEntryIsUnauthorized(t *testing.T, c *cluster) {
	c.applyAWSAuth(t, awsAuth(append(awsAuthSeed, awsAuthOpsRole)...))
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "ops", "erin"), c.id)); u.Username != "ops:erin" {
		t.Fatalf("whoami before removing the ops entry = %q, want ops:erin", u.Username)
	}

	c.applyAWSAuth(t, awsAuth(awsAuthSeed...))
	if !c.unauthorized(t, c.roleSession(t, "ops", "erin")) {
		t.Error("the ops role still gets in after its entry was removed from aws-auth")
	}
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "k10-operator", "ci-43"), c.id)); u.Username != "k10:ci-43" {
		t.Errorf("whoami as k10-operator after the removal = %q, want k10:ci-43", u.Username)
	}
}

// A syntactically broken aws-auth edit is rejected whole: what was mapped
// stays mapped (fresh token), the broken edit's new entry grants nothing,
// and a Warning Event on the ConfigMap says why.
func testAWSAuthBrokenEditKeepsPreviousMappings(t *testing.T, c *cluster) {
	c.applyAWSAuth(t, awsAuth(awsAuthSeed...))

	load := c.applyAWSAuth(t, awsAuth(append(awsAuthSeed, awsAuthMisindentedRole)...))
	if !load.rejected {
		t.Fatalf("the broken aws-auth was not rejected: %+v", load)
	}
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "k10-operator", "ci-44"), c.id))
	if u.Username != "k10:ci-44" || !slices.Contains(u.Groups, "k10:basic") {
		t.Errorf("whoami as k10-operator after the broken edit = %q %v, want k10:ci-44 in k10:basic", u.Username, u.Groups)
	}
	admin := c.roleSession(t, "k8s-admin", "alice")
	if u := whoami(t, c.kubeconfigFor(t, admin, c.id)); u.Username != "admin:"+admin.accessKeyID+":alice" {
		t.Errorf("whoami as admin after the broken edit = %q, want the seed's admin name", u.Username)
	}
	if !c.unauthorized(t, c.roleSession(t, "latecomer", "x")) {
		t.Error("the broken edit's new entry granted access")
	}

	var ev corev1.Event
	eventually(t, "a Warning InvalidMappings Event on aws-auth naming resourceVersion "+load.rv, func() bool {
		for _, e := range c.awsAuthEvents(t) {
			if e.Type == corev1.EventTypeWarning && e.Reason == "InvalidMappings" &&
				strings.Contains(e.Message, "resourceVersion "+load.rv+")") {
				ev = e
				return true
			}
		}
		return false
	})
	if !strings.Contains(ev.Message, "stay in effect") || ev.InvolvedObject.Kind != "ConfigMap" || ev.InvolvedObject.Namespace != "kube-system" {
		t.Errorf("event = %s %s/%s: %q; want it on the ConfigMap, saying the previous mappings stay in effect",
			ev.InvolvedObject.Kind, ev.InvolvedObject.Namespace, ev.InvolvedObject.Name, ev.Message)
	}
}

// Deleting aws-auth removes its mappings (even the admin is Unauthorized);
// creating it again restores them.
func testAWSAuthDeletedConfigMapMapsNobody(t *testing.T, c *cluster) {
	c.applyAWSAuth(t, awsAuth(awsAuthSeed...))
	mark := c.log.Len()
	c.admin(t, "delete", "configmap", "aws-auth", "-n", "kube-system")
	c.waitForLog(t, "iamgate saw aws-auth deleted", mark, func(l logLine) bool {
		return l.Msg == "ConfigMap deleted; its mappings are removed"
	})
	if !c.unauthorized(t, c.roleSession(t, "k8s-admin", "alice")) {
		t.Error("the admin role still gets in with aws-auth deleted")
	}

	c.applyAWSAuth(t, awsAuth(awsAuthSeed...))
	admin := c.roleSession(t, "k8s-admin", "alice")
	if u := whoami(t, c.kubeconfigFor(t, admin, c.id)); u.Username != "admin:"+admin.accessKeyID+":alice" {
		t.Errorf("whoami as admin after re-creating aws-auth = %q", u.Username)
	}
}

// TestAPIServerEKSConfigMapReadyOnlyOnceRead: /readyz stays 503, and every login is
// refused, until iamgate has read aws-auth. Here it cannot at first because
// its ServiceAccount has no RBAC yet; once deploy/base/rbac.yaml is applied
// the informer's retry reads aws-auth and /readyz turns 200.
func TestAPIServerEKSConfigMapReadyOnlyOnceRead(t *testing.T) {
	c := startClusterWith(t, clusterOptions{
		serverArgs:       []string{"--backend-mode", "EKSConfigMap"},
		beforeServer:     func(t *testing.T, c *cluster) { c.apply(t, awsAuth(awsAuthSeed...)) },
		serverKubeconfig: asIAMGateServiceAccount,
		anyReadyz:        true,
	}, "")
	c.waitForLog(t, "iamgate's read of aws-auth forbidden", 0, func(l logLine) bool {
		return strings.HasPrefix(l.Msg, "listing or watching the ConfigMap failed")
	})
	if code := readyzCode(t, c); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before aws-auth could be read = %d, want 503", code)
	}
	mark := c.log.Len()
	if !c.unauthorized(t, c.roleSession(t, "k8s-admin", "alice")) {
		t.Error("the admin role got in before iamgate had read aws-auth")
	}
	for _, r := range c.reviewsSince(t, mark) {
		if r.Decision != "deny" || r.Reason != "mapping_error" {
			t.Errorf("review before sync = %+v, want deny mapping_error (not synced), not not_mapped", r)
		}
	}

	c.admin(t, "apply", "-f", deployRBAC)
	for deadline := time.Now().Add(30 * time.Second); readyzCode(t, c) != http.StatusOK; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 30s of granting iamgate's RBAC")
		}
	}
	admin := c.roleSession(t, "k8s-admin", "alice")
	if u := whoami(t, c.kubeconfigFor(t, admin, c.id)); u.Username != "admin:"+admin.accessKeyID+":alice" {
		t.Errorf("whoami as admin once ready = %q", u.Username)
	}
}

// TestAPIServerBackendOrderFirstMatchWins: with backendMode [MountedFile,
// EKSConfigMap], a role both map gets the MountedFile answer (the first
// backend that maps it wins), and a role only aws-auth maps gets aws-auth's.
func TestAPIServerBackendOrderFirstMatchWins(t *testing.T) {
	c := startClusterWith(t, clusterOptions{
		beforeServer: func(t *testing.T, c *cluster) {
			c.apply(t, awsAuth(`- groups:
  - system:masters
  rolearn: arn:aws:iam::111122223333:role/shared
  username: shared-from-aws-auth
`, `- groups:
  - from:aws-auth
  rolearn: arn:aws:iam::111122223333:role/cm-only
  username: cm-only-from-aws-auth
`))
		},
	}, `  backendMode: [MountedFile, EKSConfigMap]
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/shared
    username: shared-from-mountedfile
    groups: [from:mountedfile]
`)

	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "shared", "s1"), c.id))
	if u.Username != "shared-from-mountedfile" || !slices.Contains(u.Groups, "from:mountedfile") || slices.Contains(u.Groups, "system:masters") {
		t.Errorf("whoami as the role both map = %q %v, want MountedFile's shared-from-mountedfile in from:mountedfile only", u.Username, u.Groups)
	}
	u = whoami(t, c.kubeconfigFor(t, c.roleSession(t, "cm-only", "s2"), c.id))
	if u.Username != "cm-only-from-aws-auth" || !slices.Contains(u.Groups, "from:aws-auth") {
		t.Errorf("whoami as the role only aws-auth maps = %q %v, want cm-only-from-aws-auth in from:aws-auth", u.Username, u.Groups)
	}
}

// awsAuthLoad is what iamgate logged about one resourceVersion of aws-auth.
type awsAuthLoad struct {
	rv             string
	rejected       bool
	roles, skipped int
}
