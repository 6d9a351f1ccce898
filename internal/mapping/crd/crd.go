// Package crd is the CRD backend: mappings from cluster-scoped
// IAMIdentityMapping objects (iamauthenticator.k8s.aws/v1alpha1), the same
// resource aws-iam-authenticator defines, so existing objects keep working.
//
// It watches the objects with a dynamic informer (no generated clients) and,
// on every spec change, rebuilds one mapping.Table from all of them: lookups
// are a map access on the lower-cased canonical ARN, and matching is exactly
// that of every other backend because it is the same code. Each object's
// status gets canonicalARN, a Valid condition saying whether it is used
// and, while it is, userID (a copy of spec.userID, when set).
//
// Of two objects for one principal the newer wins even when it is invalid:
// an invalid object whose spec.arn still names a principal denies it,
// rather than let an older object (or a pattern) for it apply. Newest
// objects created in the same second that map a principal differently
// deny it, and so do two patterns that can match one principal at equal
// rank, whichever is older (see build).
package crd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// The resource, as aws-iam-authenticator names it.
const (
	Group    = "iamauthenticator.k8s.aws"
	Version  = "v1alpha1"
	Resource = "iamidentitymappings"
	Kind     = "IAMIdentityMapping"
	// ConditionValid is the status condition type iamgate maintains.
	ConditionValid = "Valid"
	// DefaultName is the backendMode name.
	DefaultName = "CRD"
	// FieldManager owns the status fields iamgate applies.
	FieldManager = "iamgate"
)

// ErrNotSynced is returned by Map before the first full list of objects has
// been applied. It is not mapping.ErrNotMapped: answering "not mapped" then
// would let a later backend (or its mapAccounts) decide for an identity an
// IAMIdentityMapping may well map differently.
var ErrNotSynced = errors.New("IAMIdentityMappings not loaded yet")

// GVR is the IAMIdentityMapping resource.
var GVR = schema.GroupVersionResource{Group: Group, Version: Version, Resource: Resource}

// Options configures a Backend. The zero value is usable.
type Options struct {
	Name       string                // backendMode name; "" means DefaultName
	Logger     *slog.Logger          // nil means slog.Default()
	Registerer prometheus.Registerer // nil means metrics are not registered
	// ResyncPeriod re-delivers every object so status drift is repaired
	// without a spec change; 0 means 10 minutes.
	ResyncPeriod time.Duration
	// Mapping are the matching options of every table this backend builds
	// (SSO role matching, IAM group and EC2 resolvers, reserved names).
	Mapping rules.Options
	// ReadOnly leaves status alone, for RBAC without patch on
	// iamidentitymappings/status or while aws-iam-authenticator still runs
	// against the same objects (it rewrites status without conditions).
	ReadOnly bool
}

// Backend maps identities with IAMIdentityMapping objects. Map is safe for
// concurrent use; Run must be called once to start watching.
type Backend struct {
	name     string
	client   dynamic.Interface
	log      *slog.Logger
	metrics  *live.Metrics
	readOnly bool
	mapOpts  rules.Options
	informer cache.SharedIndexInformer
	queue    workqueue.TypedRateLimitingInterface[string]

	snap    atomic.Pointer[snapshot]
	dirty   chan struct{} // capacity 1: "rebuild needed", coalesced
	synced  atomic.Bool
	started atomic.Bool
	now     func() time.Time
}

var _ mapping.Mapper = (*Backend)(nil)

// New creates the backend; it contacts the apiserver only when Run starts.
func New(client dynamic.Interface, opts Options) (*Backend, error) {
	if client == nil {
		return nil, errors.New("crd backend: nil dynamic client")
	}
	b := &Backend{
		name:     opts.Name,
		client:   client,
		log:      opts.Logger,
		readOnly: opts.ReadOnly,
		mapOpts:  opts.Mapping,
		dirty:    make(chan struct{}, 1),
		now:      time.Now,
	}
	if b.name == "" {
		b.name = DefaultName
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("backend", b.name)
	m, err := live.NewMetrics(opts.Registerer, b.name)
	if err != nil {
		return nil, err
	}
	b.metrics = m
	empty, probs := rules.Build(b.name, nil, b.mapOpts)
	if len(probs) > 0 {
		return nil, fmt.Errorf("crd backend: %w", probs[0])
	}
	b.snap.Store(&snapshot{table: empty, owner: map[string]string{}, verdicts: map[string]verdict{}})

	resync := opts.ResyncPeriod
	if resync == 0 {
		resync = 10 * time.Minute
	}
	b.informer = dynamicinformer.NewFilteredDynamicInformer(client, GVR, metav1.NamespaceAll, resync, cache.Indexers{}, consistentFirstList).Informer()
	b.queue = workqueue.NewTypedRateLimitingQueueWithConfig(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 5*time.Minute),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "iamgate-iamidentitymappings"})
	if err := b.informer.SetWatchErrorHandlerWithContext(b.watchError); err != nil {
		return nil, fmt.Errorf("crd backend: %w", err)
	}
	if _, err := b.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { b.markDirty() },
		DeleteFunc: func(any) { b.markDirty() },
		UpdateFunc: b.onUpdate,
	}); err != nil {
		return nil, fmt.Errorf("crd backend: %w", err)
	}
	return b, nil
}

// consistentFirstList turns the reflector's first list, at resourceVersion
// "0" (whatever the apiserver's watch cache holds, which may lag writes it
// has acknowledged), into a consistent read, so a server started right
// after an edit does not serve the objects as they were before it. Later
// lists and watches carry a resourceVersion already seen and are kept.
func consistentFirstList(o *metav1.ListOptions) {
	if o.ResourceVersion == "0" {
		o.ResourceVersion = ""
	}
}

// Name returns the backendMode name.
func (b *Backend) Name() string { return b.name }

// HasSynced reports whether the first full list has been turned into
// mappings. Before that Map denies with ErrNotSynced.
func (b *Backend) HasSynced() bool { return b.synced.Load() }

// Map returns the mapping for id, mapping.ErrNotMapped, or ErrNotSynced.
// Result.Source names the object, e.g.
// `CRD mapRoles[arn:aws:iam::1:role/admin] (IAMIdentityMapping admins)`.
func (b *Backend) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	if !b.synced.Load() {
		return nil, ErrNotSynced
	}
	s := b.snap.Load()
	r, err := s.table.Map(ctx, id)
	if err != nil {
		return nil, err
	}
	s.nameOwner(b.name, r)
	return r, nil
}

// Table is the table in effect, nil before the first full list.
func (b *Backend) Table() *rules.Table {
	if !b.synced.Load() {
		return nil
	}
	return b.snap.Load().table
}

// Explain traces Map: the same table, the same Source.
func (b *Backend) Explain(ctx context.Context, id mapping.Identity) mapping.Trace {
	if !b.synced.Load() {
		bt := mapping.BackendTrace{Backend: b.name, Err: ErrNotSynced}
		return mapping.Trace{Identity: id, Backends: []mapping.BackendTrace{bt}, Err: ErrNotSynced}
	}
	s := b.snap.Load()
	tr := s.table.Explain(ctx, id)
	if tr.Result != nil {
		s.nameOwner(b.name, tr.Result)
		tr.Backends[0].Result = tr.Result
	}
	return tr
}

// nameOwner adds the object that supplied r's entry to r.Source.
func (s *snapshot) nameOwner(backend string, r *mapping.Result) {
	if obj := s.owner[strings.ToLower(strings.TrimPrefix(r.Source, backend+" "))]; obj != "" {
		r.Source += " (" + Kind + " " + obj + ")"
	}
}

// Run watches the objects until ctx is done. It returns nil on cancellation
// and an error only if called twice. A missing CRD or forbidden list is
// retried (and counted in iamgate_mapping_load_errors_total) while
// HasSynced stays false.
func (b *Backend) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("crd backend: Run called twice")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { defer wg.Done(); b.informer.RunWithContext(ctx) }()
	defer b.queue.ShutDown()

	if !cache.WaitForCacheSync(ctx.Done(), b.informer.HasSynced) {
		return nil
	}
	select { // the first build covers every event so far
	case <-b.dirty:
	default:
	}
	b.rebuild()
	b.synced.Store(true)
	if !b.readOnly {
		wg.Add(1)
		go func() { defer wg.Done(); b.statusWorker(ctx) }()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.dirty:
			b.rebuild()
		}
	}
}

func (b *Backend) markDirty() {
	select {
	case b.dirty <- struct{}{}:
	default:
	}
}

// onUpdate rebuilds only when what decides mappings changed; a status-only
// update (ours, or someone else's) just has that object's status checked.
// The check is rate limited per object, so a writer that keeps erasing our
// status (aws-iam-authenticator's controller does) backs off exponentially
// instead of looping.
func (b *Backend) onUpdate(oldObj, newObj any) {
	o, ok1 := oldObj.(*unstructured.Unstructured)
	n, ok2 := newObj.(*unstructured.Unstructured)
	if !ok1 || !ok2 || !reflect.DeepEqual(o.Object["spec"], n.Object["spec"]) ||
		o.GetGeneration() != n.GetGeneration() || (o.GetDeletionTimestamp() == nil) != (n.GetDeletionTimestamp() == nil) {
		b.markDirty()
		return
	}
	if !b.readOnly && b.synced.Load() {
		b.queue.AddRateLimited(n.GetName())
	}
}

// rebuild turns the informer's store into a new snapshot and queues status
// writes for objects whose status does not say what was decided.
func (b *Backend) rebuild() {
	items := b.informer.GetStore().List()
	objs := make([]*unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			objs = append(objs, u)
		}
	}
	prev := b.snap.Load()
	s := build(b.name, objs, b.mapOpts)
	b.snap.Store(s)
	b.metrics.Invalid.Set(float64(s.invalid))
	if s.tableErr != nil {
		b.log.Error("mapping table refused entries it does not attribute to an object", "err", s.tableErr)
	}
	b.metrics.SetEntries(s.table)
	b.metrics.LastSuccess.Set(1) // objects are judged one by one; there is no whole load to reject

	for _, o := range objs {
		v, ok := s.verdicts[o.GetName()]
		if !ok {
			continue
		}
		if !v.valid && prev.verdicts[o.GetName()] != v {
			if v.reason == ReasonInvalidSpec {
				b.metrics.Skipped(Kind).Inc()
			}
			b.log.Warn("IAMIdentityMapping not used", "name", o.GetName(), "generation", v.generation,
				"reason", v.reason, "message", v.message)
		}
		if !b.readOnly && !statusMatches(o, v) {
			b.queue.Add(o.GetName())
		}
	}
	roles, users, _ := s.table.Counts()
	b.log.Info("IAMIdentityMappings loaded", "objects", len(objs), "roles", roles, "users", users,
		"groups", s.table.GroupCount(), "invalid", s.invalid)
}

// watchError counts and logs list/watch failures (a missing CRD, RBAC,
// apiserver down). It replaces client-go's handler, which only logs, so
// each failure is logged once; the reflector retries with backoff either
// way. A watch that merely closed or expired is routine and not counted.
func (b *Backend) watchError(_ context.Context, _ *cache.Reflector, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		return
	}
	b.metrics.LoadErrors.Inc()
	b.log.Error("cannot list or watch IAMIdentityMappings; keeping the last good mappings", "err", err)
}
