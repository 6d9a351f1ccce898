package configmap

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A failed list or watch is counted under aws-iam-authenticator's metric
// name too; a watch that merely ended is not.
func TestWatchFailuresCountedUnderAIAName(t *testing.T) {
	reg := prometheus.NewRegistry()
	b, err := New(unreachableClient(t), Options{Registerer: reg, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	b.watchError(context.Background(), nil, apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "aws-auth", errors.New("rbac")))
	b.watchError(context.Background(), nil, apierrors.NewResourceExpired("too old"))
	if got := testutil.ToFloat64(b.aiaWatchFailures); got != 1 {
		t.Errorf("aws_iam_authenticator_configmap_watch_failures_total = %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "aws_iam_authenticator_configmap_watch_failures_total"); err != nil || n != 1 {
		t.Errorf("series = %d, %v", n, err)
	}
}
