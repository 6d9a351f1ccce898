package configmap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
)

// waitTimeout bounds every wait on the apiserver; the 1 s apply requirement
// is asserted separately (TestAPIServerConfigMap/UpdateAppliesWithin1s).
const waitTimeout = 15 * time.Second

var cmSeq atomic.Int64

// uniqueName gives each fixture its own ConfigMap so subtests never see
// each other's objects or Events.
func uniqueName() string { return fmt.Sprintf("aws-auth-%d", cmSeq.Add(1)) }

// fixture is one running backend watching ns/name on a real apiserver.
type fixture struct {
	t        testing.TB
	client   kubernetes.Interface
	ns, name string
	b        *Backend
	reg      *prometheus.Registry
	stop     func()
}

// startBackend runs a backend for ns/name and waits until it has synced.
// It is stopped at cleanup, or earlier by f.stop.
func startBackend(t testing.TB, client kubernetes.Interface, ns, name string) *fixture {
	t.Helper()
	return startBackendWith(t, client, Options{Namespace: ns, Name: name})
}

// startBackendWith is startBackend with options; a private metrics registry
// is added.
func startBackendWith(t testing.TB, client kubernetes.Interface, opts Options) *fixture {
	t.Helper()
	ns, name := opts.Namespace, opts.Name
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	b, err := New(client, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var stopped atomic.Bool
	stop := func() {
		if stopped.CompareAndSwap(false, true) {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	f := &fixture{t: t, client: client, ns: ns, name: name, b: b, reg: reg, stop: stop}
	deadline := time.Now().Add(waitTimeout)
	for !b.HasSynced() {
		if time.Now().After(deadline) {
			t.Fatalf("backend for %s/%s did not sync in %v", ns, name, waitTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return f
}

// put creates or replaces the ConfigMap's data and returns the new
// resourceVersion.
func (f *fixture) put(data map[string]string) string {
	f.t.Helper()
	return putConfigMap(f.t, f.client, f.ns, f.name, data).ResourceVersion
}

func putConfigMap(t testing.TB, c kubernetes.Interface, ns, name string, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
	got, err := c.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		got, err = c.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	}
	if err != nil {
		t.Fatalf("write ConfigMap %s/%s: %v", ns, name, err)
	}
	return got
}

// waitFor blocks until the backend's latest observation satisfies ok.
func (f *fixture) waitFor(what string, ok func(observation) bool) observation {
	f.t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		o, changed := f.b.observed()
		if ok(o) {
			return o
		}
		select {
		case <-changed:
		case <-timer.C:
			f.t.Fatalf("backend for %s/%s: timed out waiting for %s; last saw %+v", f.ns, f.name, what, o)
		}
	}
}

// waitApplied waits until the data of resourceVersion rv is in effect.
func (f *fixture) waitApplied(rv string) {
	f.t.Helper()
	if o := f.waitFor("resourceVersion "+rv, func(o observation) bool { return o.rv == rv }); o.rejected {
		f.t.Fatalf("resourceVersion %s was rejected, want applied", rv)
	}
}

// waitRejected waits until the data of resourceVersion rv has been refused.
func (f *fixture) waitRejected(rv string) {
	f.t.Helper()
	if o := f.waitFor("resourceVersion "+rv, func(o observation) bool { return o.rv == rv }); !o.rejected {
		f.t.Fatalf("resourceVersion %s was applied, want rejected", rv)
	}
}

func (f *fixture) uid() types.UID {
	f.t.Helper()
	cm, err := f.client.CoreV1().ConfigMaps(f.ns).Get(context.Background(), f.name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatalf("get ConfigMap: %v", err)
	}
	return cm.UID
}

// metric reads one sample of this fixture's backend.
func (f *fixture) metric(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }

func (f *fixture) skipped(section string) float64 {
	return f.metric(f.b.metrics.Skipped(section))
}
func (f *fixture) loadErrors() float64 { return f.metric(f.b.metrics.LoadErrors) }
func (f *fixture) lastSuccess() float64 {
	return f.metric(f.b.metrics.LastSuccess)
}

// waitEvent polls the apiserver for an Event about the object with uid
// whose message contains every one of want.
func waitEvent(t testing.TB, c kubernetes.Interface, ns string, uid types.UID, reason string, want ...string) corev1.Event {
	t.Helper()
	sel := "involvedObject.uid=" + string(uid) + ",reason=" + reason
	deadline := time.Now().Add(waitTimeout)
	var seen []string
	for {
		evs, err := c.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			t.Fatalf("list events: %v", err)
		}
		seen = seen[:0]
	events:
		for _, ev := range evs.Items {
			seen = append(seen, ev.Type+" "+ev.Message)
			for _, w := range want {
				if !strings.Contains(ev.Message, w) {
					continue events
				}
			}
			return ev
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Event %q mentioning %q recorded on %s within %v; saw %q", reason, want, uid, waitTimeout, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testLogger sends the backend's log to the test's output (shown with -v
// or on failure). Run has returned before cleanup ends, so nothing logs
// after the test.
func testLogger(t testing.TB) *slog.Logger {
	if _, bench := t.(*testing.B); bench {
		return slog.New(slog.DiscardHandler) // a line per edit would swamp the figures
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// awsAuthData renders entries as the aws-auth data strings EKS tooling
// writes (conformance.AWSAuth). Empty sections are left out, as eksctl
// does.
func awsAuthData(t testing.TB, entries ...mapping.Entry) map[string]string {
	t.Helper()
	data := map[string]string{}
	rs, us, gs, accounts := conformance.AWSAuth(entries)
	for key, v := range map[string]any{KeyMapRoles: rs, KeyMapUsers: us, KeyMapGroups: gs, KeyMapAccounts: accounts} {
		if s := marshalList(t, v); s != "" {
			data[key] = s
		}
	}
	return data
}

func marshalList(t testing.TB, v any) string {
	t.Helper()
	switch l := v.(type) {
	case []conformance.AWSAuthEntry:
		if len(l) == 0 {
			return ""
		}
	case []string:
		if len(l) == 0 {
			return ""
		}
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		t.Fatalf("render aws-auth YAML: %v", err)
	}
	return buf.String()
}

func isNotMapped(err error) bool { return errors.Is(err, mapping.ErrNotMapped) }
