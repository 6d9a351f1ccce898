package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
	"github.com/iamgate/iamgate/internal/token/presign"
)

const (
	liveAKID   = "AKIAIOSFODNN7EXAMPLE"
	liveSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// testClock is a settable clock safe to read from handler goroutines.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.set(time.Now().UTC().Truncate(time.Second))
	return c
}
func (c *testClock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *testClock) add(d time.Duration) { c.set(c.now().Add(d)) }

// liveSTS is a server wired to the real validator, STS client and caching
// verifier, talking to the STS double, on one injectable clock.
type liveSTS struct {
	*harness
	clk    *testClock
	double *ststest.Server
}

func startLive(t *testing.T, o sts.CacheOptions) *liveSTS {
	t.Helper()
	clk := newTestClock()
	double := ststest.Start(t, ststest.WithClock(clk.now))
	double.AddKey(liveAKID, liveSecret, "", ststest.Identity{Arn: testARN, Account: testAccount, UserId: testUserID})
	reg := prometheus.NewRegistry()
	m := sts.NewMetrics(reg)
	o.Metrics, o.Now = m, clk.now
	verifier := sts.NewCachingVerifier(sts.New(sts.Options{Transport: double.Transport(), Metrics: m}), o)
	h := start(t, func(c *Config) {
		c.Validator = &token.Validator{Now: clk.now}
		c.Verifier = verifier
		c.Registry = reg
		c.Now = clk.now
	})
	return &liveSTS{harness: h, clk: clk, double: double}
}

// sign presigns a token for the server's cluster at the clock's time, off
// by skew (distinct skews give distinct tokens).
func (l *liveSTS) sign(t *testing.T, akid, secret string, skew time.Duration) string {
	t.Helper()
	cfg := aws.Config{Region: "us-west-2", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, nil
	})}
	tok, _, err := presign.Token(context.Background(), cfg, "test-cluster", presign.Options{Now: func() time.Time { return l.clk.now().Add(skew) }})
	must(t, err)
	return tok
}

// TestRevokedKeyDeniedAfterCacheTTL: a token is accepted, then STS stops
// accepting its key; reviews keep succeeding from the identity cache only
// until the TTL has passed, then they are denied.
func TestRevokedKeyDeniedAfterCacheTTL(t *testing.T) {
	for name, revoke := range map[string]func(*ststest.Server){
		"InvalidClientTokenId": func(d *ststest.Server) { d.RemoveKey(liveAKID) },
		"ExpiredToken":         func(d *ststest.Server) { d.ExpireKey(liveAKID) },
	} {
		t.Run(name, func(t *testing.T) {
			l := startLive(t, sts.CacheOptions{MaxEntries: 100, TTL: time.Minute})
			tok := l.sign(t, liveAKID, liveSecret, 0)
			if code, rr, body := l.review(t, apiV1, tok); code != http.StatusOK || !rr.Status.Authenticated {
				t.Fatalf("fresh token: %d %s", code, body)
			}
			revoke(l.double)
			l.clk.add(59 * time.Second)
			if code, _, body := l.review(t, apiV1, tok); code != http.StatusOK {
				t.Fatalf("within the TTL: %d %s", code, body)
			}
			l.clk.add(time.Second)
			code, rr, body := l.review(t, apiV1, tok)
			if code != http.StatusForbidden || rr.Status.Authenticated {
				t.Fatalf("revoked key after the TTL: %d %s, want 403", code, body)
			}
			last := l.logs.reviews(t)
			if got := last[len(last)-1]["reason"]; got != "sts_invalid" {
				t.Fatalf("reason %v, want sts_invalid", got)
			}
			if l.double.Calls() != 2 {
				t.Fatalf("STS calls %d, want 2", l.double.Calls())
			}
		})
	}
}

// TestBogusTokenFloodCostsOneSTSCall: 50 reviews of one token STS refused
// make one STS call and are all denied.
func TestBogusTokenFloodCostsOneSTSCall(t *testing.T) {
	l := startLive(t, sts.CacheOptions{MaxEntries: 100, TTL: time.Minute})
	tok := l.sign(t, "AKIAUNKNOWNKEY000000", "not-a-real-secret", 0)
	for i := range 50 {
		if code, rr, body := l.review(t, apiV1, tok); code != http.StatusForbidden || rr.Status.Authenticated {
			t.Fatalf("review %d: %d %s", i, code, body)
		}
	}
	if n := l.double.Calls(); n != 1 {
		t.Fatalf("STS calls %d, want 1", n)
	}
}

// TestSTSBusyIs429: with the only STS slot held by a slow call, another
// token's review fails closed with 429 and reason sts_busy, and a cached
// token is still answered.
func TestSTSBusyIs429(t *testing.T) {
	l := startLive(t, sts.CacheOptions{MaxEntries: 100, TTL: time.Minute, MaxInFlight: 1, QueueWait: 50 * time.Millisecond})
	cached := l.sign(t, liveAKID, liveSecret, 0)
	if code, _, body := l.review(t, apiV1, cached); code != http.StatusOK {
		t.Fatalf("warm-up: %d %s", code, body)
	}
	l.double.SetLatency(time.Second)
	var wg sync.WaitGroup
	wg.Add(1)
	slow := l.sign(t, liveAKID, liveSecret, -time.Second)
	go func() {
		defer wg.Done()
		_, _ = l.client.Post(l.url+"/authenticate", "application/json", strings.NewReader(reviewBody(apiV1, slow)))
	}()
	defer wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for l.double.Calls() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("slow review did not reach STS")
		}
		time.Sleep(time.Millisecond)
	}
	code, rr, body := l.review(t, apiV1, l.sign(t, liveAKID, liveSecret, -2*time.Second))
	if code != http.StatusTooManyRequests || rr.Status.Authenticated || rr.Status.Error != errThrottled {
		t.Fatalf("busy review: %d %s, want 429 throttled", code, body)
	}
	if code, _, body := l.review(t, apiV1, cached); code != http.StatusOK {
		t.Fatalf("cached token while STS is busy: %d %s", code, body)
	}
	var reasons []any
	for _, r := range l.logs.reviews(t) {
		reasons = append(reasons, r["reason"])
	}
	found := false
	for _, r := range reasons {
		found = found || r == "sts_busy"
	}
	if !found {
		t.Fatalf("no sts_busy audit line: %v", reasons)
	}
	_, metrics := get(t, http.DefaultClient, l.health+"/metrics")
	for _, want := range []string{"iamgate_sts_busy_total 1", `iamgate_reviews_total{result="throttled"} 1`,
		`aws_iam_authenticator_authenticate_latency_seconds_count{result="sts_throttling"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
