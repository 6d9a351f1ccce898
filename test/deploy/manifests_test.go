package deploy_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping"
)

// The only permissions iamgate may hold.
const wantRoleRules = `
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [aws-auth]
  verbs: [get, list, watch]
`

const wantClusterRoleRules = `
- apiGroups: [iamauthenticator.k8s.aws]
  resources: [iamidentitymappings]
  verbs: [get, list, watch]
- apiGroups: [iamauthenticator.k8s.aws]
  resources: [iamidentitymappings/status]
  verbs: [patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
`

func yamlList(t *testing.T, s string) []any {
	t.Helper()
	var v []any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkLeastPrivilege asserts the RBAC objects grant exactly the rules
// above, to the iamgate ServiceAccount only, and nothing broader anywhere.
func checkLeastPrivilege(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, kind := range []string{"Role", "ClusterRole"} {
		for _, o := range byKind(objs, kind) {
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			for _, r := range rules {
				text, _ := yaml.Marshal(r)
				for _, bad := range []string{"'*'", "\"*\"", "secrets", "nonResourceURLs", "escalate", "bind", "impersonate"} {
					if strings.Contains(string(text), bad) {
						t.Errorf("%s %s grants %s:\n%s", kind, o.GetName(), bad, text)
					}
				}
			}
		}
	}
	role := one(t, objs, "Role")
	if role.GetNamespace() != "kube-system" {
		t.Errorf("Role in namespace %q, want kube-system (where aws-auth lives)", role.GetNamespace())
	}
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	if d := cmp.Diff(yamlList(t, wantRoleRules), rules); d != "" {
		t.Errorf("Role rules (-want +got):\n%s", d)
	}
	cr := one(t, objs, "ClusterRole")
	rules, _, _ = unstructured.NestedSlice(cr.Object, "rules")
	if d := cmp.Diff(yamlList(t, wantClusterRoleRules), rules); d != "" {
		t.Errorf("ClusterRole rules (-want +got):\n%s", d)
	}

	sa := one(t, objs, "ServiceAccount")
	wantSubjects := []any{map[string]any{"kind": "ServiceAccount", "name": sa.GetName(), "namespace": "kube-system"}}
	for kind, roleKind := range map[string]string{"RoleBinding": "Role", "ClusterRoleBinding": "ClusterRole"} {
		b := one(t, objs, kind)
		ref, _, _ := unstructured.NestedStringMap(b.Object, "roleRef")
		wantName := role.GetName()
		if roleKind == "ClusterRole" {
			wantName = cr.GetName()
		}
		if ref["kind"] != roleKind || ref["name"] != wantName {
			t.Errorf("%s binds %v, want %s %s", kind, ref, roleKind, wantName)
		}
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		if d := cmp.Diff(wantSubjects, subjects); d != "" {
			t.Errorf("%s subjects (-want +got):\n%s", kind, d)
		}
	}
}

// checkDaemonSet asserts the placement and wiring the issue asks for.
func checkDaemonSet(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ds := one(t, objs, "DaemonSet")
	spec, _, _ := unstructured.NestedMap(ds.Object, "spec", "template", "spec")
	sa := one(t, objs, "ServiceAccount").GetName()
	if ds.GetNamespace() != "kube-system" || spec["hostNetwork"] != true || spec["priorityClassName"] != "system-node-critical" ||
		spec["serviceAccountName"] != sa {
		t.Errorf("DaemonSet placement: ns %q, hostNetwork %v, priorityClassName %v, serviceAccountName %v",
			ds.GetNamespace(), spec["hostNetwork"], spec["priorityClassName"], spec["serviceAccountName"])
	}
	if sel, _, _ := unstructured.NestedStringMap(spec, "nodeSelector"); sel["node-role.kubernetes.io/control-plane"] != "" || len(sel) != 1 {
		t.Errorf("nodeSelector = %v", sel)
	}
	tols, _, _ := unstructured.NestedSlice(spec, "tolerations")
	if !strings.Contains(mustYAML(t, tols), "key: node-role.kubernetes.io/control-plane") {
		t.Errorf("no control-plane toleration: %v", tols)
	}
	containers, _, _ := unstructured.NestedSlice(spec, "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers", len(containers))
	}
	c := containers[0].(map[string]any)
	if d := cmp.Diff([]any{"server", "-c", "/etc/iamgate/config.yaml"}, c["args"]); d != "" {
		t.Errorf("args (-want +got):\n%s", d)
	}
	for _, probe := range []string{"readinessProbe", "livenessProbe"} {
		get, _, _ := unstructured.NestedMap(c, probe, "httpGet")
		if get["port"] != int64(21363) && get["port"] != float64(21363) || get["host"] != "127.0.0.1" {
			t.Errorf("%s = %v, want 127.0.0.1:21363", probe, get)
		}
	}
	text := mustYAML(t, spec)
	for _, want := range []string{"mountPath: /etc/iamgate\n", "path: /var/aws-iam-authenticator\n", "mountPath: /var/aws-iam-authenticator\n",
		"path: /etc/kubernetes/aws-iam-authenticator\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("pod spec lacks %q", strings.TrimSpace(want))
		}
	}
	cm := one(t, objs, "ConfigMap")
	if !strings.Contains(text, "name: "+cm.GetName()+"\n") {
		t.Errorf("pod does not mount ConfigMap %s", cm.GetName())
	}
	if one(t, objs, "CustomResourceDefinition").GetName() != "iamidentitymappings.iamauthenticator.k8s.aws" {
		t.Error("wrong CRD")
	}
}

// checkConfigLoads parses the shipped config with the server's own loader.
func checkConfigLoads(t *testing.T, objs []*unstructured.Unstructured) *config.Config {
	t.Helper()
	data, _, _ := unstructured.NestedString(one(t, objs, "ConfigMap").Object, "data", "config.yaml")
	c, err := config.Parse([]byte(data), "config.yaml")
	if err != nil {
		t.Fatalf("shipped config does not parse: %v\n%s", err, data)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("iamgate server would refuse the shipped config: %v\n%s", err, data)
	}
	if c.Server.Address != "127.0.0.1" || c.Server.HealthPort != 21363 || c.Server.StateDir != "/var/aws-iam-authenticator" ||
		c.Server.GenerateKubeconfig != "/etc/kubernetes/aws-iam-authenticator/kubeconfig.yaml" {
		t.Errorf("config does not match the DaemonSet's probes and mounts: %+v", c.Server)
	}
	return c
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBaseManifests(t *testing.T) {
	objs := decode(t, buildBase(t))
	checkLeastPrivilege(t, objs)
	checkDaemonSet(t, objs)
	c := checkConfigLoads(t, objs)
	if d := cmp.Diff([]string{"MountedFile", "EKSConfigMap", "CRD"}, c.Server.BackendMode); d != "" {
		t.Errorf("backendMode (-want +got):\n%s", d)
	}
}

func TestChartManifests(t *testing.T) {
	objs := decode(t, mustRenderChart(t, "-include-crds", "-set-string", "clusterID=prod"))
	checkLeastPrivilege(t, objs)
	checkDaemonSet(t, objs)
	if c := checkConfigLoads(t, objs); c.ClusterID != "prod" {
		t.Errorf("clusterID = %q", c.ClusterID)
	}
}

// TestChartValues covers the values that change the output.
func TestChartValues(t *testing.T) {
	values := writeTemp(t, "values.yaml", []byte(`
clusterID: lab
image: {repository: registry.internal/iamgate, tag: v9}
backendMode: [MountedFile]
mappings:
  mapRoles:
  - roleARN: arn:aws:iam::111122223333:role/Admin
    username: admin:{{SessionName}}
    groups: [system:masters]
  mapAccounts: ["012345678901"]
config:
  partition: aws-cn
`))
	objs := decode(t, mustRenderChart(t, "-values", values))
	// MountedFile alone reads nothing from the cluster: no RBAC at all.
	for _, kind := range []string{"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"} {
		if n := len(byKind(objs, kind)); n != 0 {
			t.Errorf("%d %s objects for backendMode [MountedFile]", n, kind)
		}
	}
	c := checkConfigLoads(t, objs)
	var roles []mapping.Entry
	var accounts []string
	for _, e := range c.Server.Mappings {
		switch e.Kind {
		case mapping.KindRole:
			roles = append(roles, e)
		case mapping.KindAccount:
			accounts = append(accounts, e.Account)
		}
	}
	if c.ClusterID != "lab" || c.Server.Partition != "aws-cn" || len(roles) != 1 ||
		roles[0].Username != "admin:{{SessionName}}" || cmp.Diff([]string{"012345678901"}, accounts) != "" {
		t.Errorf("config from values: %+v", c)
	}
	if img := mustYAML(t, one(t, objs, "DaemonSet").Object); !strings.Contains(img, "image: registry.internal/iamgate:v9") {
		t.Error("image values not used")
	}

	if _, err := renderChart(t); err == nil || !strings.Contains(err.Error(), "clusterID is required") {
		t.Errorf("render without clusterID: %v", err)
	}
	bad := writeTemp(t, "bad.yaml", []byte("clusterID: x\nmappings: {mapAccounts: [12345678901]}\n"))
	if _, err := renderChart(t, "-values", bad); err == nil || !strings.Contains(err.Error(), "must be a quoted string") {
		t.Errorf("unquoted account id: %v", err)
	}
}

// TestBaseAndChartAgree: the chart renders the same pod as the base, apart
// from the image, the generated ConfigMap name and Helm's annotations.
func TestBaseAndChartAgree(t *testing.T) {
	base := decode(t, buildBase(t))
	chart := decode(t, mustRenderChart(t, "-include-crds", "-set-string", "clusterID=CHANGE-ME"))
	pod := func(objs []*unstructured.Unstructured) map[string]any {
		spec, _, _ := unstructured.NestedMap(one(t, objs, "DaemonSet").Object, "spec", "template", "spec")
		c := spec["containers"].([]any)[0].(map[string]any)
		delete(c, "image")
		delete(c, "imagePullPolicy")
		vols := spec["volumes"].([]any)
		vols[0].(map[string]any)["configMap"] = "CONFIGMAP"
		// Round-trip through YAML so numbers compare alike.
		var out map[string]any
		if err := yaml.Unmarshal([]byte(mustYAML(t, spec)), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if d := cmp.Diff(pod(base), pod(chart)); d != "" {
		t.Errorf("pod spec, base (-) vs chart (+):\n%s", d)
	}
	kinds := func(objs []*unstructured.Unstructured) map[string]int {
		m := map[string]int{}
		for _, o := range objs {
			m[o.GetKind()]++
		}
		return m
	}
	if d := cmp.Diff(kinds(base), kinds(chart)); d != "" {
		t.Errorf("object kinds, base (-) vs chart (+):\n%s", d)
	}
	cfg := func(objs []*unstructured.Unstructured) *config.Config { return checkConfigLoads(t, objs) }
	if d := cmp.Diff(cfg(base).Server, cfg(chart).Server); d != "" {
		t.Errorf("server config, base (-) vs chart (+):\n%s", d)
	}
}
