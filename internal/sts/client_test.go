package sts

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/iamgate/iamgate/internal/token"
)

func TestVerifyAgainstDouble(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	e := newEnv(t, Options{Metrics: m})
	_, req := e.validToken(t, testCluster)
	id, err := e.client.Verify(context.Background(), req, testCluster)
	if err != nil {
		t.Fatal(err)
	}
	if id != (Identity{ARN: testARN, Account: "111122223333", UserID: "AROAEXAMPLEADMIN:alice"}) {
		t.Fatalf("got %+v", id)
	}
	if got := counterValue(t, m.requests.WithLabelValues("200", "us-west-2")); got != 1 {
		t.Fatalf("requests_total{200,us-west-2} = %v", got)
	}
	if NewMetrics(reg) == nil { // registering again reuses, no panic
		t.Fatal("nil metrics")
	}
}

func TestVerifyClassifiesDoubleAnswers(t *testing.T) {
	m := NewMetrics(nil)
	e := newEnv(t, Options{Metrics: m})
	_, req := e.validToken(t, testCluster)
	ctx := context.Background()

	if _, err := e.client.Verify(ctx, req, "cluster-b"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("wrong cluster: %v", err)
	}
	e.double.ThrottleNext(1)
	if _, err := e.client.Verify(ctx, req, testCluster); !errors.Is(err, ErrThrottled) {
		t.Fatalf("throttled: %v", err)
	}
	if counterValue(t, m.throttled) != 1 || counterValue(t, m.requests.WithLabelValues("400", "us-west-2")) != 1 || counterValue(t, m.requests.WithLabelValues("403", "us-west-2")) != 1 {
		t.Fatal("throttle metrics")
	}
	e.double.FailNext(1)
	if _, err := e.client.Verify(ctx, req, testCluster); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("500: %v", err)
	}
	e.double.ExpireKey(testAKID)
	if _, err := e.client.Verify(ctx, req, testCluster); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired key: %v", err)
	}
	e.double.SetLatency(3 * time.Second)
	start := time.Now()
	_, err := New(Options{Transport: e.double.Transport(), Metrics: m, Timeout: 300 * time.Millisecond}).Verify(ctx, req, testCluster)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("timeout: %v after %v", err, time.Since(start))
	}
	if counterValue(t, m.requests.WithLabelValues("error", "us-west-2")) != 1 {
		t.Fatal("error metric")
	}
	sig := req.URL[strings.LastIndex(req.URL, "=")+1:]
	if strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), "X-Amz") {
		t.Fatalf("error leaks the URL: %v", err)
	}
}

func TestVerifyRefusesBadInput(t *testing.T) {
	c := New(Options{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		t.Fatal("no call expected")
		return nil, nil
	})})
	req := &token.Request{URL: "https://sts.us-west-2.amazonaws.com/?a=b", Host: "sts.us-west-2.amazonaws.com"}
	for _, tc := range []struct {
		name    string
		req     *token.Request
		cluster string
	}{
		{"nil request", nil, testCluster},
		{"empty cluster", req, ""},
		{"host differs from URL", &token.Request{URL: req.URL, Host: "sts.amazonaws.com"}, testCluster},
		{"http", &token.Request{URL: "http://sts.us-west-2.amazonaws.com/", Host: req.Host}, testCluster},
		{"userinfo", &token.Request{URL: "https://x@sts.us-west-2.amazonaws.com/", Host: req.Host}, testCluster},
	} {
		if _, err := c.Verify(context.Background(), tc.req, tc.cluster); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func canned(status int, ctype, body string, hdr ...string) roundTripFunc {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {ctype}}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Set(hdr[i], hdr[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
}

const okJSON = `{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"111122223333","Arn":"arn:aws:iam::111122223333:user/bob","UserId":"AIDAEXAMPLEBOB"},"ResponseMetadata":{"RequestId":"r"}}}`

func TestVerifyClassifiesAnswers(t *testing.T) {
	okXML := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/bob</Arn><UserId>AIDAEXAMPLEBOB</UserId><Account>111122223333</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`
	throttleXML := `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded SECRETBODY</Message></Error></ErrorResponse>`
	throttleJSON := `{"Error":{"Code":"Throttling","Message":"Rate exceeded SECRETBODY","Type":"Sender"},"RequestId":"r"}`
	denyJSON := `{"Error":{"Code":"SignatureDoesNotMatch","Message":"SECRETBODY"}}`
	bad := func(arn, account string) string {
		return strings.NewReplacer("ARN", arn, "ACCT", account).Replace(`{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Account":"ACCT","Arn":"ARN","UserId":"AIDAX"}}}`)
	}
	cases := []struct {
		name string
		rt   roundTripFunc
		want error
	}{
		{"json ok", canned(200, "application/json", okJSON), nil},
		{"xml ok", canned(200, "text/xml", okXML), nil},
		{"xml throttling at 400", canned(400, "text/xml", throttleXML), ErrThrottled},
		{"json throttling at 400", canned(400, "application/json", throttleJSON), ErrThrottled},
		{"429", canned(429, "text/plain", "SECRETBODY"), ErrThrottled},
		{"403", canned(403, "application/json", denyJSON), ErrInvalidToken},
		{"400 other code", canned(400, "text/xml", `<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>`), ErrInvalidToken},
		{"redirect", canned(302, "text/html", "SECRETBODY", "Location", "https://evil.example/"), ErrInvalidToken},
		{"500", canned(500, "text/xml", "SECRETBODY"), ErrUnavailable},
		{"503 html", canned(503, "text/html", "<html>SECRETBODY"), ErrUnavailable},
		{"204", canned(204, "", ""), ErrUnavailable},
		{"200 garbage", canned(200, "application/json", "SECRETBODY{"), ErrUnavailable},
		{"200 empty json", canned(200, "application/json", "{}"), ErrUnavailable},
		{"200 html", canned(200, "text/html", "<html>SECRETBODY</html>"), ErrUnavailable},
		{"200 oversized", canned(200, "application/json", okJSON+strings.Repeat(" ", 64<<10)), ErrUnavailable},
		{"empty arn", canned(200, "application/json", bad("", "111122223333")), ErrUnavailable},
		{"account not 12 digits", canned(200, "application/json", bad("arn:aws:iam::1111:user/x", "1111")), ErrUnavailable},
		{"account letters", canned(200, "application/json", bad("arn:aws:iam::11112222333a:user/x", "11112222333a")), ErrUnavailable},
		{"arn account differs", canned(200, "application/json", bad("arn:aws:iam::999999999999:user/x", "111122223333")), ErrUnavailable},
		{"not an arn", canned(200, "application/json", bad("user/x", "111122223333")), ErrUnavailable},
		{"control char in arn", canned(200, "application/json", bad(`arn:aws:iam::111122223333:user/x\n`, "111122223333")), ErrUnavailable},
		{"transport error", func(*http.Request) (*http.Response, error) { return nil, errors.New("boom") }, ErrUnavailable},
	}
	req := &token.Request{URL: "https://sts.us-west-2.amazonaws.com/?X-Amz-Signature=SIGSIGSIG", Host: "sts.us-west-2.amazonaws.com", Region: "us-west-2", Partition: "aws"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			rt := func(r *http.Request) (*http.Response, error) {
				calls.Add(1)
				if r.Header.Get(token.ClusterIDHeader) != testCluster || r.Header.Get("Accept") != "application/json" || r.Method != http.MethodGet {
					t.Errorf("request headers %v", r.Header)
				}
				return tc.rt(r)
			}
			id, err := New(Options{Transport: roundTripFunc(rt)}).Verify(context.Background(), req, testCluster)
			if tc.want == nil {
				if err != nil || id.ARN != "arn:aws:iam::111122223333:user/bob" || id.UserID != "AIDAEXAMPLEBOB" {
					t.Fatalf("got %+v, %v", id, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || id != (Identity{}) {
				t.Fatalf("got %+v, %v; want %v", id, err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRETBODY") || strings.Contains(err.Error(), "SIGSIGSIG") {
				t.Fatalf("error leaks body or URL: %v", err)
			}
			if calls.Load() != 1 {
				t.Fatalf("%d round trips (redirect followed?)", calls.Load())
			}
		})
	}
}

func TestProductionTransport(t *testing.T) {
	c := New(Options{})
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok || tr.Proxy == nil || tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion < tls.VersionTLS12 ||
		tr.TLSHandshakeTimeout == 0 || tr.ResponseHeaderTimeout == 0 {
		t.Fatalf("production transport %+v", c.hc.Transport)
	}
	if c.timeout != DefaultTimeout || c.hc.CheckRedirect == nil {
		t.Fatal("defaults")
	}
}

func TestRegionLabelBounded(t *testing.T) {
	if regionLabel("aws", "us-west-2") != "us-west-2" || regionLabel("aws", "us-zzzz-9") != "other" || regionLabel("nope", "us-west-2") != "other" {
		t.Fatal("region label")
	}
	var m *Metrics // nil metrics are no-ops
	req := &token.Request{Partition: "aws", Region: "us-west-2", Host: "sts.us-west-2.amazonaws.com"}
	m.observe(req, 200, time.Second)
	m.throttle(req)
	m.hit()
	m.miss()
	m.rejectionHit()
	m.busy()
	m.inFlight(1)
}

// counterValue reads a counter without prometheus/testutil, whose extra
// dependencies are not in go.sum.
func counterValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestAIACompatibleSTSMetrics: aws-iam-authenticator's STS counters, with
// its label names, and "global" for the global host.
func TestAIACompatibleSTSMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	e := newEnv(t, Options{Metrics: m, Timeout: 100 * time.Millisecond})
	ctx := context.Background()
	_, req := e.validToken(t, testCluster)
	if _, err := e.client.Verify(ctx, req, testCluster); err != nil {
		t.Fatal(err)
	}
	e.double.ThrottleNext(1)
	_, _ = e.client.Verify(ctx, req, testCluster)
	global := signToken(t, "sts.amazonaws.com", "us-east-1", testCluster, e.clk.t)
	if _, err := e.client.Verify(ctx, e.validate(t, global), testCluster); err != nil {
		t.Fatal(err)
	}
	e.double.SetLatency(time.Second)
	_, _ = e.client.Verify(ctx, req, testCluster)

	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range mt.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			got[key] = mt.GetCounter().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"aws_iam_authenticator_sts_responses_total,ResponseCode=200,StsRegion=us-west-2": 1,
		"aws_iam_authenticator_sts_responses_total,ResponseCode=400,StsRegion=us-west-2": 1,
		"aws_iam_authenticator_sts_responses_total,ResponseCode=200,StsRegion=global":    1,
		"aws_iam_authenticator_sts_throttling_total,StsRegion=us-west-2":                 1,
		"aws_iam_authenticator_sts_connection_failures_total,StsRegion=us-west-2":        1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}
