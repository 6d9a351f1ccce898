package server

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/metrics/aiacompat"
)

// Metric result labels. They group reasons coarsely so dashboards can alert
// on "error" (our side or STS broken) apart from "deny" (caller's problem).
const (
	resultAllow      = "allow"
	resultDeny       = "deny"
	resultThrottled  = "throttled"
	resultError      = "error"
	resultBadRequest = "bad_request"
)

type metrics struct {
	reviews    *prometheus.CounterVec
	duration   prometheus.Histogram
	aiaLatency *prometheus.HistogramVec
	// aiaByResult holds aiaLatency's children, looked up once: the review
	// path then does no label hashing for them. byResult does the same for
	// reviews.
	aiaByResult map[string]prometheus.Observer
	byResult    map[string]prometheus.Counter
}

// newMetrics registers the review metrics, aws-iam-authenticator's latency
// histogram, the serving certificate's expiry and the build info.
func newMetrics(reg *prometheus.Registry, certs *certReloader, version string, ready func() bool) (*metrics, error) {
	m := &metrics{
		reviews: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iamgate_reviews_total",
			Help: "TokenReviews answered, by result (allow, deny, throttled, error, bad_request).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "iamgate_review_duration_seconds",
			Help:    "Time to answer a TokenReview, including the STS call.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	expiry := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "iamgate_serving_certificate_expiry_timestamp_seconds",
		Help: "NotAfter of the serving certificate in use, as a Unix time; it follows reloads.",
	}, func() float64 {
		if c := certs.cur.Load(); c != nil && c.Leaf != nil {
			return float64(c.Leaf.NotAfter.Unix())
		}
		return 0
	})
	readyGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "iamgate_ready",
		Help: "1 while /readyz answers 200: every mapping backend has loaded and the server is not draining.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	})
	revision, goVersion := buildRevision()
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "iamgate_build_info",
		Help: "Always 1; the labels name the running build.",
	}, []string{"version", "revision", "goversion"})
	build.WithLabelValues(version, revision, goVersion).Set(1)
	for _, c := range []prometheus.Collector{m.reviews, m.duration, expiry, readyGauge, build} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	m.aiaLatency = aiacompat.Latency(reg)
	m.byResult = map[string]prometheus.Counter{}
	for _, r := range []string{resultAllow, resultDeny, resultThrottled, resultError, resultBadRequest} {
		m.byResult[r] = m.reviews.WithLabelValues(r) // exports zeros too, so rate() works from the start
	}
	m.aiaByResult = make(map[string]prometheus.Observer, len(aiacompat.Results))
	for _, r := range aiacompat.Results {
		m.aiaByResult[r] = m.aiaLatency.WithLabelValues(r)
	}
	return m, nil
}

func buildRevision() (revision, goVersion string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown", "unknown"
	}
	revision = "unknown"
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	return revision, bi.GoVersion
}

func (m *metrics) observe(d *decision, took time.Duration) {
	if c, ok := m.byResult[d.result]; ok {
		c.Inc()
	} else {
		m.reviews.WithLabelValues(d.result).Inc() // a result outside the known set still counts
	}
	m.duration.Observe(took.Seconds())
	m.aiaByResult[aiaResult(d)].Observe(took.Seconds())
}

// aiaResult is the result label aws-iam-authenticator would have used:
// anything STS or its answer caused is sts_error, a local token check is
// invalid_token, and a failed or missing mapping is its "uknown_user".
func aiaResult(d *decision) string {
	switch {
	case d.allow:
		return aiacompat.ResultSuccess
	case d.result == resultBadRequest:
		return aiacompat.ResultMalformed
	case d.result == resultThrottled:
		return aiacompat.ResultSTSThrottling
	}
	switch d.reason {
	case "not_mapped", "mapping_error":
		return aiacompat.ResultUnknownUser
	case "sts_invalid", "sts_unavailable", "sts_error", "bad_identity", "bad_arn", "identity_mismatch", "panic", "internal":
		return aiacompat.ResultSTSError
	}
	return aiacompat.ResultInvalidToken
}
