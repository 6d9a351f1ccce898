// Package configmap is the EKSConfigMap backend: mappings from the
// kube-system/aws-auth ConfigMap, as EKS, eksctl and EKS Anywhere write it,
// followed live with an informer.
//
// The informer lists and watches that one object only (a metadata.name field
// selector), so the backend needs nothing wider than get/list/watch on
// resourceNames [aws-auth]: the apiserver treats a list or watch whose field
// selector pins metadata.name as a request for that name.
//
// Informer events and what they do here:
//   - add, or update to a new resourceVersion: load it (apply);
//   - update to the resourceVersion last processed (a relist after a watch
//     ended or expired, or a resync): ignored, nothing is re-parsed;
//   - delete, including the DeletedFinalStateUnknown tombstone a relist
//     emits when the object is gone: mappings removed, last-good forgotten;
//   - update to an object with another UID (deleted and re-created while
//     the watch was down, so no delete was seen): last-good belonged to the
//     deleted object and is never kept for the new one.
package configmap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/metrics/aiacompat"
)

// Name is the backendMode name of this backend, as aws-iam-authenticator
// spells it.
const Name = "EKSConfigMap"

// Defaults for Options.Namespace and Options.Name.
const (
	DefaultNamespace = "kube-system"
	DefaultName      = "aws-auth"
)

// Event reasons recorded on the ConfigMap (type Warning), so that
// `kubectl describe configmap -n kube-system aws-auth` shows what went wrong.
const (
	// ReasonInvalidMappings: the data was rejected as a whole and the
	// previous mappings (or none, after a restart) stay in effect.
	ReasonInvalidMappings = "InvalidMappings"
	// ReasonSkippedMappings: some entries were skipped (or data keys
	// ignored); the rest applied.
	ReasonSkippedMappings = "SkippedMappings"
)

// ErrNotSynced is returned by Map before the first list of the ConfigMap has
// been applied. It is not mapping.ErrNotMapped: answering "not mapped" then
// would let a later backend (or its mapAccounts) decide for an identity that
// aws-auth may well map differently.
var ErrNotSynced = errors.New("aws-auth ConfigMap not loaded yet")

// Options configure New. The zero value watches kube-system/aws-auth.
type Options struct {
	Namespace string // default kube-system
	Name      string // default aws-auth
	Logger    *slog.Logger
	// Registerer receives the iamgate_mapping_* metrics; nil keeps them
	// private.
	Registerer prometheus.Registerer
	// Recorder records Events on the ConfigMap. Nil makes New build one that
	// writes core/v1 Events through the client, started by Run.
	Recorder record.EventRecorder
	// Mapping are the matching options every table of this backend is
	// built with (SSO gate, resolvers, reserved names). Its Logger defaults
	// to Logger.
	Mapping rules.Options
	// Scrub, when set, rewrites Event messages (server.scrubbedAccounts:
	// the accounts' ids must not reach Events either).
	Scrub func(string) string
}

// Backend serves the mappings of one ConfigMap. Map and Explain are safe
// for concurrent use; each change of the ConfigMap swaps a whole table.
// Until the first list has been applied they answer ErrNotSynced.
type Backend struct {
	*live.Holder
	ns, name    string
	log         *slog.Logger
	client      kubernetes.Interface
	informer    cache.SharedIndexInformer
	handler     cache.ResourceEventHandlerRegistration
	recorder    record.EventRecorder
	broadcaster record.EventBroadcaster // non-nil when New built recorder
	scrub       func(string) string
	// aiaWatchFailures is aws-iam-authenticator's name for failed
	// lists and watches, for dashboards built on it.
	aiaWatchFailures prometheus.Counter
	metrics          *live.Metrics
	started          atomic.Bool

	mu      sync.Mutex // serializes loads and guards the fields below
	lastRV  string     // resourceVersion last processed, applied or not
	goodRV  string     // resourceVersion the table in effect came from; "" for none
	goodUID types.UID  // UID of the object it came from; "" for none
	seen    observation
	changed chan struct{} // closed and replaced after each processed event
}

// observation records what the backend last did, for tests waiting on it.
type observation struct {
	rv       string // resourceVersion processed ("" after a delete)
	deleted  bool
	rejected bool // the data at rv was refused; an older table is in effect
}

var _ mapping.Mapper = (*Backend)(nil)

// New sets up the backend; Run starts it.
func New(client kubernetes.Interface, opts Options) (*Backend, error) {
	if client == nil {
		return nil, errors.New("configmap backend: nil Kubernetes client")
	}
	b := &Backend{
		ns: opts.Namespace, name: opts.Name, log: opts.Logger, client: client,
		recorder: opts.Recorder, changed: make(chan struct{}), scrub: opts.Scrub,
	}
	if b.scrub == nil {
		b.scrub = func(s string) string { return s }
	}
	if b.ns == "" {
		b.ns = DefaultNamespace
	}
	if b.name == "" {
		b.name = DefaultName
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("backend", Name, "configmap", b.ns+"/"+b.name)
	h, err := live.New(Name, opts.Mapping, b.log, opts.Registerer, ErrNotSynced)
	if err != nil {
		return nil, fmt.Errorf("configmap backend: %w", err)
	}
	b.Holder, b.metrics = h, h.Metrics()
	b.aiaWatchFailures = aiacompat.ConfigMapWatchFailures(opts.Registerer)
	if b.recorder == nil {
		host, _ := os.Hostname()
		b.broadcaster = record.NewBroadcaster()
		b.recorder = b.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "iamgate", Host: host})
	}

	lw := listWatch(client.CoreV1().ConfigMaps(b.ns), b.name)
	b.informer = cache.NewSharedIndexInformerWithOptions(lw, &corev1.ConfigMap{},
		cache.SharedIndexInformerOptions{ObjectDescription: "configmap " + b.ns + "/" + b.name})
	if err := b.informer.SetWatchErrorHandlerWithContext(b.watchError); err != nil {
		return nil, fmt.Errorf("configmap backend: %w", err)
	}
	b.handler, err = b.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    b.onAdd,
		UpdateFunc: func(_, obj any) { b.onAdd(obj) },
		DeleteFunc: b.onDelete,
	})
	if err != nil {
		return nil, fmt.Errorf("configmap backend: %w", err)
	}
	return b, nil
}

// Run watches the ConfigMap until ctx is done. It may be called once.
func (b *Backend) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("configmap backend: Run called twice")
	}
	if b.broadcaster != nil {
		b.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: b.client.CoreV1().Events(b.ns)})
		defer b.broadcaster.Shutdown()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.markSyncedWhenListed(ctx)
	}()
	b.informer.RunWithContext(ctx)
	wg.Wait()
	return nil
}

// markSyncedWhenListed waits for the initial list to be handled. If it held
// no ConfigMap the handler never ran, and the backend starts with no
// mappings. cache.WaitForCacheSync polls every 100 ms; polling faster keeps
// startup (and tests) quick.
func (b *Backend) markSyncedWhenListed(ctx context.Context) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !b.handler.HasSynced() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.HasSynced() {
		b.log.Warn("ConfigMap not found; no mappings from this backend until it is created")
		b.Clear()
		b.setGood(nil)
		b.notify(observation{})
	}
}

func (b *Backend) onAdd(obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok || cm.Namespace != b.ns || cm.Name != b.name {
		return // the field selector makes this unreachable
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if cm.ResourceVersion != "" && cm.ResourceVersion == b.lastRV {
		return // a relist delivering what is already applied
	}
	b.lastRV = cm.ResourceVersion
	b.apply(cm)
}

// apply loads cm and swaps the table in, or keeps the current one when the
// data is unusable. Called with b.mu held.
func (b *Backend) apply(cm *corev1.ConfigMap) {
	log := b.log.With("resourceVersion", cm.ResourceVersion)
	es, ps, ignored := read(cm.Namespace+"/"+cm.Name, cm.Data)
	if len(ignored) > 0 {
		log.Warn("ignoring data keys other than mapRoles, mapUsers, mapGroups and mapAccounts", "keys", ignored)
	}
	if b.goodRV != "" && b.goodUID != cm.UID {
		// The object the table came from was deleted and this one created
		// while the watch was down: its mappings go, as a seen delete would
		// do (replaced below by cm's, or by none if cm's are refused).
		log.Warn("ConfigMap was deleted and re-created; the deleted one's mappings are removed", "previousResourceVersion", b.goodRV)
		b.setGood(nil)
	}
	out := b.Load(log, es, ps)
	if out.Table == nil {
		kept := "the mappings of resourceVersion " + b.goodRV + " stay in effect"
		if b.goodRV == "" {
			// Nothing good seen from this object since this process started
			// (last-good is never persisted): fail closed with no mappings.
			kept = "no mappings from this ConfigMap are in effect"
		}
		b.Refuse(b.goodRV == "")
		for _, p := range out.Refused {
			log.Error("rejected ConfigMap data; "+kept, "problem", p.Error())
		}
		b.recorder.Event(cm, corev1.EventTypeWarning, ReasonInvalidMappings, b.scrub(fmt.Sprintf(
			"iamgate rejected this ConfigMap (resourceVersion %s), %s: %s", cm.ResourceVersion, kept, live.Summarize(out.Refused))))
		b.notify(observation{rv: cm.ResourceVersion, rejected: true})
		return
	}
	b.setGood(cm)
	if len(out.Skipped) > 0 || len(ignored) > 0 {
		msg := fmt.Sprintf("iamgate applied this ConfigMap (resourceVersion %s) but skipped %d invalid entries", cm.ResourceVersion, len(out.Skipped))
		if len(out.Skipped) > 0 {
			msg += ": " + live.Summarize(out.Skipped)
		}
		if len(ignored) > 0 {
			msg += fmt.Sprintf("; ignored data keys %q (only mapRoles, mapUsers, mapGroups, mapAccounts are read)", ignored)
		}
		b.recorder.Event(cm, corev1.EventTypeWarning, ReasonSkippedMappings, b.scrub(msg))
	}
	b.notify(observation{rv: cm.ResourceVersion})
}

// onDelete handles a delete, or the tombstone a relist emits for an object
// it no longer finds (its Obj may be nil: the key is checked instead).
func (b *Backend) onDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		if d.Key != b.ns+"/"+b.name {
			return // the field selector makes this unreachable
		}
		obj = d.Obj
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok && (cm.Namespace != b.ns || cm.Name != b.name) {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastRV = ""
	b.Clear()
	b.setGood(nil)
	b.log.Warn("ConfigMap deleted; its mappings are removed")
	b.notify(observation{deleted: true})
}

// setGood records the object the table in effect came from (nil for
// none). Called with b.mu held.
func (b *Backend) setGood(from *corev1.ConfigMap) {
	b.goodRV, b.goodUID = "", ""
	if from != nil {
		b.goodRV, b.goodUID = from.ResourceVersion, from.UID
	}
}

// notify publishes o and wakes waiters. Called with b.mu held.
func (b *Backend) notify(o observation) {
	b.seen = o
	close(b.changed)
	b.changed = make(chan struct{})
}

// observed returns the last observation and a channel closed at the next.
func (b *Backend) observed() (observation, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen, b.changed
}
