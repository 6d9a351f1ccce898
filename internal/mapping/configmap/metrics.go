package configmap

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names are shared with the other reloading backends (CRD, dynamic
// file), told apart by the backend label, so one dashboard covers them all.
// A registry accepts a name twice only with identical help and labels: the
// load-errors and invalid-entries definitions must stay word for word those
// of internal/mapping/crd and internal/mapping/dynamicfile.
const (
	metricLoadErrors  = "iamgate_mapping_load_errors_total"
	helpLoadErrors    = "Times a mapping backend could not load its source (unreadable or unparsable data, failed list or watch); it keeps its last good mappings."
	metricInvalid     = "iamgate_mapping_invalid_entries"
	helpInvalid       = "Mapping entries a backend currently skips because they are invalid."
	metricSkipped     = "iamgate_mapping_entries_skipped_total"
	metricLastSuccess = "iamgate_mapping_last_load_success"
	metricEntries     = "iamgate_mapping_entries"
)

type metrics struct {
	loadErrors  *prometheus.CounterVec // backend
	invalid     *prometheus.GaugeVec   // backend
	skipped     *prometheus.CounterVec // backend, section
	lastSuccess *prometheus.GaugeVec   // backend
	entries     *prometheus.GaugeVec   // backend, section
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricSkipped,
			Help: "Mapping entries left out of a load because they were invalid; the other entries of that load applied.",
		}, []string{"backend", "section"}),
		loadErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricLoadErrors, Help: helpLoadErrors,
		}, []string{"backend"}),
		invalid: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: metricInvalid, Help: helpInvalid,
		}, []string{"backend"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: metricLastSuccess,
			Help: "1 if the backend's latest mapping data loaded, 0 if it was rejected.",
		}, []string{"backend"}),
		entries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: metricEntries,
			Help: "Mapping entries in effect, after skipping invalid ones and collapsing duplicates.",
		}, []string{"backend", "section"}),
	}
	var err error
	if m.skipped, err = register(reg, m.skipped); err != nil {
		return nil, err
	}
	if m.loadErrors, err = register(reg, m.loadErrors); err != nil {
		return nil, err
	}
	if m.invalid, err = register(reg, m.invalid); err != nil {
		return nil, err
	}
	if m.lastSuccess, err = register(reg, m.lastSuccess); err != nil {
		return nil, err
	}
	if m.entries, err = register(reg, m.entries); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds c to reg, or returns the collector already registered under
// the same definition (another backend of the same server). A nil reg keeps
// c private.
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
		return c, fmt.Errorf("registering mapping metrics: %w", err)
	}
	return c, nil
}
