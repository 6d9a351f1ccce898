package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
	"github.com/iamgate/iamgate/internal/token/presign"
)

// faultSTSTimeout is the STS call timeout of the fault tests; every review
// must end within it plus faultSlack, however STS misbehaves.
const (
	faultSTSTimeout = 800 * time.Millisecond
	faultSlack      = 100 * time.Millisecond
)

// faultRig is the real server (TLS listener, validator, STS client and
// caching verifier) in front of the STS double, with a keep-alive client.
type faultRig struct {
	*harness
	double *ststest.Server
	stsTr  *http.Transport // the STS client's transport
	webTr  *http.Transport // the test client's transport
	skew   atomic.Int64
}

func startFaultRig(t *testing.T) *faultRig {
	t.Helper()
	double := ststest.Start(t)
	double.AddKey(liveAKID, liveSecret, "", ststest.Identity{Arn: testARN, Account: testAccount, UserId: testUserID})
	reg := prometheus.NewRegistry()
	m := sts.NewMetrics(reg)
	stsTr := double.Transport()
	// TTL 0: no identity is reused, so every review below asks STS.
	verifier := sts.NewCachingVerifier(sts.New(sts.Options{Transport: stsTr, Timeout: faultSTSTimeout, Metrics: m}),
		sts.CacheOptions{MaxEntries: 100, Metrics: m})
	h := start(t, func(c *Config) {
		c.Validator = &token.Validator{}
		c.Verifier = verifier
		c.Registry = reg
	})
	webTr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.pki.pool}}
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: webTr}
	t.Cleanup(func() { webTr.CloseIdleConnections(); stsTr.CloseIdleConnections() })
	return &faultRig{harness: h, double: double, stsTr: stsTr, webTr: webTr}
}

// token signs a token no review has used yet (each one a second older),
// so neither cache can answer for it.
func (r *faultRig) token(t *testing.T) string {
	t.Helper()
	skew := time.Duration(r.skew.Add(1)) * time.Second
	cfg := aws.Config{Region: "us-west-2", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: liveAKID, SecretAccessKey: liveSecret}, nil
	})}
	tok, _, err := presign.Token(context.Background(), cfg, "test-cluster",
		presign.Options{Now: func() time.Time { return time.Now().Add(-skew) }})
	must(t, err)
	return tok
}

// timedReview posts one review and returns its answer and how long it took.
func (r *faultRig) timedReview(t *testing.T) (int, reviewResult, time.Duration) {
	t.Helper()
	body := reviewBody(apiV1, r.token(t))
	begin := time.Now()
	resp, err := r.client.Post(r.url+"/authenticate", "application/json", strings.NewReader(body))
	must(t, err)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(begin)
	must(t, err)
	var rr reviewResult
	if err := json.Unmarshal(b, &rr); err != nil {
		t.Fatalf("answer is not a TokenReview (%d): %q", resp.StatusCode, b)
	}
	return resp.StatusCode, rr, took
}

// settle closes idle connections on both sides of the server, so that
// only goroutines a review leaked remain.
func (r *faultRig) settle() {
	r.webTr.CloseIdleConnections()
	r.stsTr.CloseIdleConnections()
}

// TestSTSFaultsFailClosed breaks STS in every way the double knows, a few
// reviews each: none is accepted, each ends within the STS timeout plus
// faultSlack, the one right after STS recovers is accepted, and the
// goroutines are back to what they were before the faults.
func TestSTSFaultsFailClosed(t *testing.T) {
	r := startFaultRig(t)
	if code, rr, _ := r.timedReview(t); code != http.StatusOK || !rr.Status.Authenticated {
		t.Fatalf("warm-up review: %d %+v", code, rr.Status)
	}
	r.settle()
	baseline := goleak.IgnoreCurrent()

	const burst = 3
	const queued = 100 // more than the reviews use, retries included; Heal drops the rest
	cases := []struct {
		name   string
		inject func()
		status int    // HTTP status of the denied review
		reason string // audit reason
	}{
		{"5xx burst", func() { r.double.FailNext(queued) }, http.StatusForbidden, "sts_unavailable"},
		{"503", func() { r.double.FailNextWith(queued, http.StatusServiceUnavailable, "ServiceUnavailable", "busy") }, http.StatusForbidden, "sts_unavailable"},
		{"throttling", func() { r.double.ThrottleNext(queued) }, http.StatusTooManyRequests, "sts_throttled"},
		{"429", func() {
			r.double.FailNextWith(queued, http.StatusTooManyRequests, "TooManyRequestsException", "slow down")
		}, http.StatusTooManyRequests, "sts_throttled"},
		{"timeout", func() { r.double.BreakNext(queued, ststest.BreakHang) }, http.StatusForbidden, "sts_unavailable"},
		{"slow body", func() { r.double.BreakNext(queued, ststest.BreakSlowBody) }, http.StatusForbidden, "sts_unavailable"},
		{"connection reset", func() { r.double.BreakNext(queued, ststest.BreakReset) }, http.StatusForbidden, "sts_unavailable"},
		{"garbage body", func() { r.double.BreakNext(queued, ststest.BreakGarbage) }, http.StatusForbidden, "sts_unavailable"},
		{"truncated body", func() { r.double.BreakNext(queued, ststest.BreakTruncated) }, http.StatusForbidden, "sts_unavailable"},
		{"redirect", func() { r.double.BreakNext(queued, ststest.BreakRedirect) }, http.StatusForbidden, "sts_invalid"},
		{"untrusted TLS", func() { r.double.SetUntrustedTLS(true) }, http.StatusForbidden, "sts_unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.inject()
			before := len(r.logs.reviews(t))
			for i := range burst {
				code, rr, took := r.timedReview(t)
				if rr.Status.Authenticated || code == http.StatusOK {
					t.Fatalf("review %d accepted while STS is broken: %d %+v", i, code, rr.Status)
				}
				if code != c.status {
					t.Errorf("review %d: HTTP %d, want %d", i, code, c.status)
				}
				if took > faultSTSTimeout+faultSlack {
					t.Errorf("review %d took %v, over the STS timeout %v + %v", i, took, faultSTSTimeout, faultSlack)
				}
			}
			lines := r.logs.reviews(t)[before:]
			for _, l := range lines {
				if l["reason"] != c.reason {
					t.Errorf("audit reason %v, want %s", l["reason"], c.reason)
				}
			}
			if len(lines) != burst {
				t.Errorf("%d audit lines, want %d", len(lines), burst)
			}
			r.double.Heal()
			if code, rr, took := r.timedReview(t); code != http.StatusOK || !rr.Status.Authenticated {
				t.Fatalf("first review after STS recovered: %d %+v (%v)", code, rr.Status, took)
			}
		})
	}
	r.settle()
	if err := goleak.Find(baseline); err != nil {
		t.Fatalf("goroutines left after the faults: %v", err)
	}
}
