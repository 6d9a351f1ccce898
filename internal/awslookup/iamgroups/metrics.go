package iamgroups

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/awslookup/internal/promreg"
)

// Values of the result label of iamgate_iam_lookups_total.
const (
	ResultCacheHit    = "cache_hit"    // answered from the cache, no IAM call
	ResultOK          = "ok"           // IAM answered; the user is in at least one group
	ResultEmpty       = "empty"        // IAM answered; the user is in no group (or does not exist)
	ResultError       = "error"        // IAM failed or answered something unusable: nothing granted
	ResultRateLimited = "rate_limited" // the local IAM rate limit refused the call: nothing granted
	ResultRejected    = "rejected"     // not an IAM user ARN, or a user of an account not served
)

// Metrics counts group lookups. A nil *Metrics records nothing.
type Metrics struct {
	lookups *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered). Registering twice with one registry reuses the first set.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		lookups: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iamgate_iam_lookups_total",
			Help: "IAM group lookups (one per GroupsForUser call) by result: cache_hit, ok, empty, error, rate_limited, rejected.",
		}, []string{"result"})),
	}
}

func (m *Metrics) count(result string) {
	if m != nil {
		m.lookups.WithLabelValues(result).Inc()
	}
}
