package crd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

const acct = "111122223333"

func roleARN(name string) string { return "arn:aws:iam::" + acct + ":role/" + name }

func session(role, sess string) mapping.Identity {
	return mapping.Identity{ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + sess,
		CanonicalARN: roleARN(role), AccountID: acct, UserID: "AROAEXAMPLE1111:" + sess, SessionName: sess}
}

// mapped returns the username id maps to, "" when not mapped.
func mapped(t *testing.T, b *Backend, id mapping.Identity) string {
	t.Helper()
	r, err := b.Map(context.Background(), id)
	if errors.Is(err, mapping.ErrNotMapped) {
		return ""
	}
	if err != nil {
		t.Fatalf("Map(%s): %v", id.ARN, err)
	}
	return r.Username
}

// TestAPIServerCRD runs every CRD scenario against one real kube-apiserver.
func TestAPIServerCRD(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	dyn, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("CRDInstalledLater", func(t *testing.T) {
		b := start(t, dyn, Options{})
		eventually(t, "a list error to be counted", func() bool { return testutil.ToFloat64(b.metrics.LoadErrors) > 0 })
		if b.HasSynced() {
			t.Fatal("synced without the CRD")
		}
		installCRD(t, env)
		eventually(t, "sync after the CRD is installed", b.HasSynced)
	})
	t.Run("FirstListIsConsistentRead", func(t *testing.T) { testFirstListConsistent(t, env) })
	t.Run("Conformance", func(t *testing.T) { testConformance(t, dyn) })
	t.Run("InvalidObjects", func(t *testing.T) { testInvalidObjects(t, dyn) })
	t.Run("AIAObjects", func(t *testing.T) { testAIAObjects(t, dyn, env.Kubeconfig) })
	t.Run("NewestDuplicateWins", func(t *testing.T) { testDuplicates(t, dyn) })
	t.Run("InvalidNewerObjectShadows", func(t *testing.T) { testInvalidNewerShadows(t, dyn) })
	t.Run("OverlappingPatternsDeny", func(t *testing.T) { testOverlappingPatterns(t, dyn) })
	t.Run("SameSecondTieDenies", func(t *testing.T) { testSameSecondTie(t, dyn) })
	t.Run("LiveChanges", func(t *testing.T) { testLiveChanges(t, dyn) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, dyn) })
	t.Run("LeastPrivilegeRBAC", func(t *testing.T) { testLeastPrivilege(t, env, dyn) })
}

// testLeastPrivilege runs the backend as a user holding exactly the RBAC
// docs/backends-crd-dynamicfile.md gives: get/list/watch on the objects,
// patch on their status.
func testLeastPrivilege(t *testing.T, env *kube.Env, admin dynamic.Interface) {
	deleteAll(t, admin)
	ctx := context.Background()
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "iamgate-iamidentitymappings"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{Group}, Resources: []string{Resource}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{Group}, Resources: []string{Resource + "/status"}, Verbs: []string{"patch"}},
		},
	}
	if _, err := env.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "iamgate-iamidentitymappings"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "iamgate"}},
	}
	if _, err := env.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "iamgate"}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The user may not write specs: only the status is iamgate's.
	if _, err := dyn.Resource(GVR).Create(ctx, object("nope", roleARN("x"), "x", nil, ""), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("create as iamgate: %v, want Forbidden", err)
	}
	create(t, admin, object("rbac", roleARN("admin"), "admin", nil, ""))
	b := start(t, dyn, Options{})
	waitObjects(t, b, "rbac")
	if got := mapped(t, b, session("admin", "s")); got != "admin" {
		t.Errorf("admin maps to %q", got)
	}
	eventually(t, "status written with least privilege", func() bool {
		c, ok := validCondition(t, admin, "rbac")
		return ok && c.Status == "True"
	})
	if got := testutil.ToFloat64(b.metrics.LoadErrors); got != 0 {
		t.Errorf("load errors = %v with least privilege, want 0", got)
	}
}

func testInvalidObjects(t *testing.T, dyn dynamic.Interface) {
	deleteAll(t, dyn)
	invalid := map[string]struct {
		obj  *unstructured.Unstructured
		want string
	}{
		"bad-account":    {object("bad-account", "arn:aws:iam::1234:role/x", "x", nil, ""), "12 digits"},
		"bad-template":   {object("bad-template", roleARN("dev"), "dev-{{SesionName}}", nil, ""), "unknown variable {{SesionName}}"},
		"empty-username": {object("empty-username", roleARN("ops"), "", nil, ""), "username is empty"},
		"federated":      {object("federated", "arn:aws:sts::"+acct+":federated-user/bob", "bob", nil, ""), "federated-user"},
		"empty-group":    {object("empty-group", roleARN("qa"), "qa", []string{"ok", ""}, ""), "groups[1] is empty"},
		"bad-userid":     {object("bad-userid", roleARN("ci"), "ci", nil, "AROA:x"), "userid"},
	}
	names := []string{"valid", "pinned"}
	create(t, dyn, object("valid", roleARN("Admin"), "admin", []string{"system:masters"}, ""))
	create(t, dyn, object("pinned", roleARN("pinned"), "pinned", nil, "AROAEXAMPLE1111"))
	for name, tc := range invalid {
		create(t, dyn, tc.obj)
		names = append(names, name)
	}
	b := start(t, dyn, Options{})
	waitObjects(t, b, names...)

	if got := mapped(t, b, session("admin", "s")); got != "admin" {
		t.Errorf("valid object: admin maps to %q", got)
	}
	// Each invalid object still names its role, so it denies it (rather
	// than "not mapped", which would let a later backend decide).
	for _, role := range []string{"dev", "ops", "qa", "ci"} {
		if !denied(b, session(role, "s")) {
			t.Errorf("invalid object for %s: maps to %q, want a deny", role, username(b, session(role, "s")))
		}
	}
	if got := testutil.ToFloat64(b.metrics.Invalid); got != float64(len(invalid)) {
		t.Errorf("invalid gauge = %v, want %d", got, len(invalid))
	}
	for _, name := range []string{"valid", "pinned"} {
		eventually(t, "status of the valid object "+name, func() bool {
			c, ok := validCondition(t, dyn, name)
			return ok && c.Status == "True" && c.Reason == ReasonValid
		})
	}
	o := get(t, dyn, "valid")
	if canon, _, _ := unstructured.NestedString(o.Object, "status", "canonicalARN"); canon != strings.ToLower(roleARN("Admin")) {
		t.Errorf("status.canonicalARN = %q, want the lower-cased ARN", canon)
	}
	if uid, found, _ := unstructured.NestedString(o.Object, "status", "userID"); found {
		t.Errorf("status.userID = %q, want it unset: spec.userID is not set (iamgate does not look IDs up)", uid)
	}
	if uid, found, _ := unstructured.NestedString(get(t, dyn, "pinned").Object, "status", "userID"); uid != "AROAEXAMPLE1111" {
		t.Errorf("pinned object: status.userID = %q (set: %v), want spec.userID AROAEXAMPLE1111", uid, found)
	}
	for name, tc := range invalid {
		eventually(t, "Valid=False on "+name, func() bool {
			c, ok := validCondition(t, dyn, name)
			return ok && c.Status == "False"
		})
		c, _ := validCondition(t, dyn, name)
		o := get(t, dyn, name)
		if c.Reason != ReasonInvalidSpec || !strings.Contains(c.Message, tc.want) || c.ObservedGeneration != o.GetGeneration() {
			t.Errorf("%s: condition %+v, want reason %s, message containing %q, observedGeneration %d",
				name, c, ReasonInvalidSpec, tc.want, o.GetGeneration())
		}
		if _, found, _ := unstructured.NestedString(o.Object, "status", "canonicalARN"); found {
			t.Errorf("%s: invalid object got a canonicalARN", name)
		}
		if uid, found, _ := unstructured.NestedString(o.Object, "status", "userID"); found {
			t.Errorf("%s: invalid object got status.userID %q", name, uid)
		}
	}

	// Settled status is not rewritten (no write loop between the informer
	// and the status writer).
	before := get(t, dyn, "bad-template").GetResourceVersion()
	time.Sleep(time.Second)
	if after := get(t, dyn, "bad-template").GetResourceVersion(); after != before {
		t.Errorf("settled object rewritten: resourceVersion %s → %s", before, after)
	}

	// Fixing the spec makes the object valid and used.
	patch := []byte(`{"spec":{"username":"dev-{{SessionName}}"}}`)
	if _, err := dyn.Resource(GVR).Patch(context.Background(), "bad-template", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fixed object used", func() bool { return username(b, session("dev", "s1")) == "dev-s1" })
	eventually(t, "fixed object Valid=True", func() bool {
		c, ok := validCondition(t, dyn, "bad-template")
		return ok && c.Status == "True" && c.ObservedGeneration == 2
	})
	if got := testutil.ToFloat64(b.metrics.Invalid); got != float64(len(invalid)-1) {
		t.Errorf("invalid gauge after the fix = %v, want %d", got, len(invalid)-1)
	}
}

// aiaDocs are objects as aws-iam-authenticator's README and
// deploy/example-iamidentitymapping.yaml write them (the second with a
// role and a template).
const aiaDocs = `---
apiVersion: iamauthenticator.k8s.aws/v1alpha1
kind: IAMIdentityMapping
metadata:
  name: kubernetes-admin
spec:
  arn: arn:aws:iam::111122223333:user/KubernetesAdmin
  username: kubernetes-admin
  groups:
  - system:masters
---
apiVersion: iamauthenticator.k8s.aws/v1alpha1
kind: IAMIdentityMapping
metadata:
  name: devops
spec:
  arn: arn:aws:iam::111122223333:role/DevOps
  username: devops:{{SessionName}}
  groups:
  - devops
`

func testAIAObjects(t *testing.T, dyn dynamic.Interface, kubeconfig string) {
	deleteAll(t, dyn)
	file := filepath.Join(t.TempDir(), "aia.yaml")
	if err := os.WriteFile(file, []byte(aiaDocs), 0o600); err != nil {
		t.Fatal(err)
	}
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	kubectl("apply", "-f", file)
	// aws-iam-authenticator's controller would already have written this.
	aiaStatus := []byte(`{"status":{"canonicalARN":"arn:aws:iam::111122223333:user/kubernetesadmin"}}`)
	if _, err := dyn.Resource(GVR).Patch(context.Background(), "kubernetes-admin", types.MergePatchType, aiaStatus,
		metav1.PatchOptions{FieldManager: "aws-iam-authenticator"}, "status"); err != nil {
		t.Fatal(err)
	}

	b := start(t, dyn, Options{})
	waitObjects(t, b, "kubernetes-admin", "devops")
	admin := mapping.Identity{ARN: "arn:aws:iam::111122223333:user/KubernetesAdmin", AccountID: acct, UserID: "AIDAEXAMPLE1111"}
	r, err := b.Map(context.Background(), admin)
	if err != nil || r.Username != "kubernetes-admin" || len(r.Groups) != 1 || r.Groups[0] != "system:masters" {
		t.Fatalf("KubernetesAdmin: %+v, %v", r, err)
	}
	if !strings.Contains(r.Source, "(IAMIdentityMapping kubernetes-admin)") {
		t.Errorf("Source = %q, want it to name the object", r.Source)
	}
	if got := mapped(t, b, session("DevOps", "carol@example.com")); got != "devops:carol-example.com" {
		t.Errorf("DevOps role maps to %q", got)
	}
	eventually(t, "Valid column in kubectl get", func() bool {
		out := kubectl("get", "iamidentitymappings")
		return strings.Count(out, "True") == 2 && strings.Contains(out, "arn:aws:iam::111122223333:user/KubernetesAdmin")
	})
	if canon, _, _ := unstructured.NestedString(get(t, dyn, "kubernetes-admin").Object, "status", "canonicalARN"); canon != "arn:aws:iam::111122223333:user/kubernetesadmin" {
		t.Errorf("status.canonicalARN = %q", canon)
	}
}

func testDuplicates(t *testing.T, dyn dynamic.Interface) {
	deleteAll(t, dyn)
	create(t, dyn, object("z-older", roleARN("admin"), "old", nil, ""))
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has one-second resolution
	create(t, dyn, object("a-newer", roleARN("ADMIN"), "new", nil, ""))
	b := start(t, dyn, Options{})
	waitObjects(t, b, "z-older", "a-newer")
	if got := mapped(t, b, session("admin", "s")); got != "new" {
		t.Errorf("admin maps to %q, want the newer object's %q", got, "new")
	}
	eventually(t, "DuplicateARN on the older object", func() bool {
		c, ok := validCondition(t, dyn, "z-older")
		return ok && c.Status == "False" && c.Reason == ReasonDuplicateARN && strings.Contains(c.Message, `"a-newer"`)
	})
	if err := dyn.Resource(GVR).Delete(context.Background(), "a-newer", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "older object used again", func() bool { return mapped(t, b, session("admin", "s")) == "old" })
	eventually(t, "older object Valid=True", func() bool {
		c, ok := validCondition(t, dyn, "z-older")
		return ok && c.Status == "True"
	})
}

func testLiveChanges(t *testing.T, dyn dynamic.Interface) {
	deleteAll(t, dyn)
	b := start(t, dyn, Options{})
	waitObjects(t, b)
	create(t, dyn, object("live", roleARN("admin"), "admin", nil, ""))
	eventually(t, "created object used", func() bool { return mapped(t, b, session("admin", "s")) == "admin" })
	patch := []byte(`{"spec":{"arn":"` + roleARN("dev") + `"}}`)
	if _, err := dyn.Resource(GVR).Patch(context.Background(), "live", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "edited object used", func() bool { return mapped(t, b, session("dev", "s")) == "admin" })
	if got := mapped(t, b, session("admin", "s")); got != "" {
		t.Errorf("old ARN still maps to %q", got)
	}
	if err := dyn.Resource(GVR).Delete(context.Background(), "live", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted object dropped", func() bool { return mapped(t, b, session("dev", "s")) == "" })
}

func testReadOnly(t *testing.T, dyn dynamic.Interface) {
	deleteAll(t, dyn)
	create(t, dyn, object("ro", roleARN("admin"), "admin", nil, ""))
	b := start(t, dyn, Options{ReadOnly: true})
	waitObjects(t, b, "ro")
	if got := mapped(t, b, session("admin", "s")); got != "admin" {
		t.Errorf("admin maps to %q", got)
	}
	time.Sleep(500 * time.Millisecond)
	if st, found, _ := unstructured.NestedMap(get(t, dyn, "ro").Object, "status"); found {
		t.Errorf("read-only backend wrote status %v", st)
	}
}
