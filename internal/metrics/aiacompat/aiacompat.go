// Package aiacompat exports aws-iam-authenticator's metric names, labels and
// label values next to iamgate's own, so the dashboards and alerts written
// for aws-iam-authenticator keep working after the switch. Each function
// registers its collectors on first use and returns the same ones to later
// callers of the same registry, so the server, the STS client and the
// backends can each ask for what they report.
package aiacompat

import (
	"errors"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace is aws-iam-authenticator's metric prefix.
const Namespace = "aws_iam_authenticator"

// Values of the result label of authenticate_latency_seconds, spelt as
// aws-iam-authenticator spells them ("uknown_user" included): dashboards
// select on these strings.
const (
	ResultMalformed     = "malformed_request"
	ResultInvalidToken  = "invalid_token"
	ResultSTSError      = "sts_error"
	ResultSTSThrottling = "sts_throttling"
	ResultUnknownUser   = "uknown_user"
	ResultSuccess       = "success"
)

// Results lists every result label value, for exporting zeros.
var Results = []string{ResultMalformed, ResultInvalidToken, ResultSTSError, ResultSTSThrottling, ResultUnknownUser, ResultSuccess}

// GlobalRegion is the StsRegion label of the global host sts.amazonaws.com.
const GlobalRegion = "global"

// Latency is authenticate_latency_seconds{result}, with the client's
// default buckets as upstream uses.
func Latency(reg prometheus.Registerer) *prometheus.HistogramVec {
	return register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "authenticate_latency_seconds",
		Help: "Authenticate call latency (aws-iam-authenticator compatible; see iamgate_review_duration_seconds).",
	}, []string{"result"}))
}

// STS holds the STS call counters.
type STS struct {
	Responses          *prometheus.CounterVec // ResponseCode, StsRegion
	ConnectionFailures *prometheus.CounterVec // StsRegion
	Throttling         *prometheus.CounterVec // StsRegion
}

// NewSTS registers the STS counters.
func NewSTS(reg prometheus.Registerer) *STS {
	return &STS{
		Responses: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sts_responses_total",
			Help: "STS responses by HTTP status code and region (aws-iam-authenticator compatible).",
		}, []string{"ResponseCode", "StsRegion"})),
		ConnectionFailures: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sts_connection_failures_total",
			Help: "STS calls that got no answer (network error or timeout) (aws-iam-authenticator compatible).",
		}, []string{"StsRegion"})),
		Throttling: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "sts_throttling_total",
			Help: "STS calls that were throttled (aws-iam-authenticator compatible).",
		}, []string{"StsRegion"})),
	}
}

// ConfigMapWatchFailures counts failed list/watch attempts of aws-auth.
func ConfigMapWatchFailures(reg prometheus.Registerer) prometheus.Counter {
	return register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "configmap_watch_failures_total",
		Help: "EKS ConfigMap watch failures (aws-iam-authenticator compatible).",
	}))
}

// EC2DescribeInstancesCalls counts DescribeInstances calls sent to EC2.
func EC2DescribeInstancesCalls(reg prometheus.Registerer) prometheus.Counter {
	return register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "ec2_describe_instances_calls_total",
		Help: "Number of EC2 DescribeInstances calls (aws-iam-authenticator compatible).",
	}))
}

// DynamicFile holds the dynamic-file backend's metrics.
type DynamicFile struct {
	Failures prometheus.Counter
	// E2ELatency{type} is seconds from a file's write to its use; upstream
	// labels "dynamic_file" and "dynamic_backend_mode".
	E2ELatency *prometheus.HistogramVec
}

// NewDynamicFile registers the dynamic-file backend's metrics.
func NewDynamicFile(reg prometheus.Registerer) *DynamicFile {
	return &DynamicFile{
		Failures: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: Namespace, Name: "dynamicfile_failures_total",
			Help: "Dynamic file read or parse failures (aws-iam-authenticator compatible).",
		})),
		E2ELatency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "dynamic_e2e_latency_seconds",
			Help:    "End to end latency in seconds partitioned by type (aws-iam-authenticator compatible).",
			Buckets: []float64{1, 3, 5, 10, 15, 20, 30, 60},
		}, []string{"type"})),
	}
}

// SetBackendMode registers dynamic_file_enabled and dynamic_file_only and
// sets them from the configured backend order.
func SetBackendMode(reg prometheus.Registerer, modes []string) (enabled, only prometheus.Gauge) {
	enabled = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "dynamic_file_enabled",
		Help: "1 if the DynamicFile backend is enabled (aws-iam-authenticator compatible).",
	}))
	only = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "dynamic_file_only",
		Help: "1 if DynamicFile is the only backend (aws-iam-authenticator compatible).",
	}))
	on := slices.Contains(modes, "DynamicFile")
	enabled.Set(b2f(on))
	only.Set(b2f(on && len(modes) == 1))
	return enabled, only
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// register adds c to reg or returns the collector already registered under
// the same definition; a nil reg keeps c private. A conflicting definition
// is a programming error and panics.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}
