package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// whoCanScale writes n role entries (one group each, every tenth also a
// fixed username) and n bindings, half ClusterRoleBindings of a pod reader
// to the even groups, half RoleBindings of a pod deleter to the odd users.
func whoCanScale(t testing.TB, env *kube.Env, n int) string {
	t.Helper()
	ctx := context.Background()
	rbac := env.Client.RbacV1()
	reader := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "scale-reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	if _, err := rbac.ClusterRoles().Create(ctx, reader, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deleter := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "scale-deleter", Namespace: "default"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "delete"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}
	if _, err := rbac.Roles("default").Create(ctx, deleter, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var cfg strings.Builder
	cfg.WriteString("server:\n  mapRoles:\n")
	for i := range n {
		user := fmt.Sprintf("u%d:{{SessionName}}", i)
		if i%10 == 0 {
			user = fmt.Sprintf("u%d", i)
		}
		fmt.Fprintf(&cfg, "  - rolearn: arn:aws:iam::111122223333:role/r%d\n    username: %q\n    groups: [g%d]\n", i, user, i)
		var err error
		if i%2 == 0 {
			_, err = rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b%d", i)},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "scale-reader"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("g%d", i)}}}, metav1.CreateOptions{})
		} else {
			_, err = rbac.RoleBindings("default").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("b%d", i), Namespace: "default"},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "scale-deleter"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("u%d", i)}}}, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// who-can over 2,000 entries and 2,000 bindings: every allowed row is
// confirmed by the authorizer, templated usernames only by their groups,
// and it answers in seconds (docs/benchmarks.md has the figure).
func TestAPIServerWhoCanAtScale(t *testing.T) {
	const n = 2000
	env := kube.Start(t, kube.Options{})
	cfg := whoCanScale(t, env, n)
	for _, tc := range []struct {
		verb           string
		allowed, maybe int
		concurrency    string
	}{
		// get: the even groups (reader) and the odd fixed usernames, none
		// of which exist (every tenth is even); delete: only fixed odd
		// usernames could, there are none, and 900 templated odd ones
		// (u1:{{SessionName}}...) cannot match "u1": not even possible.
		{"get", n / 2, 0, "8"},
		{"delete", 0, 0, "8"},
		// The same question one review at a time, for the benchmark's ratio.
		{"get", n / 2, 0, "1"},
	} {
		start := time.Now()
		var out, errb bytes.Buffer
		code := Run(context.Background(), []string{"who-can", tc.verb, "pods", "-n", "default", "-c", cfg, "--kubeconfig", env.Kubeconfig, "-o", "json",
			"--concurrency", tc.concurrency},
			Deps{}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
		took := time.Since(start)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var ans whoCanAnswer
		if err := json.Unmarshal(out.Bytes(), &ans); err != nil {
			t.Fatal(err)
		}
		if ans.Entries != n || ans.Bindings < n || len(ans.Allowed) != tc.allowed || len(ans.Possible) != tc.maybe {
			t.Errorf("%s: %d entries, %d bindings, %d allowed, %d possible; want %d allowed, %d possible",
				tc.verb, ans.Entries, ans.Bindings, len(ans.Allowed), len(ans.Possible), tc.allowed, tc.maybe)
		}
		for _, r := range ans.Allowed {
			if len(r.Via) != 1 || !strings.HasPrefix(r.Via[0], "clusterrolebinding/b") {
				t.Errorf("row %+v: want one clusterrolebinding", r)
				break
			}
		}
		t.Logf("who-can %s pods --concurrency %s: %d entries, %d bindings, %d SubjectAccessReviews in %v", tc.verb, tc.concurrency, ans.Entries, ans.Bindings, ans.Subjects, took.Round(time.Millisecond))
		if took > 30*time.Second {
			t.Errorf("who-can took %v", took)
		}
	}
}
