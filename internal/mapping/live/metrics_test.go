package live

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func TestNewMetricsSharesVectorsOnOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg, "b")
	if err != nil {
		t.Fatalf("second backend on one registry: %v", err)
	}
	if a.SkippedVec != b.SkippedVec || a.EntriesVec != b.EntriesVec {
		t.Error("second backend registered its own vectors instead of reusing the first's")
	}
	a.LoadErrors.Inc()
	b.Skipped(mapping.SectionRoles).Inc()
	table, probs := rules.Build("b", nil, rules.Options{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	b.SetEntries(table)
	want := `
# HELP iamgate_mapping_load_errors_total ` + HelpLoadErrors + `
# TYPE iamgate_mapping_load_errors_total counter
iamgate_mapping_load_errors_total{backend="a"} 1
iamgate_mapping_load_errors_total{backend="b"} 0
# HELP iamgate_mapping_entries_skipped_total ` + HelpSkipped + `
# TYPE iamgate_mapping_entries_skipped_total counter
iamgate_mapping_entries_skipped_total{backend="b",section="mapRoles"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), NameLoadErrors, NameSkipped); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(b.EntriesVec); n != 4 {
		t.Errorf("entries series = %d, want one per section", n)
	}
}

func TestNewMetricsNilRegistererIsPrivate(t *testing.T) {
	a, err := NewMetrics(nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(nil, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.SkippedVec == b.SkippedVec {
		t.Error("unregistered metrics shared vectors")
	}
}

func TestNewMetricsConflictingDefinition(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameLoadErrors, Help: "other help"}, []string{LabelBackend}))
	if _, err := NewMetrics(reg, "a"); err == nil || !strings.Contains(err.Error(), "register mapping metrics") {
		t.Fatalf("err = %v, want a registration error", err)
	}
}
