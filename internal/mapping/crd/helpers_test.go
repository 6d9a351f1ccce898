package crd

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

const manifest = "../../../deploy/crd/iamidentitymappings.yaml"

// installCRD creates the CRD from the shipped manifest (decoded strictly,
// so a misspelt field in it fails here) and waits until it is served.
func installCRD(t *testing.T, env *kube.Env) {
	t.Helper()
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		t.Fatalf("decode %s: %v", manifest, err)
	}
	cs, err := apiextensions.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, &crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	eventually(t, "CRD established", func() bool {
		got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range got.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true
			}
		}
		return false
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// object is an IAMIdentityMapping as a user would write it.
func object(name, arn, username string, groups []string, userID string) *unstructured.Unstructured {
	spec := map[string]any{"arn": arn, "username": username}
	if groups != nil {
		gs := make([]any, len(groups))
		for i, g := range groups {
			gs[i] = g
		}
		spec["groups"] = gs
	}
	if userID != "" {
		spec["userID"] = userID
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": Group + "/" + Version, "kind": Kind,
		"metadata": map[string]any{"name": name},
		"spec":     spec,
	}}
}

func create(t *testing.T, dyn dynamic.Interface, o *unstructured.Unstructured) {
	t.Helper()
	if _, err := dyn.Resource(GVR).Create(context.Background(), o, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", o.GetName(), err)
	}
}

func get(t *testing.T, dyn dynamic.Interface, name string) *unstructured.Unstructured {
	t.Helper()
	o, err := dyn.Resource(GVR).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return o
}

// deleteAll removes every IAMIdentityMapping (they are cluster-scoped, so
// subtests share them) and waits until a quorum read shows none.
func deleteAll(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	if err := dyn.Resource(GVR).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("delete all: %v", err)
	}
	eventually(t, "objects deleted", func() bool {
		l, err := dyn.Resource(GVR).List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) == 0
	})
}

// start runs a backend until the test ends.
func start(t *testing.T, dyn dynamic.Interface, opts Options) *Backend {
	t.Helper()
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Logger == nil && !testing.Verbose() {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	b, err := New(dyn, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return b
}

// waitObjects waits until the backend has synced and its mappings were
// built from exactly the named objects. HasSynced alone is not enough in
// tests that reuse names or delete objects: the informer's first list may
// come from the apiserver's watch cache, a moment behind the writes.
func waitObjects(t *testing.T, b *Backend, names ...string) {
	t.Helper()
	want := slices.Clone(names)
	sort.Strings(want)
	eventually(t, "backend to see "+fmtNames(want), func() bool {
		if !b.HasSynced() {
			return false
		}
		var got []string
		for n := range b.snap.Load().verdicts {
			got = append(got, n)
		}
		sort.Strings(got)
		return slices.Equal(got, want)
	})
}

func fmtNames(ns []string) string {
	if len(ns) == 0 {
		return "no objects"
	}
	s := ns[0]
	for _, n := range ns[1:] {
		s += "," + n
	}
	return s
}

// validCondition returns the object's Valid condition from the apiserver.
func validCondition(t *testing.T, dyn dynamic.Interface, name string) (condition, bool) {
	t.Helper()
	return currentCondition(get(t, dyn, name))
}
