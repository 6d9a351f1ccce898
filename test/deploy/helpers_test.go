// Package deploy_test checks the shipped manifests: the kustomize base and
// the Helm chart must be accepted by a real kube-apiserver (server-side
// dry-run), must grant iamgate no more than its backends need, and must ship
// a config the server itself loads.
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// repoRoot is the module root, two levels above this file.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// kubectlPath is the installed kubectl (1.32 here, with kustomize built in).
func kubectlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not found on PATH: %v (the deploy tests need it)", err)
	}
	return p
}

// kubectl runs kubectl against kubeconfig (none when empty) with stdin, in a
// HOME of its own so its caches stay out of the user's.
func kubectl(t *testing.T, kubeconfig string, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if kubeconfig != "" {
		args = append([]string{"--kubeconfig", kubeconfig}, args...)
	}
	cmd := exec.Command(kubectlPath(t), args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "KUBECONFIG=")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

func mustKubectl(t *testing.T, kubeconfig string, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, kubeconfig, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// buildBase is `kubectl kustomize deploy/base`.
func buildBase(t *testing.T) []byte {
	t.Helper()
	return []byte(mustKubectl(t, "", nil, "kustomize", filepath.Join(repoRoot(t), "deploy", "base")))
}

// renderChart renders deploy/helm/iamgate with hack/helmrender (the Helm Go
// packages: no helm binary can be installed here) and the given flags.
func renderChart(t *testing.T, flags ...string) ([]byte, error) {
	t.Helper()
	root := repoRoot(t)
	args := append([]string{"run", ".", "-chart", filepath.Join(root, "deploy", "helm", "iamgate")}, flags...)
	cmd := exec.Command("go", args...)
	cmd.Dir = filepath.Join(root, "hack", "helmrender")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, errors.New(strings.TrimSpace(errb.String()) + ": " + err.Error())
	}
	return out.Bytes(), nil
}

func mustRenderChart(t *testing.T, flags ...string) []byte {
	t.Helper()
	out, err := renderChart(t, flags...)
	if err != nil {
		t.Fatalf("render chart %v: %v", flags, err)
	}
	return out
}

// decode splits a multi-document YAML stream into objects.
func decode(t *testing.T, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decode manifests: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// byKind returns the objects of one kind.
func byKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func one(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	got := byKind(objs, kind)
	if len(got) != 1 {
		t.Fatalf("%d objects of kind %s, want 1", len(got), kind)
	}
	return got[0]
}

// writeTemp writes data to a fresh file and returns its path.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
