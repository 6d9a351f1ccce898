package ec2dns

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/awslookup/internal/promreg"
	"github.com/iamgate/iamgate/internal/metrics/aiacompat"
)

// Values of the result label of iamgate_ec2_lookups_total.
const (
	ResultCacheHit = "cache_hit" // answered from the cache (a cached "not found" counts as not_found)
	ResultOK       = "ok"        // EC2 returned the instance and its private DNS name
	ResultNotFound = "not_found" // no such instance in the account (or terminated, or no DNS name)
	ResultError    = "error"     // EC2 failed, was rate limited, or the caller gave up
	ResultRejected = "rejected"  // malformed instance or account id, or too many pending lookups
)

// Metrics counts EC2 lookups and DescribeInstances calls. A nil *Metrics
// records nothing.
type Metrics struct {
	lookups   *prometheus.CounterVec
	calls     *prometheus.CounterVec
	batchSize prometheus.Histogram
	aiaCalls  prometheus.Counter // aws-iam-authenticator's name: calls sent
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered). Registering twice with one registry reuses the first set.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		lookups: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iamgate_ec2_lookups_total",
			Help: "EC2 private DNS name lookups (one per PrivateDNSName call) by result: cache_hit, ok, not_found, error, rejected.",
		}, []string{"result"})),
		calls: promreg.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iamgate_ec2_describe_instances_calls_total",
			Help: "ec2:DescribeInstances calls (one per page) by result: ok, error, rate_limited (refused locally, not sent).",
		}, []string{"result"})),
		batchSize: promreg.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "iamgate_ec2_describe_instances_batch_size",
			Help:    "Instance ids asked for in one batched DescribeInstances lookup.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100},
		})),
		aiaCalls: aiacompat.EC2DescribeInstancesCalls(reg),
	}
}

func (m *Metrics) lookup(result string) {
	if m != nil {
		m.lookups.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) call(result string) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(result).Inc()
	if result != "rate_limited" { // refused locally: never sent to EC2
		m.aiaCalls.Inc()
	}
}

func (m *Metrics) batch(n int) {
	if m != nil {
		m.batchSize.Observe(float64(n))
	}
}
