package rbacview_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/iamgate/iamgate/internal/rbacview"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

func kubectl(t *testing.T, kubeconfig string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not installed: %v", err)
	}
	out, err := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// seed writes the diagnostics' seed RBAC with kubectl: K10's basic group,
// a namespaced reader, a user bound directly, a binding to every
// authenticated user and one whose role does not exist.
func seed(t *testing.T, env *kube.Env) {
	kc := env.Kubeconfig
	kubectl(t, kc, "create", "namespace", "apps")
	kubectl(t, kc, "create", "clusterrole", "k10-basic", "--verb=get,list", "--resource=pods,pods/log,deployments.apps")
	kubectl(t, kc, "create", "clusterrolebinding", "k10-basic", "--clusterrole=k10-basic", "--group=k10:basic")
	kubectl(t, kc, "create", "role", "cm-editor", "-n", "apps", "--verb=update", "--resource=configmaps", "--resource-name=settings")
	kubectl(t, kc, "create", "rolebinding", "alice-cm", "-n", "apps", "--role=cm-editor", "--user=alice")
	kubectl(t, kc, "create", "clusterrole", "ns-reader", "--verb=list", "--resource=namespaces")
	kubectl(t, kc, "create", "clusterrolebinding", "everyone-ns", "--clusterrole=ns-reader", "--group=system:authenticated")
	kubectl(t, kc, "create", "clusterrolebinding", "dangling", "--clusterrole=does-not-exist", "--user=alice")
}

func TestAPIServerRBACViewMatchesAuthorizer(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	seed(t, env)
	ctx := context.Background()
	s, err := rbacview.Load(ctx, env.Client)
	if err != nil {
		t.Fatal(err)
	}

	alice := rbacview.Subjects{User: "alice"}
	names := map[string]string{}
	for _, m := range s.For(alice) {
		names[m.Binding.String()] = m.Via
	}
	for want, via := range map[string]string{
		"rolebinding/apps/alice-cm":      "User alice",
		"clusterrolebinding/dangling":    "User alice",
		"clusterrolebinding/everyone-ns": "Group system:authenticated",
	} {
		if names[want] != via {
			t.Errorf("For(alice): %s via %q, want via %q (all: %v)", want, names[want], via, names)
		}
	}
	if _, ok := names["clusterrolebinding/k10-basic"]; ok {
		t.Errorf("For(alice) names k10-basic, which binds only group k10:basic")
	}
	for _, b := range s.Bindings {
		if b.Name == "dangling" && b.Role != nil {
			t.Errorf("dangling binding has a role: %+v", b.Role)
		}
		if b.Name == "k10-basic" && b.Kind == rbacview.KindClusterRoleBinding {
			got := strings.Join(rbacview.Summarize(b.Role.Rules), "; ")
			if !strings.Contains(got, "get,list pods,pods/log") || !strings.Contains(got, "deployments.apps") {
				t.Errorf("k10-basic summary %q", got)
			}
		}
	}

	// The local matcher names the bindings; the authorizer decides. They
	// must agree on every seeded case, including the ones that differ by
	// one attribute.
	k10 := rbacview.Subjects{User: "bob", Groups: []string{"k10:basic"}}
	cases := []struct {
		sub  rbacview.Subjects
		req  rbacview.Request
		want bool
	}{
		{k10, rbacview.Request{Verb: "get", Resource: "pods", Namespace: "apps"}, true},
		{k10, rbacview.Request{Verb: "get", Resource: "pods", Subresource: "log", Namespace: "apps"}, true},
		{k10, rbacview.Request{Verb: "get", Resource: "pods", Subresource: "exec", Namespace: "apps"}, false},
		{k10, rbacview.Request{Verb: "delete", Resource: "pods", Namespace: "apps"}, false},
		{k10, rbacview.Request{Verb: "list", Group: "apps", Resource: "deployments"}, true},
		{k10, rbacview.Request{Verb: "list", Resource: "deployments"}, false},
		{k10, rbacview.Request{Verb: "list", Resource: "namespaces"}, true},
		{alice, rbacview.Request{Verb: "update", Resource: "configmaps", Namespace: "apps", Name: "settings"}, true},
		{alice, rbacview.Request{Verb: "update", Resource: "configmaps", Namespace: "apps", Name: "other"}, false},
		{alice, rbacview.Request{Verb: "update", Resource: "configmaps", Namespace: "apps"}, false},
		{alice, rbacview.Request{Verb: "update", Resource: "configmaps", Namespace: "default", Name: "settings"}, false},
		{rbacview.Subjects{Groups: []string{"k10:basic"}}, rbacview.Request{Verb: "list", Resource: "pods"}, true},
	}
	for _, c := range cases {
		d, err := rbacview.Review(ctx, env.Client, c.sub, nil, c.req)
		if err != nil {
			t.Fatal(err)
		}
		local := len(rbacview.Granting(s.For(c.sub), c.req)) > 0
		if d.Allowed != c.want || local != c.want {
			t.Errorf("%+v %s: authorizer %v (%s), local %v, want %v", c.sub, c.req, d.Allowed, d.Reason, local, c.want)
		}
	}

	// system:masters is unrestricted; the default cluster-admin binding
	// names it too, and the authorizer agrees.
	m := rbacview.Subjects{User: "root", Groups: []string{rbacview.Masters}}
	req := rbacview.Request{Verb: "delete", Resource: "nodes"}
	d, err := rbacview.Review(ctx, env.Client, m, nil, req)
	if err != nil || !d.Allowed || !rbacview.Unrestricted(m.Groups) || rbacview.Unrestricted(k10.Groups) {
		t.Errorf("system:masters: %+v %v", d, err)
	}
	if g := rbacview.Granting(s.For(m), req); len(g) != 1 || g[0].Binding.Name != "cluster-admin" {
		t.Errorf("system:masters granted through bindings %v, want the default cluster-admin", g)
	}
}

// A kubeconfig without RBAC rights gets one line naming the permission and
// the shipped ClusterRole; an unreachable cluster names the address.
func TestAPIServerRBACViewErrors(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{}
	admin := rest.CopyConfig(env.Config)
	admin.Impersonate = rest.ImpersonationConfig{UserName: "nobody", Groups: []string{"system:authenticated"}}
	c, err := kubernetes.NewForConfig(admin)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rbacview.Load(context.Background(), c)
	if !errors.Is(err, rbacview.ErrForbidden) || !strings.Contains(err.Error(), "list clusterroles") ||
		!strings.Contains(err.Error(), rbacview.ClusterRoleFile) {
		t.Errorf("Load as nobody: %v", err)
	}
	_, err = rbacview.Review(context.Background(), c, rbacview.Subjects{User: "x"}, nil, rbacview.Request{Verb: "get", Resource: "pods"})
	if !errors.Is(err, rbacview.ErrForbidden) || !strings.Contains(err.Error(), "create subjectaccessreviews") {
		t.Errorf("Review as nobody: %v", err)
	}

	cfg.Host = "https://127.0.0.1:1"
	c, err = kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rbacview.Load(context.Background(), c); !errors.Is(err, rbacview.ErrUnreachable) {
		t.Errorf("Load from a closed port: %v", err)
	}
}
