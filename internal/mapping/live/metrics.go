package live

// The metrics every reloading mapping backend (configmap, crd, dynamicfile)
// reports. The backends share one set of vectors, told apart by the backend
// label, so one dashboard covers them all and the server can register them
// all on one prometheus.Registerer: a registry accepts a name twice only
// with identical help and labels, which defining them here once guarantees.

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Metric names and help texts.
const (
	NameLoadErrors  = "iamgate_mapping_load_errors_total"
	HelpLoadErrors  = "Times a mapping backend could not load its source (unreadable or unparsable data, failed list or watch); it keeps its last good mappings."
	NameInvalid     = "iamgate_mapping_invalid_entries"
	HelpInvalid     = "Mapping entries a backend currently skips because they are invalid."
	NameSkipped     = "iamgate_mapping_entries_skipped_total"
	HelpSkipped     = "Mapping entries left out of a load because they were invalid; the other entries of that load applied."
	NameLastSuccess = "iamgate_mapping_last_load_success"
	HelpLastSuccess = "1 if the backend's latest mapping data loaded, 0 if it was rejected."
	NameEntries     = "iamgate_mapping_entries"
	HelpEntries     = "Mapping entries in effect, after skipping invalid ones and collapsing duplicates."
)

// Label names.
const (
	LabelBackend = "backend"
	LabelSection = "section"
)

// Metrics are one backend's children of the shared vectors.
type Metrics struct {
	backend string

	LoadErrors  prometheus.Counter // load or list/watch failures
	Invalid     prometheus.Gauge   // entries currently skipped as invalid
	LastSuccess prometheus.Gauge   // 1 if the latest data loaded, 0 if rejected

	// The vectors labelled by backend and section; use Skipped and
	// SetEntries rather than these, which tests compare and read.
	SkippedVec *prometheus.CounterVec
	EntriesVec *prometheus.GaugeVec
}

// NewMetrics registers the shared vectors with reg (nil: unregistered, private to
// the returned Metrics), reusing the vectors another backend registered on
// reg first, and returns backend's children of them.
func NewMetrics(reg prometheus.Registerer, backend string) (*Metrics, error) {
	le, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameLoadErrors, Help: HelpLoadErrors}, []string{LabelBackend}))
	if err != nil {
		return nil, err
	}
	inv, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: NameInvalid, Help: HelpInvalid}, []string{LabelBackend}))
	if err != nil {
		return nil, err
	}
	ls, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: NameLastSuccess, Help: HelpLastSuccess}, []string{LabelBackend}))
	if err != nil {
		return nil, err
	}
	sk, err := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: NameSkipped, Help: HelpSkipped}, []string{LabelBackend, LabelSection}))
	if err != nil {
		return nil, err
	}
	en, err := register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: NameEntries, Help: HelpEntries}, []string{LabelBackend, LabelSection}))
	if err != nil {
		return nil, err
	}
	return &Metrics{
		backend:     backend,
		LoadErrors:  le.WithLabelValues(backend),
		Invalid:     inv.WithLabelValues(backend),
		LastSuccess: ls.WithLabelValues(backend),
		SkippedVec:  sk,
		EntriesVec:  en,
	}, nil
}

// Skipped is the counter of entries of section left out of loads.
func (m *Metrics) Skipped(section string) prometheus.Counter {
	return m.SkippedVec.WithLabelValues(m.backend, section)
}

// SetEntries publishes the counts of a table now in effect.
func (m *Metrics) SetEntries(t *rules.Table) {
	roles, users, accounts := t.Counts()
	m.EntriesVec.WithLabelValues(m.backend, mapping.SectionRoles).Set(float64(roles))
	m.EntriesVec.WithLabelValues(m.backend, mapping.SectionUsers).Set(float64(users))
	m.EntriesVec.WithLabelValues(m.backend, mapping.SectionAccounts).Set(float64(accounts))
	m.EntriesVec.WithLabelValues(m.backend, mapping.SectionGroups).Set(float64(t.GroupCount()))
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
		return c, fmt.Errorf("register mapping metrics: %w", err)
	}
	return c, nil
}
