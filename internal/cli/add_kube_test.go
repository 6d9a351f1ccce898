package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// awsAuthManifest is an aws-auth as clusters have it: comments, the node
// role, an admin, mapAccounts, a key iamgate does not read, labels and
// annotations.
const awsAuthManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
  labels:
    app.kubernetes.io/managed-by: hand
  annotations:
    team: platform
data:
  mapRoles: |
    # nodes (do not touch)
    - rolearn: arn:aws:iam::111122223333:role/eks-node
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes

    # break-glass
    - rolearn: arn:aws:iam::111122223333:role/Admin
      username: admin:{{SessionName}}
      groups: [system:masters]
  mapUsers: |
    - userarn: arn:aws:iam::111122223333:user/alice
      username: alice
      groups:
        - ops
    - userarn: arn:aws:iam::111122223333:user/alice
      username: alice-again
  mapAccounts: |
    - "444455556666"   # partner account
  notes: "kept as is"
`

type editEnv struct {
	t   *testing.T
	env *kube.Env
	dir string
}

func (e *editEnv) kubectl(stdin string, args ...string) string {
	e.t.Helper()
	cmd := kubectlCmd(e.t, e.env.Kubeconfig, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// reset puts the manifest's aws-auth back, replacing whatever is there.
func (e *editEnv) reset() {
	e.t.Helper()
	_ = e.env.Client.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), "aws-auth", metav1.DeleteOptions{})
	e.kubectl(awsAuthManifest, "create", "-f", "-")
}

func (e *editEnv) data() map[string]string {
	e.t.Helper()
	cm, err := e.env.Client.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "aws-auth", metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return cm.Data
}

// run runs iamgate in-process against the apiserver.
func (e *editEnv) run(args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--kubeconfig", e.env.Kubeconfig)
	code := Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func (e *editEnv) mustRun(args ...string) (string, string) {
	e.t.Helper()
	code, out, errs := e.run(args...)
	if code != 0 {
		e.t.Fatalf("iamgate %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errs)
	}
	return out, errs
}

func (e *editEnv) mustFail(want string, args ...string) string {
	e.t.Helper()
	code, out, errs := e.run(args...)
	if code == 0 {
		e.t.Fatalf("iamgate %v succeeded, want a refusal\nstdout: %s\nstderr: %s", args, out, errs)
	}
	if !strings.Contains(errs, want) {
		e.t.Fatalf("iamgate %v: stderr %q, want it to contain %q", args, errs, want)
	}
	return errs
}

func TestAPIServerEdits(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	e := &editEnv{t: t, env: env, dir: t.TempDir()}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []struct {
		name string
		run  func(*editEnv)
	}{
		{"AddChangesOnlyItsEntry", testAddChangesOnlyItsEntry},
		{"DuplicateRefusedReplaceInPlace", testDuplicateRefusedReplace},
		{"DryRunWritesNothing", testDryRunWritesNothing},
		{"RemoveSeveralNeedsAll", testRemoveSeveralNeedsAll},
		{"LockoutRefused", testLockoutRefused},
		{"InvalidEntryRefused", testInvalidEntryRefused},
		{"CreatesMissingConfigMap", testCreatesMissing},
		{"PromptAnswers", testPromptAnswers},
		{"Mappings", testMappingsListsEntries},
	} {
		t.Run(sc.name, func(t *testing.T) {
			e.t = t
			e.reset()
			sc.run(e)
		})
	}
	t.Run("CRD", func(t *testing.T) {
		e.t = t
		e.kubectl("", "apply", "-k", filepath.Join(root, "deploy", "crd"))
		e.kubectl("", "wait", "--for", "condition=Established", "--timeout", "30s", "crd/iamidentitymappings.iamauthenticator.k8s.aws")
		testCRDAddRemove(e)
	})
}

func testAddChangesOnlyItsEntry(e *editEnv) {
	before := e.data()
	_, errs := e.mustRun("add", "role", "--rolearn", "arn:aws:iam::111122223333:role/devs", "--username", "devs:{{SessionName}}",
		"--groups", "devs", "--groups", "viewers", "--prompt=false")
	if !strings.Contains(errs, "kube-system/aws-auth updated: mapRoles: added arn:aws:iam::111122223333:role/devs") {
		e.t.Errorf("stderr = %q", errs)
	}
	after := e.data()
	// Like the entry before it: groups as a flow list.
	want := before["mapRoles"] + "- rolearn: arn:aws:iam::111122223333:role/devs\n  username: devs:{{SessionName}}\n  groups: [devs, viewers]\n"
	if after["mapRoles"] != want {
		e.t.Errorf("mapRoles =\n%q\nwant\n%q", after["mapRoles"], want)
	}
	for _, k := range []string{"mapUsers", "mapAccounts", "notes"} {
		if after[k] != before[k] {
			e.t.Errorf("%s changed:\n%q\nwas\n%q", k, after[k], before[k])
		}
	}
	meta := e.kubectl("", "get", "cm", "aws-auth", "-n", "kube-system", "-o", "jsonpath={.metadata.labels}{.metadata.annotations}")
	if meta != `{"app.kubernetes.io/managed-by":"hand"}{"team":"platform"}` {
		e.t.Errorf("labels and annotations = %s", meta)
	}
}

func testDuplicateRefusedReplace(e *editEnv) {
	before := e.data()
	e.mustFail("mapRoles already maps arn:aws:iam::111122223333:role/admin", "add", "role", "--rolearn", "arn:aws:iam::111122223333:role/admin",
		"--username", "x", "--prompt=false")
	if e.data()["mapRoles"] != before["mapRoles"] {
		e.t.Fatal("a refused duplicate changed mapRoles")
	}
	e.mustRun("add", "role", "--rolearn", "arn:aws:iam::111122223333:role/Admin", "--username", "admin:{{SessionName}}",
		"--groups", "system:masters,audit", "--replace", "--prompt=false")
	want := strings.Replace(before["mapRoles"], "  groups: [system:masters]\n", "  groups: [system:masters, audit]\n", 1)
	if got := e.data()["mapRoles"]; got != want {
		e.t.Errorf("after --replace mapRoles =\n%s\nwant\n%s", got, want)
	}
}

func testDryRunWritesNothing(e *editEnv) {
	before := e.kubectl("", "get", "cm", "aws-auth", "-n", "kube-system", "-o", "yaml")
	out, errs := e.mustRun("add", "user", "--userarn", "arn:aws:iam::111122223333:user/bob", "--username", "bob", "--groups", "ops", "--dry-run")
	wantDiff := "--- a/kube-system/aws-auth/data/mapUsers\n+++ b/kube-system/aws-auth/data/mapUsers\n@@ -4,5 +4,9 @@\n" +
		"     - ops\n - userarn: arn:aws:iam::111122223333:user/alice\n   username: alice-again\n" +
		"+- userarn: arn:aws:iam::111122223333:user/bob\n+  username: bob\n+  groups:\n+    - ops\n"
	if !strings.HasPrefix(out, wantDiff[:60]) || !strings.Contains(out, "+- userarn: arn:aws:iam::111122223333:user/bob\n+  username: bob\n") {
		e.t.Errorf("dry-run diff =\n%s\nwant like\n%s", out, wantDiff)
	}
	if !strings.Contains(errs, "dry run, nothing written") {
		e.t.Errorf("stderr = %q", errs)
	}
	if after := e.kubectl("", "get", "cm", "aws-auth", "-n", "kube-system", "-o", "yaml"); after != before {
		e.t.Errorf("--dry-run changed aws-auth:\n%s", after)
	}
}

func testRemoveSeveralNeedsAll(e *editEnv) {
	errs := e.mustFail("2 mapUsers entries map arn:aws:iam::111122223333:user/alice; nothing removed (pass --all",
		"remove", "user", "--userarn", "arn:aws:iam::111122223333:user/alice", "--prompt=false")
	if !strings.Contains(errs, "mapUsers[0] (line 1)") || !strings.Contains(errs, "mapUsers[1] (line 5)") {
		e.t.Errorf("the refusal does not list both entries with their lines: %s", errs)
	}
	before := e.data()
	e.mustRun("remove", "user", "--userarn", "arn:aws:iam::111122223333:user/ALICE", "--all", "--prompt=false")
	after := e.data()
	if after["mapUsers"] != "" || after["mapRoles"] != before["mapRoles"] || after["mapAccounts"] != before["mapAccounts"] {
		e.t.Errorf("after remove --all: %q", after)
	}
	e.mustRun("remove", "account", "444455556666", "--prompt=false")
	if got := e.data()["mapAccounts"]; got != "" {
		e.t.Errorf("mapAccounts after remove = %q", got)
	}
	e.mustFail("no mapRoles entry maps arn:aws:iam::111122223333:role/nobody", "remove", "role", "--rolearn", "arn:aws:iam::111122223333:role/nobody", "--prompt=false")
}

func testLockoutRefused(e *editEnv) {
	e.mustFail("this edit removes the last entry that maps the node role", "remove", "role", "--rolearn", "arn:aws:iam::111122223333:role/eks-node", "--prompt=false")
	e.mustFail("this edit removes the last entry that grants system:masters", "remove", "role", "--rolearn", "arn:aws:iam::111122223333:role/Admin", "--prompt=false")
	// Replacing the admin with a non-admin mapping takes system:masters away too.
	e.mustFail("grants system:masters", "add", "role", "--rolearn", "arn:aws:iam::111122223333:role/Admin", "--username", "admin", "--replace", "--prompt=false")
	before := e.data()["mapRoles"]
	e.mustRun("remove", "role", "--rolearn", "arn:aws:iam::111122223333:role/eks-node", "--force", "--prompt=false")
	want := strings.Replace(before, "# nodes (do not touch)\n- rolearn: arn:aws:iam::111122223333:role/eks-node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n\n", "", 1)
	if got := e.data()["mapRoles"]; got != want {
		e.t.Errorf("after --force mapRoles =\n%q\nwant\n%q", got, want)
	}
}

func testInvalidEntryRefused(e *editEnv) {
	before := e.data()
	e.mustFail("the server would refuse this entry: username", "add", "role", "--rolearn", "arn:aws:iam::111122223333:role/x", "--username", "system:admin", "--prompt=false")
	e.mustFail("the server would refuse this entry: username", "add", "role", "--rolearn", "arn:aws:iam::111122223333:role/x", "--username", "{{Nope}}", "--prompt=false", "--force")
	e.mustFail("--username is required", "add", "user", "--userarn", "arn:aws:iam::111122223333:user/x", "--prompt=false")
	if after := e.data(); after["mapRoles"] != before["mapRoles"] || after["mapUsers"] != before["mapUsers"] {
		e.t.Error("a refused entry was written")
	}
}

func testCreatesMissing(e *editEnv) {
	if err := e.env.Client.CoreV1().ConfigMaps("kube-system").Delete(context.Background(), "aws-auth", metav1.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}
	_, errs := e.mustRun("add", "account", "111122223333", "--prompt=false", "-o", "json")
	if !strings.Contains(errs, "kube-system/aws-auth created (it did not exist): mapAccounts: added account 111122223333") {
		e.t.Errorf("stderr = %q", errs)
	}
	if got := e.data(); got["mapAccounts"] != "- \"111122223333\"\n" || len(got) != 1 {
		e.t.Errorf("created data = %q", got)
	}
}

func testPromptAnswers(e *editEnv) {
	var out, errb bytes.Buffer
	args := []string{"add", "group", "--grouparn", "arn:aws:iam::111122223333:group/ops", "--username", "ops:{{SessionName}}", "--groups", "ops", "--kubeconfig", e.env.Kubeconfig}
	if code := Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader("n\n"), Out: &out, Err: &errb}); code == 0 || e.data()["mapGroups"] != "" {
		e.t.Fatalf("answering n: exit %d, mapGroups %q", code, e.data()["mapGroups"])
	}
	if !strings.Contains(errb.String(), "+- grouparn: arn:aws:iam::111122223333:group/ops") || !strings.Contains(errb.String(), "Apply this change? [y/N]") {
		e.t.Errorf("prompt = %q", errb.String())
	}
	if code := Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader("y\n"), Out: &out, Err: &errb}); code != 0 {
		e.t.Fatalf("answering y: exit %d: %s", code, errb.String())
	}
	if got := e.data()["mapGroups"]; got != "- grouparn: arn:aws:iam::111122223333:group/ops\n  username: ops:{{SessionName}}\n  groups:\n  - ops\n" {
		e.t.Errorf("mapGroups = %q", got)
	}
}

func testMappingsListsEntries(e *editEnv) {
	out, _ := e.mustRun("mappings", "-o", "json")
	var rows []listedRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		e.t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 5 {
		e.t.Fatalf("%d rows, want 5:\n%s", len(rows), out)
	}
	first, dup := rows[2], rows[3]
	if first.Section != "mapUsers" || first.Line != 1 || first.State != "shadowed" || !strings.Contains(first.Reason, "mapUsers[1] (line 5)") {
		e.t.Errorf("the shadowed alice entry = %+v", first)
	}
	if dup.State != "active" || dup.Username != "alice-again" || rows[0].Username != "system:node:{{EC2PrivateDNSName}}" || rows[0].Line != 2 {
		e.t.Errorf("rows = %+v", rows)
	}
	if rows[4].Kind != "account" || rows[4].Matches != "444455556666" {
		e.t.Errorf("account row = %+v", rows[4])
	}
	table, _ := e.mustRun("mappings")
	if !strings.Contains(table, "shadowed: a later entry for the same principal wins") || !strings.HasPrefix(table, "BACKEND") {
		e.t.Errorf("table =\n%s", table)
	}
}

func testCRDAddRemove(e *editEnv) {
	crd := []string{"--backend", "CRD", "--prompt=false"}
	out, _ := e.mustRun(append([]string{"add", "role", "--rolearn", "arn:aws:iam::111122223333:role/crd-devs", "--username", "devs:{{SessionName}}", "--groups", "devs", "--dry-run"}, crd...)...)
	if !strings.Contains(out, "+++ b/iamidentitymapping/111122223333-role-crd-devs-") || !strings.Contains(out, "+  arn: arn:aws:iam::111122223333:role/crd-devs") {
		e.t.Errorf("CRD dry-run diff =\n%s", out)
	}
	if got := e.kubectl("", "get", "iamidentitymappings", "-o", "name"); strings.TrimSpace(got) != "" && !strings.Contains(got, "No resources") {
		e.t.Fatalf("--dry-run created an object: %s", got)
	}
	e.mustRun(append([]string{"add", "role", "--rolearn", "arn:aws:iam::111122223333:role/crd-devs", "--username", "devs:{{SessionName}}", "--groups", "devs"}, crd...)...)
	e.mustRun(append([]string{"add", "role", "--rolearn", "arn:aws:iam::111122223333:role/crd-admin", "--username", "admin", "--groups", "system:masters"}, crd...)...)
	got := e.kubectl("", "get", "iamidentitymappings", "-o", "jsonpath={range .items[*]}{.spec.arn} {.spec.username} {.spec.groups}{\"\\n\"}{end}")
	if !strings.Contains(got, "arn:aws:iam::111122223333:role/crd-devs devs:{{SessionName}} [\"devs\"]") {
		e.t.Errorf("objects:\n%s", got)
	}
	e.mustFail("IAMIdentityMapping already maps", append([]string{"add", "role", "--rolearn", "arn:aws:iam::111122223333:role/CRD-devs", "--username", "x"}, crd...)...)
	e.mustFail("grants system:masters", append([]string{"remove", "role", "--rolearn", "arn:aws:iam::111122223333:role/crd-admin"}, crd...)...)
	e.mustFail("no sso field", append([]string{"add", "role", "--sso", "permissionSetName=A,accountID=111122223333", "--username", "x"}, crd...)...)
	_, errs := e.mustRun(append([]string{"remove", "role", "--rolearn", "arn:aws:iam::111122223333:role/crd-devs"}, crd...)...)
	if !strings.Contains(errs, "deleted 1 IAMIdentityMapping object") {
		e.t.Errorf("stderr = %q", errs)
	}
	if got := e.kubectl("", "get", "iamidentitymappings", "-o", "jsonpath={.items[*].spec.arn}"); got != "arn:aws:iam::111122223333:role/crd-admin" {
		e.t.Errorf("after remove: %q", got)
	}
}

func kubectlCmd(t *testing.T, kubeconfig string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not installed: %v", err)
	}
	return exec.Command(bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
}
