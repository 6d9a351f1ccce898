package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	reviews  *prometheus.CounterVec
	duration prometheus.Histogram
	// byResult holds the reviews child of each known result, so a review
	// costs no label hashing; it is read-only after newMetrics.
	byResult map[string]prometheus.Counter
}

// countReview adds one review; a result outside the known set still counts.
func (m *metrics) countReview(result string) {
	if c, ok := m.byResult[result]; ok {
		c.Inc()
		return
	}
	m.reviews.WithLabelValues(result).Inc()
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
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
	for _, c := range []prometheus.Collector{m.reviews, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	m.byResult = map[string]prometheus.Counter{}
	for _, r := range []string{resultAllow, resultDeny, resultThrottled, resultError, resultBadRequest} {
		m.byResult[r] = m.reviews.WithLabelValues(r) // also exports zeros so rate() works from the start
	}
	return m, nil
}

// tokenHash is how a token appears in logs: the first 16 hex digits of its
// SHA-256, enough to correlate with a client's own log, useless to replay.
func tokenHash(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}

// record counts and audits one decision: exactly one INFO "review" line.
func (s *Server) record(ctx context.Context, d *decision, apiVersion, remote string, took time.Duration) {
	s.metrics.countReview(d.result)
	s.metrics.duration.Observe(took.Seconds())

	decisionWord := "deny"
	if d.allow {
		decisionWord = "allow"
	}
	// Room for every attribute below, so the line is built without regrowing.
	attrs := make([]slog.Attr, 0, 17)
	attrs = append(attrs,
		slog.String("decision", decisionWord),
		slog.String("reason", d.reason),
		slog.String("tokenHash", d.tokenHash),
	)
	if d.scrubbed {
		attrs = append(attrs, slog.Bool("scrubbed", true))
	} else {
		attrs = append(attrs,
			slog.String("arn", d.id.ARN),
			slog.String("canonicalArn", d.id.CanonicalARN),
			slog.String("accountId", d.id.AccountID),
			slog.String("userId", d.id.UserID),
			slog.String("accessKeyId", d.id.AccessKeyID),
		)
	}
	var username string
	var groups []string
	var source string
	if d.res != nil {
		username, groups, source = d.res.Username, d.res.Groups, d.res.Source
	}
	attrs = append(attrs,
		slog.String("source", source),
		slog.String("username", username),
		slog.Any("groups", groups),
		slog.Int("status", d.status),
		slog.String("apiVersion", apiVersion),
		slog.String("remote", remote),
		slog.Duration("duration", took),
	)
	if d.detail != "" {
		attrs = append(attrs, slog.String("detail", d.detail))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "review", attrs...)
}
