package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// TestAPIServerLintLive: --live reads aws-auth from a real kube-apiserver
// and reports the granted group no binding names (and not the bound one).
func TestAPIServerLintLive(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"}, Data: map[string]string{
		"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/eks-node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n" +
			"- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev\n  groups: [devs, viewers]\n",
	}}
	if _, err := env.Client.CoreV1().ConfigMaps("kube-system").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "viewers"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "viewers"}}}
	if _, err := env.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runLintCLI(t, "", "--live", "--kubeconfig", env.Kubeconfig)
	want := `kube-system/aws-auth mapRoles:6: warning: group "devs" is granted to arn:aws:iam::111122223333:role/dev but no RoleBinding or ClusterRoleBinding names it`
	if code != 0 || !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
		t.Errorf("lint --live: exit %d\n out %q\nwant %q…\n err %q", code, out, want, errs)
	}
	if code, _, _ := runLintCLI(t, "", "--live", "--strict", "--kubeconfig", env.Kubeconfig); code != 1 {
		t.Errorf("--strict with a warning: exit %d, want 1", code)
	}

	cm.Data["mapRoles"] += "- rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n  username: a\n"
	if _, err := env.Client.CoreV1().ConfigMaps("kube-system").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runLintCLI(t, "", "--live", "--kubeconfig", env.Kubeconfig); code != 1 || !strings.Contains(out, "kube-system/aws-auth mapRoles:7: error: ") {
		t.Errorf("lint --live with an error: exit %d\n%s", code, out)
	}

	// A cluster that does not answer: exit 2.
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	_ = os.WriteFile(kc, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n"+
		"contexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {}}]\n"), 0o600)
	if code, _, errs := runLintCLI(t, "", "--live", "--kubeconfig", kc); code != 2 || !strings.Contains(errs, "lint --live") {
		t.Errorf("unreachable cluster: exit %d err %q", code, errs)
	}
}
