package deploy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// TestAPIServerManifests applies the kustomize base and the rendered
// chart with server-side dry-run against a real kube-apiserver (schema,
// admission, RBAC escalation checks all run), so a broken manifest fails
// here. Then it applies the base for real and asks the apiserver what the
// ServiceAccount may do.
func TestAPIServerManifests(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	kc := env.Kubeconfig
	base := filepath.Join(repoRoot(t), "deploy", "base")

	t.Run("kustomize base dry-run", func(t *testing.T) {
		out := mustKubectl(t, kc, nil, "apply", "-k", base, "--dry-run=server")
		for _, want := range []string{
			"customresourcedefinition.apiextensions.k8s.io/iamidentitymappings.iamauthenticator.k8s.aws created (server dry run)",
			"serviceaccount/iamgate created (server dry run)",
			"role.rbac.authorization.k8s.io/iamgate created (server dry run)",
			"clusterrole.rbac.authorization.k8s.io/iamgate created (server dry run)",
			"daemonset.apps/iamgate created (server dry run)",
			"configmap/iamgate-config-",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("apply output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("helm chart dry-run", func(t *testing.T) {
		manifests := mustRenderChart(t, "-include-crds", "-set-string", "clusterID=prod")
		out := mustKubectl(t, kc, manifests, "apply", "-f", "-", "--dry-run=server")
		if n := strings.Count(out, "(server dry run)"); n != len(decode(t, manifests)) {
			t.Errorf("%d objects accepted, want %d:\n%s", n, len(decode(t, manifests)), out)
		}
	})

	t.Run("a broken manifest is refused", func(t *testing.T) {
		// The dry-run must really reach validation: a DaemonSet whose
		// probe port is out of range is refused by the server.
		manifests := strings.Replace(string(mustRenderChart(t, "-set-string", "clusterID=prod")), "port: 21363", "port: 70000", 1)
		if out, errOut, err := kubectl(t, kc, []byte(manifests), "apply", "-f", "-", "--dry-run=server"); err == nil ||
			!strings.Contains(errOut, "Invalid value") {
			t.Errorf("broken DaemonSet accepted: %v\n%s%s", err, out, errOut)
		}
	})

	t.Run("service account rights", func(t *testing.T) {
		mustKubectl(t, kc, nil, "apply", "-k", base)
		as := "--as=system:serviceaccount:kube-system:iamgate"
		for _, tc := range []struct {
			args []string
			want bool
		}{
			{[]string{"get", "configmaps/aws-auth", "-n", "kube-system"}, true},
			{[]string{"watch", "configmaps/aws-auth", "-n", "kube-system"}, true},
			{[]string{"get", "configmaps/kubeadm-config", "-n", "kube-system"}, false},
			{[]string{"list", "configmaps", "-n", "kube-system"}, false},
			{[]string{"update", "configmaps/aws-auth", "-n", "kube-system"}, false},
			{[]string{"get", "configmaps/aws-auth", "-n", "default"}, false},
			{[]string{"get", "secrets", "-A"}, false},
			{[]string{"list", "secrets", "-n", "kube-system"}, false},
			{[]string{"list", "iamidentitymappings.iamauthenticator.k8s.aws"}, true},
			{[]string{"watch", "iamidentitymappings.iamauthenticator.k8s.aws"}, true},
			{[]string{"patch", "iamidentitymappings.iamauthenticator.k8s.aws", "--subresource=status"}, true},
			{[]string{"update", "iamidentitymappings.iamauthenticator.k8s.aws", "--subresource=status"}, false},
			{[]string{"patch", "iamidentitymappings.iamauthenticator.k8s.aws"}, false},
			{[]string{"delete", "iamidentitymappings.iamauthenticator.k8s.aws"}, false},
			{[]string{"create", "events", "-n", "kube-system"}, true},
			{[]string{"patch", "events", "-n", "default"}, true},
			{[]string{"delete", "events", "-n", "kube-system"}, false},
			{[]string{"list", "pods", "-A"}, false},
		} {
			out, _, _ := kubectl(t, kc, nil, append([]string{"auth", "can-i", as}, tc.args...)...)
			if got := strings.TrimSpace(out) == "yes"; got != tc.want {
				t.Errorf("can-i %v = %q, want %v", tc.args, strings.TrimSpace(out), tc.want)
			}
		}
		// resourceNames limits list too: the backend's list with the field
		// selector metadata.name=aws-auth is allowed, a plain list is not.
		mustKubectl(t, kc, nil, "get", "configmaps", "-n", "kube-system", "--field-selector", "metadata.name=aws-auth", as)
		if _, errOut, err := kubectl(t, kc, nil, "get", "configmaps", "-n", "kube-system", as); err == nil || !strings.Contains(errOut, "Forbidden") {
			t.Errorf("unfiltered list allowed: %v %s", err, errOut)
		}
	})
}
