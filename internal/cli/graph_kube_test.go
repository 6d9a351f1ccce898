package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/graph/browsertest"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// seedAWSAuthManifest is the seed scenario's aws-auth, as eksctl writes it.
const seedAWSAuthManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/eks/NodeInstanceRole
      username: system:node:{{EC2PrivateDNSName}}
      groups: [system:bootstrappers, system:nodes]
    - rolearn: arn:aws:iam::111122223333:role/platform/ClusterAdmin
      username: admin:{{SessionName}}
      groups: [system:masters]
    - rolearn: arn:aws:iam::111122223333:role/K10Operator
      username: k10-old
      groups: [k10:admin]
    - rolearn: arn:aws:iam::111122223333:role/K10Operator
      username: k10:{{SessionName}}
      groups: [k10:basic]
    - rolearn: arn:aws:iam::111122223333:role/team-*
      username: team:{{SessionName}}
      groups: [viewers]
  mapUsers: |
    - userarn: arn:aws:iam::111122223333:user/alice
      username: alice
      groups: [dev]
  mapAccounts: |
    - "444455556666"
---
# K10's basic role (kubectl create clusterrole checks the API has the
# resource; this cluster has no K10 CRDs).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: k10-basic
rules:
- apiGroups: [apps.kio.kasten.io]
  resources: [restorepoints, applications]
  verbs: [get, list]
- apiGroups: [actions.kio.kasten.io]
  resources: [backupactions, restoreactions]
  verbs: [get, list, create]
`

// seedSSOConfig is the server's -c file: an SSO permission set.
const seedSSOConfig = `clusterID: lab
featureGates: SSORoleMatch=true
server:
  backendMode: [MountedFile, EKSConfigMap]
  mapRoles:
  - sso:
      permissionSetName: ReadOnly
      accountID: "111122223333"
    username: ro:{{SessionName}}
    groups: [viewers]
`

// seedRBAC is made with kubectl, as an admin would: K10's basic
// ClusterRole for k10:basic, alice's Role in apps, dev and viewers as
// viewers of apps, and a binding whose role is missing.
var seedRBAC = [][]string{
	{"create", "namespace", "apps"},
	{"create", "clusterrolebinding", "k10-basic", "--clusterrole=k10-basic", "--group=k10:basic"},
	{"create", "role", "deployer", "-n", "apps", "--verb=*", "--resource=deployments.apps"},
	{"create", "rolebinding", "alice-deployer", "-n", "apps", "--role=deployer", "--user=alice"},
	{"create", "rolebinding", "viewers", "-n", "apps", "--clusterrole=view", "--group=dev", "--group=viewers"},
	{"create", "rolebinding", "ops-gone", "-n", "apps", "--role=gone", "--group=viewers"},
}

func seedCluster(t *testing.T) (*kube.Env, string) {
	t.Helper()
	env := kube.Start(t, kube.Options{})
	dir := t.TempDir()
	cm := filepath.Join(dir, "aws-auth.yaml")
	if err := os.WriteFile(cm, []byte(seedAWSAuthManifest), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range append([][]string{{"apply", "-f", cm}}, seedRBAC...) {
		if _, errOut, err := kubectlWith(t, env.Kubeconfig, args...); err != nil {
			t.Fatalf("kubectl %v: %v\n%s", args, err, errOut)
		}
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(seedSSOConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return env, cfg
}

func runIn(t *testing.T, deps Deps, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, deps, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// TestAPIServerGraph draws the seed scenario from a real kube-apiserver:
// its aws-auth ConfigMap and the RBAC kubectl made, plus the -c file's SSO
// entry; Graphviz renders the DOT and Chromium the page. With
// IAMGATE_GRAPH_DOCS=DIR it leaves the outputs (and a screenshot) there for
// docs/graph.md.
func TestAPIServerGraph(t *testing.T) {
	env, cfg := seedCluster(t)
	deps := Deps{Getenv: func(string) string { return "" }}
	base := []string{"graph", "-c", cfg, "--kubeconfig", env.Kubeconfig}

	code, dot, errs := runIn(t, deps, append(base, "-o", "dot")...)
	if code != 0 {
		t.Fatalf("graph -o dot: exit %d: %s", code, errs)
	}
	for _, want := range []string{
		`label="role 111122223333:role/K10Operator"`, `label="ClusterRoleBinding k10-basic"`, `label="ClusterRole k10-basic"`,
		`label="RoleBinding apps/alice-deployer"`, `label="Role apps/deployer"`, `label="sso ReadOnly in 111122223333"`,
		`label="system:masters\nunrestricted (no binding needed)"`, `label="Role apps/gone\nmissing: grants nothing"`,
		"shadowed: a later entry for the same principal wins: kube-system/aws-auth mapRoles[3]",
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %s", want)
		}
	}
	code, mermaid, errs := runIn(t, deps, append(base, "-o", "mermaid")...)
	if code != 0 || !strings.HasPrefix(mermaid, "flowchart LR\n") || !strings.Contains(mermaid, "RoleBinding apps/viewers") {
		t.Errorf("graph -o mermaid: exit %d %s\n%s", code, errs, mermaid)
	}
	code, page, errs := runIn(t, deps, append(base, "-o", "html", "--title", "lab cluster access")...)
	if code != 0 {
		t.Fatalf("graph -o html: exit %d: %s", code, errs)
	}
	out := t.TempDir()
	if d := os.Getenv("IAMGATE_GRAPH_DOCS"); d != "" {
		out = d
	}
	for name, body := range map[string]string{"seed.dot": dot, "seed.mmd": mermaid, "seed.html": page} {
		if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dotBin := browsertest.Need(t, "graphviz", "dot")
	if b, err := exec.Command(dotBin, "-Tsvg", "-o", filepath.Join(out, "seed.svg"), filepath.Join(out, "seed.dot")).CombinedOutput(); err != nil {
		t.Errorf("dot: %v %s", err, b)
	}
	p := browsertest.Open(t, "file://"+filepath.Join(out, "seed.html"))
	var ids []string
	p.Eval(t, shownIDsJS, &ids)
	for _, want := range []string{"group:k10:basic", "binding:clusterrolebinding/k10-basic", "role:role/apps/deployer", "group:system:masters"} {
		if !containsString(ids, want) {
			t.Errorf("page lacks node %s", want)
		}
	}
	if probs := p.Problems(); len(probs) > 0 {
		t.Errorf("page problems: %q", probs)
	}
	if os.Getenv("IAMGATE_GRAPH_DOCS") != "" {
		p.Screenshot(t, filepath.Join(out, "graph-seed.png"))
	}
}

const shownIDsJS = `Array.from(document.querySelectorAll('#graph .node')).map(function (g) { return g.getAttribute('data-id'); })`

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestGraphRefusesUnknownFormat(t *testing.T) {
	code, _, errs := runCLI(t, "graph", "-o", "png")
	if code != 1 || !strings.Contains(errs, `unsupported output format "png" (dot, mermaid or html)`) {
		t.Errorf("exit %d: %s", code, errs)
	}
}
