package kube_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/certs"
	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// The validating webhook scenarios: "iamgate init" writes
// validating-webhook.yaml, kubectl applies it to a real kube-apiserver,
// and kubectl edits of aws-auth go through iamgate's POST /validate.

// startWithAdmission is startClusterWith for the EKSConfigMap backend,
// with the ValidatingWebhookConfiguration init wrote registered before
// aws-auth is created.
func startWithAdmission(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{id: "e2e-cluster", double: ststest.Start(t), log: &syncBuffer{}}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("clusterID: "+c.id+"\nserver:\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	webhook := filepath.Join(dir, "webhook.yaml")
	ports := reserveServerPorts(t)
	flags := append([]string{"-c", cfg, "--state-dir", filepath.Join(dir, "state"), "--generate-kubeconfig", webhook,
		"--log-format", "json"}, ports.flags()...)
	deps := cli.Deps{STSTransport: c.double.Transport()}
	var initOut bytes.Buffer
	if code := cli.Run(context.Background(), append([]string{"init"}, flags...), deps,
		cli.Streams{In: strings.NewReader(""), Out: &initOut, Err: &initOut}); code != 0 {
		t.Fatalf("iamgate init exited %d:\n%s", code, initOut.String())
	}
	vw := filepath.Join(dir, certs.ValidatingWebhookFile)
	if !strings.Contains(initOut.String(), "wrote "+vw) {
		t.Fatalf("init did not say it wrote %s:\n%s", vw, initOut.String())
	}
	c.kube = kube.Start(t, kube.Options{WebhookConfigFile: webhook})
	c.admin(t, "apply", "-f", vw)
	args := append([]string{"server", "--kubeconfig", c.kube.Kubeconfig, "--backend-mode", "EKSConfigMap"}, flags...)
	c.runServer(t, args, deps, ports, true)
	// The apiserver's webhook informer and iamgate's listener both have to
	// be up: retry the first create until iamgate answers it.
	eventually(t, "aws-auth created through the webhook", func() bool {
		_, errOut, err := applyManifest(t, c, awsAuth(awsAuthSeed...))
		return err == nil && strings.Contains(errOut, "system:masters") // iamgate's warning: it was asked
	})
	return c
}

// applyManifest is kubectl apply -f as admin, without failing the test.
func applyManifest(t *testing.T, c *cluster, manifest string) (string, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "aws-auth.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubectl(t, c.kube.Kubeconfig, "apply", "-f", path)
}

func (c *cluster) awsAuthRV(t *testing.T) string {
	return c.kubectlAdmin(t, "get", "configmap", "aws-auth", "-n", "kube-system", "-o", "jsonpath={.metadata.resourceVersion}")
}

func TestAPIServerAdmissionWebhook(t *testing.T) {
	c := startWithAdmission(t)
	t.Run("BrokenEditRefusedWithItsLine", func(t *testing.T) { testAdmissionBrokenEdit(t, c) })
	t.Run("WarningShownAndApplied", func(t *testing.T) { testAdmissionWarning(t, c) })
	t.Run("NodeRoleRemovalRefused", func(t *testing.T) { testAdmissionNodeRole(t, c) })
	t.Run("DeleteRefused", func(t *testing.T) { testAdmissionDelete(t, c) })
	t.Run("BypassKeepsLastKnownGood", func(t *testing.T) { testAdmissionBypass(t, c) })
}

// A misindented entry is refused by kube-apiserver with iamgate's message
// naming the line in mapRoles; the ConfigMap stays as it was and the
// server keeps mapping with the seed.
func testAdmissionBrokenEdit(t *testing.T, c *cluster) {
	before := c.awsAuthRV(t)
	_, errOut, err := applyManifest(t, c, awsAuth(append(awsAuthSeed, awsAuthMisindentedRole)...))
	if err == nil {
		t.Fatal("kubectl apply of a broken aws-auth succeeded")
	}
	t.Logf("kubectl apply (broken):\n%s", errOut)
	for _, want := range []string{`admission webhook "aws-auth.iamgate.io" denied the request`, "mapRoles line 18:", "[yaml-syntax]"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("kubectl's error lacks %q:\n%s", want, errOut)
		}
	}
	if rv := c.awsAuthRV(t); rv != before {
		t.Errorf("aws-auth changed (resourceVersion %s → %s) though the edit was refused", before, rv)
	}
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "k10-operator", "ci-7"), c.id))
	if u.Username != "k10:ci-7" || !slices.Contains(u.Groups, "k10:basic") {
		t.Errorf("after the refused edit, k10-operator is %q %v; want the seed's k10:ci-7 in k10:basic", u.Username, u.Groups)
	}
	if !c.unauthorized(t, c.roleSession(t, "latecomer", "x")) {
		t.Error("the refused edit's entry grants access")
	}
}

// An edit with only warnings (a role path) is applied, kubectl prints
// iamgate's warning, and the new entry maps.
func testAdmissionWarning(t *testing.T, c *cluster) {
	pathRole := "- groups:\n  - ops:readers\n  rolearn: arn:aws:iam::111122223333:role/teams/ops\n  username: ops:{{SessionName}}\n"
	_, errOut, err := applyManifest(t, c, awsAuth(append(awsAuthSeed, pathRole)...))
	if err != nil {
		t.Fatalf("kubectl apply of a warning-only edit: %v\n%s", err, errOut)
	}
	t.Logf("kubectl apply (warning):\n%s", errOut)
	if !strings.Contains(errOut, "Warning: mapRoles line 16: the role ARN has the path /teams/") || !strings.Contains(errOut, "[role-path]") {
		t.Errorf("kubectl did not show iamgate's role-path warning:\n%s", errOut)
	}
	eventually(t, "the ops entry maps", func() bool {
		id := c.roleSession(t, "ops", "bob")
		if c.unauthorized(t, id) {
			return false
		}
		return whoami(t, c.kubeconfigFor(t, id, c.id)).Username == "ops:bob"
	})
}

// Taking out the node role's entry is refused; with the lockout
// annotation it goes through.
func testAdmissionNodeRole(t *testing.T, c *cluster) {
	if _, errOut, err := applyManifest(t, c, awsAuth(awsAuthSeed...)); err != nil {
		t.Fatalf("restore the seed: %v\n%s", err, errOut)
	}
	_, errOut, err := applyManifest(t, c, awsAuth(awsAuthAdminRole, awsAuthK10Role))
	if err == nil || !strings.Contains(errOut, "removes the last node-role entry") || !strings.Contains(errOut, "iamgate.io/allow-lockout") {
		t.Fatalf("removing the node role: err %v\n%s", err, errOut)
	}
	t.Logf("kubectl apply (node role removed):\n%s", errOut)
	annotated := strings.Replace(awsAuth(awsAuthAdminRole, awsAuthK10Role), "  namespace: kube-system\n",
		"  namespace: kube-system\n  annotations:\n    iamgate.io/allow-lockout: \"true\"\n", 1)
	if _, errOut, err := applyManifest(t, c, annotated); err != nil {
		t.Fatalf("removing the node role with iamgate.io/allow-lockout: %v\n%s", err, errOut)
	}
	if _, errOut, err := applyManifest(t, c, awsAuth(awsAuthSeed...)); err != nil {
		t.Fatalf("restore the seed: %v\n%s", err, errOut)
	}
}

// kubectl delete of aws-auth is refused, saying how to do it on purpose.
func testAdmissionDelete(t *testing.T, c *cluster) {
	_, errOut, err := kubectl(t, c.kube.Kubeconfig, "delete", "configmap", "aws-auth", "-n", "kube-system")
	if err == nil || !strings.Contains(errOut, "refusing to delete kube-system/aws-auth") || !strings.Contains(errOut, "iamgate.io/allow-delete=true") {
		t.Fatalf("delete: err %v\n%s", err, errOut)
	}
	t.Logf("kubectl delete:\n%s", errOut)
}

// With the webhook gone (as when iamgate is down: failurePolicy Ignore),
// a broken edit lands and the server keeps its last good mappings, as
// without admission.
func testAdmissionBypass(t *testing.T, c *cluster) {
	c.admin(t, "delete", "validatingwebhookconfiguration", certs.ValidatingWebhookName)
	var rv string
	eventually(t, "the broken edit is accepted once the webhook is gone", func() bool {
		_, _, err := applyManifest(t, c, awsAuth(append(awsAuthSeed, awsAuthMisindentedRole)...))
		return err == nil
	})
	rv = c.awsAuthRV(t)
	c.waitForLog(t, "iamgate rejected aws-auth resourceVersion "+rv, 0, func(l logLine) bool {
		return l.ResourceVersion == rv && strings.HasPrefix(l.Msg, "rejected ConfigMap data")
	})
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "k10-operator", "ci-9"), c.id))
	if u.Username != "k10:ci-9" {
		t.Errorf("after the bypassing edit, k10-operator is %q; want the last good mappings", u.Username)
	}
}
