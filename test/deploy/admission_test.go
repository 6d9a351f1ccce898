package deploy_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/certs"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// A CA certificate for the manifests' caBundle (any PEM certificate: the
// manifests only carry it).
const testCAPEM = `-----BEGIN CERTIFICATE-----
MIIBfTCCASOgAwIBAgIBATAKBggqhkjOPQQDAjAWMRQwEgYDVQQDEwtpYW1nYXRl
IENBMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEwMTAwMDAwMFowFjEUMBIGA1UEAxML
aWFtZ2F0ZSBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABC2F4P7O0vQxkC6y
-----END CERTIFICATE-----
`

// wantWebhooks is what "iamgate init" writes for the DaemonSet's listener.
func wantWebhooks(t *testing.T, ca []byte) any {
	t.Helper()
	data, err := certs.ValidatingWebhook("127.0.0.1", 21362, ca)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m["webhooks"]
}

func webhooksOf(t *testing.T, objs []*unstructured.Unstructured) any {
	t.Helper()
	vw := one(t, objs, "ValidatingWebhookConfiguration")
	var m map[string]any
	if err := yaml.Unmarshal([]byte(mustYAML(t, vw.Object)), &m); err != nil {
		t.Fatal(err)
	}
	return m["webhooks"]
}

// TestChartAdmissionWebhook: off by default; admissionWebhook.caBundle
// turns it on, and it is the registration iamgate init writes.
func TestChartAdmissionWebhook(t *testing.T) {
	if n := len(byKind(decode(t, mustRenderChart(t, "-set-string", "clusterID=prod")), "ValidatingWebhookConfiguration")); n != 0 {
		t.Fatalf("%d ValidatingWebhookConfigurations by default, want none", n)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(testCAPEM))
	objs := decode(t, mustRenderChart(t, "-set-string", "clusterID=prod", "-set-string", "admissionWebhook.caBundle="+b64))
	if d := cmp.Diff(wantWebhooks(t, []byte(testCAPEM)), webhooksOf(t, objs)); d != "" {
		t.Errorf("chart webhook vs iamgate init's (-init +chart):\n%s", d)
	}
	if _, err := renderChart(t, "-set-string", "clusterID=prod", "-set-string", "admissionWebhook.caBundle=bm90IGEgY2VydA=="); err == nil ||
		!strings.Contains(err.Error(), "base64-encoded PEM CA certificate") {
		t.Errorf("a caBundle that is no certificate: %v", err)
	}
}

// overlay writes a kustomization using the base and the admission
// component, with the caBundle patched in, and builds it.
func overlay(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	base := filepath.Join(repoRoot(t), "deploy", "base")
	rel := func(p string) string {
		r, err := filepath.Rel(dir, p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := "resources:\n- " + rel(base) + "\ncomponents:\n- " + rel(filepath.Join(base, "admission")) + `
patches:
- target: {kind: ValidatingWebhookConfiguration, name: iamgate-aws-auth}
  patch: |-
    - op: add
      path: /webhooks/0/clientConfig/caBundle
      value: ` + base64.StdEncoding.EncodeToString([]byte(testCAPEM)) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	return []byte(mustKubectl(t, "", nil, "kustomize", dir))
}

// TestBaseAdmissionComponent: the base's admission component, with the
// caBundle patched in as its comment says, is the registration iamgate
// init writes; the base alone has none.
func TestBaseAdmissionComponent(t *testing.T) {
	if n := len(byKind(decode(t, buildBase(t)), "ValidatingWebhookConfiguration")); n != 0 {
		t.Fatalf("the base has %d ValidatingWebhookConfigurations, want none until an overlay opts in", n)
	}
	if d := cmp.Diff(wantWebhooks(t, []byte(testCAPEM)), webhooksOf(t, decode(t, overlay(t)))); d != "" {
		t.Errorf("component webhook vs iamgate init's (-init +component):\n%s", d)
	}
}

// TestAPIServerAdmissionManifests: the chart and the overlay with the
// webhook on are accepted by a real kube-apiserver (server-side dry-run).
func TestAPIServerAdmissionManifests(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	b64 := base64.StdEncoding.EncodeToString([]byte(testCAPEM))
	chart := mustRenderChart(t, "-include-crds", "-set-string", "clusterID=prod", "-set-string", "admissionWebhook.caBundle="+b64)
	for name, m := range map[string][]byte{"chart": chart, "overlay": overlay(t)} {
		out := mustKubectl(t, env.Kubeconfig, m, "apply", "-f", "-", "--dry-run=server")
		if !strings.Contains(out, "validatingwebhookconfiguration.admissionregistration.k8s.io/iamgate-aws-auth created (server dry run)") {
			t.Errorf("%s: the webhook registration was not accepted:\n%s", name, out)
		}
	}
}
