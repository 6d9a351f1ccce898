package crd

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Metric names and help texts are shared by every reloading backend
// (internal/mapping/configmap and dynamicfile register the same ones), told
// apart by the backend label. A registry accepts a name twice only with
// identical help and labels, so these stay word for word in step.
const (
	metricLoadErrors  = "iamgate_mapping_load_errors_total"
	helpLoadErrors    = "Times a mapping backend could not load its source (unreadable or unparsable data, failed list or watch); it keeps its last good mappings."
	metricInvalid     = "iamgate_mapping_invalid_entries"
	helpInvalid       = "Mapping entries a backend currently skips because they are invalid."
	metricSkipped     = "iamgate_mapping_entries_skipped_total"
	helpSkipped       = "Mapping entries left out of a load because they were invalid; the other entries of that load applied."
	metricLastSuccess = "iamgate_mapping_last_load_success"
	helpLastSuccess   = "1 if the backend's latest mapping data loaded, 0 if it was rejected."
	metricEntries     = "iamgate_mapping_entries"
	helpEntries       = "Mapping entries in effect, after skipping invalid ones and collapsing duplicates."
)

// metrics are this backend's children of the shared vectors.
type metrics struct {
	backend     string
	loadErrors  prometheus.Counter
	invalid     prometheus.Gauge
	lastSuccess prometheus.Gauge
	skipped     *prometheus.CounterVec // backend, section
	entries     *prometheus.GaugeVec   // backend, section
}

// newMetrics registers the shared vectors with reg (nil: unregistered),
// reusing vectors another backend registered first.
func newMetrics(reg prometheus.Registerer, backend string) (*metrics, error) {
	le, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricLoadErrors, Help: helpLoadErrors}, []string{"backend"}))
	if err != nil {
		return nil, err
	}
	inv, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricInvalid, Help: helpInvalid}, []string{"backend"}))
	if err != nil {
		return nil, err
	}
	ls, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricLastSuccess, Help: helpLastSuccess}, []string{"backend"}))
	if err != nil {
		return nil, err
	}
	sk, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricSkipped, Help: helpSkipped}, []string{"backend", "section"}))
	if err != nil {
		return nil, err
	}
	en, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metricEntries, Help: helpEntries}, []string{"backend", "section"}))
	if err != nil {
		return nil, err
	}
	return &metrics{backend: backend, loadErrors: le.WithLabelValues(backend), invalid: inv.WithLabelValues(backend),
		lastSuccess: ls.WithLabelValues(backend), skipped: sk, entries: en}, nil
}

// setEntries publishes the counts of a table now in effect.
func (m *metrics) setEntries(t *mapping.Table) {
	roles, users, accounts := t.Counts()
	m.entries.WithLabelValues(m.backend, mapping.SectionRoles).Set(float64(roles))
	m.entries.WithLabelValues(m.backend, mapping.SectionUsers).Set(float64(users))
	m.entries.WithLabelValues(m.backend, mapping.SectionAccounts).Set(float64(accounts))
	m.entries.WithLabelValues(m.backend, mapping.SectionGroups).Set(float64(t.GroupCount()))
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("register mapping metrics: %w", err)
	}
	return c, nil
}
