package sts

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/metrics/aiacompat"
	"github.com/iamgate/iamgate/internal/token"
)

// Metrics are the STS client and cache metrics. A nil *Metrics records
// nothing, so callers need no checks.
type Metrics struct {
	requests  *prometheus.CounterVec
	throttled prometheus.Counter
	duration  prometheus.Histogram
	hits      prometheus.Counter
	misses    prometheus.Counter
	rejects   prometheus.Counter
	busyTotal prometheus.Counter
	inflight  prometheus.Gauge
	aia       *aiacompat.STS
}

// NewMetrics creates the metrics and registers them with reg (nil: not
// registered). Registering twice with one registry reuses the first set, so
// several clients can share a registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "iamgate_sts_requests_total",
			Help: "STS GetCallerIdentity calls by HTTP status (\"error\" when no answer came) and region.",
		}, []string{"code", "region"})),
		throttled: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "iamgate_sts_throttled_total",
			Help: "STS answers that reported throttling.",
		})),
		duration: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "iamgate_sts_request_duration_seconds",
			Help:    "Duration of STS GetCallerIdentity calls, including failed ones.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		})),
		hits: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "iamgate_sts_cache_hits_total",
			Help: "Verifications answered from the STS answer cache.",
		})),
		misses: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "iamgate_sts_cache_misses_total",
			Help: "Verifications that found no usable cache entry.",
		})),
		rejects: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "iamgate_sts_rejection_cache_hits_total",
			Help: "Verifications refused from the cache of definitive STS rejections, without an STS call.",
		})),
		busyTotal: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "iamgate_sts_busy_total",
			Help: "Verifications refused because every STS call slot stayed busy for the queue wait (reason sts_busy).",
		})),
		inflight: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "iamgate_sts_in_flight",
			Help: "STS calls running now (bounded by server.stsMaxInFlight).",
		})),
		aia: aiacompat.NewSTS(reg),
	}
}

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
		panic(err) // a conflicting metric definition is a programming error
	}
	return c
}

// observe records one STS call. status 0 means no HTTP answer.
func (m *Metrics) observe(req *token.Request, status int, d time.Duration) {
	if m == nil {
		return
	}
	region := regionLabel(req.Partition, req.Region)
	aiaRegion := aiaRegionLabel(req)
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
		m.aia.Responses.WithLabelValues(code, aiaRegion).Inc()
	} else {
		m.aia.ConnectionFailures.WithLabelValues(aiaRegion).Inc()
	}
	m.requests.WithLabelValues(code, region).Inc()
	m.duration.Observe(d.Seconds())
}

// regionLabel keeps label values to the built-in region list: a region that
// only matches the partition's pattern could be varied by a caller to blow
// up the metric's cardinality.
func regionLabel(partition, region string) string {
	if token.ListedRegion(partition, region) {
		return region
	}
	return "other"
}

// aiaRegionLabel is StsRegion as aws-iam-authenticator labels it ("global"
// for the global host), bounded like regionLabel.
func aiaRegionLabel(req *token.Request) string {
	if req.Host == "sts.amazonaws.com" {
		return aiacompat.GlobalRegion
	}
	return regionLabel(req.Partition, req.Region)
}

func (m *Metrics) throttle(req *token.Request) {
	if m == nil {
		return
	}
	m.throttled.Inc()
	m.aia.Throttling.WithLabelValues(aiaRegionLabel(req)).Inc()
}

func (m *Metrics) rejectionHit() {
	if m != nil {
		m.rejects.Inc()
	}
}

func (m *Metrics) busy() {
	if m != nil {
		m.busyTotal.Inc()
	}
}

func (m *Metrics) inFlight(delta float64) {
	if m != nil {
		m.inflight.Add(delta)
	}
}

func (m *Metrics) hit() {
	if m != nil {
		m.hits.Inc()
	}
}

func (m *Metrics) miss() {
	if m != nil {
		m.misses.Inc()
	}
}
