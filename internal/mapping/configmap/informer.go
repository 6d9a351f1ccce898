package configmap

import (
	"context"
	"errors"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
)

// listWatch lists and watches the ConfigMap name in cms, and nothing else.
func listWatch(cms typedcorev1.ConfigMapInterface, name string) *cache.ListWatch {
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			o.ResourceVersion = consistentRV(o.ResourceVersion)
			return cms.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return cms.Watch(ctx, o)
		},
	}
}

// consistentRV turns the reflector's first list, at resourceVersion "0"
// (whatever the apiserver's watch cache holds, which may lag writes already
// acknowledged, or be an older version of the object than another apiserver
// served), into a consistent read. Otherwise a backend started right after
// an edit could sync to the ConfigMap before it, or to none at all, and
// after a restart make an older good version its last-good. Relists at a
// later resourceVersion are already at least that fresh and kept.
func consistentRV(rv string) string {
	if rv == "0" {
		return ""
	}
	return rv
}

// watchError reports a failed list or watch. The informer retries with
// backoff and the current mappings stay in effect. A watch that merely ended
// or expired (and is resumed or relisted) is routine and not counted.
func (b *Backend) watchError(_ context.Context, _ *cache.Reflector, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
		b.log.Debug("ConfigMap watch ended; resuming", "err", err)
		return
	}
	b.metrics.LoadErrors.Inc()
	b.aiaWatchFailures.Inc()
	msg := "listing or watching the ConfigMap failed; retrying, current mappings stay in effect"
	if apierrors.IsForbidden(err) {
		msg += " (RBAC must allow get, list, watch on configmaps with resourceNames [" + b.name + "])"
	}
	b.log.Error(msg, "err", err)
}
