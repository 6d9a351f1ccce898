package aiacompat

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestSharedRegistration: a second caller on one registry gets the
// collectors the first registered, so both count into one series.
func TestSharedRegistration(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := NewSTS(reg), NewSTS(reg)
	a.Throttling.WithLabelValues("us-west-2").Inc()
	b.Throttling.WithLabelValues("us-west-2").Inc()
	if n := testutil.ToFloat64(a.Throttling.WithLabelValues("us-west-2")); n != 2 {
		t.Fatalf("shared counter = %v, want 2", n)
	}
	ConfigMapWatchFailures(reg).Inc()
	ConfigMapWatchFailures(reg).Inc()
	EC2DescribeInstancesCalls(reg).Inc()
	Latency(reg).WithLabelValues(ResultUnknownUser).Observe(0.1)
	NewDynamicFile(reg).Failures.Inc()
	n, err := testutil.GatherAndCount(reg, "aws_iam_authenticator_configmap_watch_failures_total")
	if err != nil || n != 1 {
		t.Fatalf("configmap series %d, %v", n, err)
	}
	if v := testutil.ToFloat64(ConfigMapWatchFailures(reg)); v != 2 {
		t.Fatalf("configmap failures = %v, want 2", v)
	}
}

func TestSetBackendMode(t *testing.T) {
	for _, tc := range []struct {
		modes         []string
		enabled, only float64
	}{
		{[]string{"MountedFile"}, 0, 0},
		{[]string{"MountedFile", "DynamicFile"}, 1, 0},
		{[]string{"DynamicFile"}, 1, 1},
	} {
		enabled, only := SetBackendMode(prometheus.NewRegistry(), tc.modes)
		if testutil.ToFloat64(enabled) != tc.enabled || testutil.ToFloat64(only) != tc.only {
			t.Errorf("%v: enabled %v only %v", tc.modes, testutil.ToFloat64(enabled), testutil.ToFloat64(only))
		}
	}
}
