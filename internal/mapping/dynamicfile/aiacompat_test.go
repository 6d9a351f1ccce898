package dynamicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// Dashboards built for aws-iam-authenticator count dynamic file failures
// under its metric name.
func TestFailuresCountedUnderAIAName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mappings.json")
	if err := os.WriteFile(path, []byte(`{"mapRoles": "not a list"`), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	b := start(t, path, Options{Registerer: reg})
	eventually(t, "the broken file counted", func() bool { return testutil.ToFloat64(b.m.LoadErrors) > 0 })
	n, err := testutil.GatherAndCount(reg, "aws_iam_authenticator_dynamicfile_failures_total")
	if err != nil || n != 1 {
		t.Fatalf("aws_iam_authenticator_dynamicfile_failures_total series = %d, %v", n, err)
	}
	if got := testutil.ToFloat64(b.aiaFailures); got < 1 {
		t.Errorf("aws_iam_authenticator_dynamicfile_failures_total = %v, want ≥ 1", got)
	}
}
