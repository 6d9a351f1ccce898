package configmap

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/crd"
	"github.com/iamgate/iamgate/internal/mapping/dynamicfile"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// These tests need no apiserver: they cover parsing and the parts of the
// backend that act before any request is made.

func TestLoadSeedHasNoProblems(t *testing.T) {
	l := loadDefault(seedAwsAuth)
	if l.Err() != nil || len(l.Skipped) != 0 || len(l.ignored) != 0 {
		t.Fatalf("load(seed) = err %v, skipped %v, ignored %v; want none", l.Err(), l.Skipped, l.ignored)
	}
	if r, u, a := l.Table.Counts(); r != 3 || u != 0 || a != 0 {
		t.Errorf("counts = %d %d %d, want 3 0 0", r, u, a)
	}
}

func TestLoadFormats(t *testing.T) {
	// AIA reads the keys with a YAML-to-JSON step, so JSON lists and plain
	// integer account IDs are in use and must keep working.
	l := loadDefault(map[string]string{
		"mapRoles":    `[{"rolearn":"arn:aws:iam::111122223333:role/admin","username":"admin","groups":["system:masters"]}]`,
		"mapUsers":    "- userARN: arn:aws:iam::111122223333:user/alice\n  Username: alice\n",
		"mapAccounts": "- 444455556666\n- \"111122223333\"\n",
	})
	if l.Err() != nil || len(l.Skipped) != 0 {
		t.Fatalf("err %v, skipped %v", l.Err(), l.Skipped)
	}
	if r, u, a := l.Table.Counts(); r != 1 || u != 1 || a != 2 {
		t.Errorf("counts = %d %d %d, want 1 1 2", r, u, a)
	}
}

func TestLoadEmpty(t *testing.T) {
	for _, data := range []map[string]string{nil, {"mapRoles": ""}, {"mapRoles": "[]", "mapUsers": "null\n"}} {
		l := loadDefault(data)
		if l.Err() != nil || l.Table == nil {
			t.Fatalf("load(%v) = %v, want an empty table", data, l.Err())
		}
		if r, u, a := l.Table.Counts(); r+u+a != 0 {
			t.Errorf("load(%v) counts %d %d %d, want 0", data, r, u, a)
		}
	}
}

func TestLoadIgnoresOtherKeys(t *testing.T) {
	l := loadDefault(map[string]string{"mapRoles": "[]", "zeta": "x", "maproles": "- x", "MapUsers": "[]"})
	if want := []string{"MapUsers", "maproles", "zeta"}; !slices.Equal(l.ignored, want) {
		t.Errorf("ignored = %q, want %q", l.ignored, want)
	}
	if l.Err() != nil {
		t.Errorf("err = %v; unknown keys must not reject the data", l.Err())
	}
}

func TestLoadRejectsWholeDataOnFatalProblem(t *testing.T) {
	good := "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n"
	for name, data := range map[string]map[string]string{
		"yaml syntax":          {"mapUsers": good, "mapRoles": "- rolearn: [\n"},
		"unknown template":     {"mapUsers": good, "mapRoles": "- rolearn: arn:aws:iam::111122223333:role/a\n  username: '{{Session}}'\n"},
		"section not a list":   {"mapUsers": good, "mapAccounts": "account: 111122223333\n"},
		"two documents":        {"mapUsers": good + "---\n- userarn: arn:aws:iam::111122223333:user/b\n  username: b\n"},
		"stray template brace": {"mapUsers": "- userarn: arn:aws:iam::111122223333:user/a\n  username: a}}\n"},
	} {
		l := loadDefault(data)
		if l.Err() == nil || l.Table != nil {
			t.Errorf("%s: load = table %v, err %v; want rejected", name, l.Table != nil, l.Err())
		}
	}
}

func TestLoadSkipsInvalidEntries(t *testing.T) {
	l := loadDefault(map[string]string{
		"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/ok\n  username: ok\n" +
			"- rolearn: arn:aws:iam::111122223333:role/x\n  username: x\n  sso: {}\n",
		"mapAccounts": "- 1234\n- \"111122223333\"\n",
	})
	if l.Err() != nil {
		t.Fatal(l.Err())
	}
	var sections []string
	for _, p := range l.Skipped {
		sections = append(sections, p.Origin.Section)
	}
	if !slices.Equal(sections, []string{"mapRoles", "mapAccounts"}) {
		t.Errorf("skipped sections %q, want mapRoles, mapAccounts", sections)
	}
	if r, _, a := l.Table.Counts(); r != 1 || a != 1 {
		t.Errorf("counts roles %d accounts %d, want 1 1", r, a)
	}
}

// unreachableClient talks to a port nothing listens on; New and Map never
// use it.
func unreachableClient(t *testing.T) kubernetes.Interface {
	c, err := kubernetes.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMapBeforeSyncDenies(t *testing.T) {
	b, err := New(unreachableClient(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != "EKSConfigMap" || b.ns != "kube-system" || b.name != "aws-auth" {
		t.Errorf("Name %q, object %s/%s; want EKSConfigMap, kube-system/aws-auth", b.Name(), b.ns, b.name)
	}
	if b.HasSynced() {
		t.Error("HasSynced before Run")
	}
	if _, err := b.Map(context.Background(), session("Admin", "s")); !errors.Is(err, ErrNotSynced) || errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("Map before sync = %v, want ErrNotSynced (never ErrNotMapped, which falls through)", err)
	}
}

func TestRunOnceAndStops(t *testing.T) {
	b, err := New(unreachableClient(t), Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	// The second call must come after the first has started: were it first
	// (a slow scheduler), it would run until cancel and the test would hang.
	for deadline := time.Now().Add(10 * time.Second); !b.started.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("Run did not start within 10s")
		}
	}
	if err := b.Run(ctx); err == nil {
		t.Error("second Run succeeded")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if b.HasSynced() {
		t.Error("HasSynced with an unreachable apiserver")
	}
}

func TestBackendsShareMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := New(unreachableClient(t), Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(unreachableClient(t), Options{Registerer: reg, Name: "other"})
	if err != nil {
		t.Fatalf("second backend on one registry: %v", err)
	}
	if a.metrics.SkippedVec != b.metrics.SkippedVec {
		t.Error("second backend registered its own skipped counter instead of reusing the first")
	}
	if _, err := New(nil, Options{}); err == nil {
		t.Error("New(nil client) succeeded")
	}
}

func loadDefault(data map[string]string) loaded { return load(Name, data, rules.Options{}) }

func TestLoadReservedNameSkipsEntryByARN(t *testing.T) {
	l := loadDefault(map[string]string{"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/ok\n  username: ok\n" +
		"- rolearn: arn:aws:iam::111122223333:role/sneaky\n  username: sneaky\n  groups: [system:kube-controller-manager]\n"})
	if l.Err() != nil {
		t.Fatalf("err = %v; a reserved group skips its entry, it does not reject the data", l.Err())
	}
	if len(l.Skipped) != 1 || !strings.Contains(l.Skipped[0].Error(), "role/sneaky") ||
		!errors.Is(l.Skipped[0], rules.ErrReservedName) {
		t.Fatalf("skipped = %v, want the sneaky entry named by ARN", l.Skipped)
	}
	if r, _, _ := l.Table.Counts(); r != 1 {
		t.Errorf("roles = %d, want 1", r)
	}
}

func TestLoadMapGroups(t *testing.T) {
	l := loadDefault(map[string]string{"mapGroups": "- grouparn: arn:aws:iam::111122223333:group/devs\n  username: dev:{{SessionName}}\n  groups: [devs]\n"})
	if l.Err() != nil || len(l.Skipped) != 0 || len(l.ignored) != 0 {
		t.Fatalf("err %v, skipped %v, ignored %v", l.Err(), l.Skipped, l.ignored)
	}
	if l.Table.GroupCount() != 1 {
		t.Errorf("GroupCount = %d, want 1", l.Table.GroupCount())
	}
}

// TestMetricsShareRegistryWithOtherBackends: the server registers every
// backend on one registry, which refuses a metric name defined twice with
// different help or labels. This fails if the shared definitions drift.
func TestMetricsShareRegistryWithOtherBackends(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := dynamicfile.New(filepath.Join(t.TempDir(), "mappings.json"), dynamicfile.Options{Registerer: reg}); err != nil {
		t.Fatalf("dynamicfile.New: %v", err)
	}
	dc, err := dynamic.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crd.New(dc, crd.Options{Registerer: reg}); err != nil {
		t.Fatalf("crd.New: %v", err)
	}
	if _, err := New(unreachableClient(t), Options{Registerer: reg}); err != nil {
		t.Fatalf("configmap New after the CRD and dynamic-file backends: %v", err)
	}
}

// BenchmarkLoad1000 is the parse-and-index share of an edit of a large
// aws-auth (BenchmarkUpdateApplied measures the whole path).
func BenchmarkLoad1000(b *testing.B) {
	var roles strings.Builder
	for j := range 1000 {
		fmt.Fprintf(&roles, "- rolearn: arn:aws:iam::111122223333:role/r-%d\n  username: u%d\n  groups:\n  - g\n", j, j)
	}
	data := map[string]string{"mapRoles": roles.String()}
	b.SetBytes(int64(roles.Len()))
	for b.Loop() {
		if l := loadDefault(data); l.Err() != nil {
			b.Fatal(l.Err())
		}
	}
}

// An edit that appends a replacement for an ARN which then fails to parse
// (here a malformed userid) must not leave the earlier, broader entry in
// force: the ARN is denied and the entry reported with its line.
func TestLoadSkippedReplacementDoesNotReviveEarlierEntry(t *testing.T) {
	l := loadDefault(map[string]string{"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/ops\n  username: ops\n  groups: [system:masters]\n" +
		"- rolearn: arn:aws:iam::111122223333:role/ops\n  username: x\n  groups: [viewers]\n  userid: not-valid!\n",
		"mapAccounts": "- \"111122223333\"\n"})
	if l.Err() != nil {
		t.Fatal(l.Err())
	}
	if len(l.Skipped) != 1 || l.Skipped[0].Origin.Index != 1 || l.Skipped[0].Origin.Line != 7 {
		t.Errorf("skipped = %v, want mapRoles[1] (line 7) only", l.Skipped)
	}
	res, err := l.Table.Map(context.Background(), mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/ops/s"})
	if err == nil || errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("Map = %+v, %v; want a deny", res, err)
	}
}
