package sts

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRejectionCached: replaying a token STS rejected for good costs one
// STS call, whichever definitive code STS gave.
func TestRejectionCached(t *testing.T) {
	const host, region = "sts.us-west-2.amazonaws.com", "us-west-2"
	cases := map[string]func(e *env) string{
		"InvalidClientTokenId": func(e *env) string {
			return signTokenWith(t, aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "x"}, host, region, testCluster, e.clk.t)
		},
		"SignatureDoesNotMatch": func(e *env) string {
			return signTokenWith(t, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "wrong"}, host, region, testCluster, e.clk.t)
		},
		"ExpiredToken": func(e *env) string {
			e.double.ExpireKey(testAKID)
			return signToken(t, host, region, testCluster, e.clk.t)
		},
		"AccessDenied": func(e *env) string {
			e.double.FailNextWith(1, http.StatusForbidden, "AccessDenied", "denied")
			return signToken(t, host, region, testCluster, e.clk.t)
		},
	}
	for code, mk := range cases {
		t.Run(code, func(t *testing.T) {
			e, cv, m := newCache(t, 100)
			tok := mk(e)
			req := e.validate(t, tok)
			for i := range 50 {
				_, err := cv.Verify(context.Background(), tok, req, testCluster)
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("review %d: %v", i, err)
				}
			}
			if n := e.double.Calls(); n != 1 {
				t.Fatalf("50 reviews of one rejected token made %d STS calls, want 1", n)
			}
			if got := counterValue(t, m.rejects); got != 49 {
				t.Fatalf("rejection cache hits %v, want 49", got)
			}
		})
	}
}

// TestRejectionExpiresWithTokenWindow: a remembered rejection lasts until
// X-Amz-Date + 15 min and no longer.
func TestRejectionExpiresWithTokenWindow(t *testing.T) {
	e, cv, _ := newCache(t, 100)
	tok := signTokenWith(t, aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "x"},
		"sts.us-west-2.amazonaws.com", "us-west-2", testCluster, testStart)
	req := e.validate(t, tok)
	ctx := context.Background()
	_, _ = cv.Verify(ctx, tok, req, testCluster)
	e.clk.t = testStart.Add(15*time.Minute - time.Second)
	_, _ = cv.Verify(ctx, tok, req, testCluster)
	if e.double.Calls() != 1 {
		t.Fatalf("calls %d within the window, want 1", e.double.Calls())
	}
	e.clk.t = testStart.Add(15 * time.Minute)
	_, _ = cv.Verify(ctx, tok, req, testCluster)
	if e.double.Calls() != 2 || cv.Rejections() != 0 {
		t.Fatalf("after the window: calls %d, rejections %d", e.double.Calls(), cv.Rejections())
	}
}

// TestTransientFailuresNotCached: 5xx, throttling, timeouts and 403s that
// do not settle the token are asked again.
func TestTransientFailuresNotCached(t *testing.T) {
	cases := map[string]struct {
		fault func(e *env)
		want  error
	}{
		"500":        {func(e *env) { e.double.FailNext(1) }, ErrUnavailable},
		"503":        {func(e *env) { e.double.FailNextWith(1, 503, "ServiceUnavailable", "down") }, ErrUnavailable},
		"throttling": {func(e *env) { e.double.ThrottleNext(1) }, ErrThrottled},
		"timeout":    {func(e *env) { e.double.SetLatency(300 * time.Millisecond) }, ErrUnavailable},
		"403 other":  {func(e *env) { e.double.FailNextWith(1, 403, "MissingAuthenticationToken", "x") }, ErrInvalidToken},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := NewMetrics(prometheus.NewRegistry())
			e := newEnv(t, Options{Metrics: m, Timeout: 100 * time.Millisecond})
			cv := NewCachingVerifier(e.client, CacheOptions{MaxEntries: 100, TTL: time.Minute, Metrics: m, Now: e.clk.now})
			tok, req := e.validToken(t, testCluster)
			tc.fault(e)
			if _, err := cv.Verify(context.Background(), tok, req, testCluster); !errors.Is(err, tc.want) {
				t.Fatalf("faulted call: %v, want %v", err, tc.want)
			}
			e.double.SetLatency(0)
			if _, err := cv.Verify(context.Background(), tok, req, testCluster); err != nil {
				t.Fatalf("after the fault: %v", err)
			}
			if e.double.Calls() != 2 || cv.Rejections() != 0 {
				t.Fatalf("calls %d, rejections %d", e.double.Calls(), cv.Rejections())
			}
		})
	}
}

func TestRejectionCacheBounded(t *testing.T) {
	e, cv, _ := newCache(t, 2)
	for i := range 5 {
		tok := signTokenWith(t, aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: "x"},
			"sts.us-west-2.amazonaws.com", "us-west-2", testCluster, testStart.Add(-time.Duration(i)*time.Second))
		_, _ = cv.Verify(context.Background(), tok, e.validate(t, tok), testCluster)
	}
	if n := cv.Rejections(); n != 2 {
		t.Fatalf("%d rejections kept, want the bound 2", n)
	}
}

// distinctTokens signs n tokens that differ by their date.
func distinctTokens(t *testing.T, e *env, n int) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		out[i] = signToken(t, "sts.us-west-2.amazonaws.com", "us-west-2", testCluster, testStart.Add(-time.Duration(i+1)*time.Second))
	}
	return out
}

// TestInFlightBound: no more than MaxInFlight calls reach STS at once.
func TestInFlightBound(t *testing.T) {
	e, cv, _ := newCacheWith(t, CacheOptions{MaxEntries: 100, TTL: time.Minute, MaxInFlight: 3, QueueWait: 10 * time.Second})
	e.double.SetLatency(50 * time.Millisecond)
	toks := distinctTokens(t, e, 12)
	var wg sync.WaitGroup
	errs := make(chan error, len(toks))
	for _, tok := range toks {
		req := e.validate(t, tok)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := cv.Verify(context.Background(), tok, req, testCluster)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if p := e.double.PeakConcurrency(); p != 3 {
		t.Fatalf("peak STS concurrency %d, want 3", p)
	}
}

// TestBusyFailsClosedAndHitsDoNotWait: with every slot held by a slow miss,
// another miss gives up after the queue wait with ErrBusy, while a cached
// token is answered at once.
func TestBusyFailsClosedAndHitsDoNotWait(t *testing.T) {
	e, cv, m := newCacheWith(t, CacheOptions{MaxEntries: 100, TTL: time.Minute, MaxInFlight: 2, QueueWait: 100 * time.Millisecond})
	cached, cachedReq := e.validToken(t, testCluster)
	if _, err := cv.Verify(context.Background(), cached, cachedReq, testCluster); err != nil {
		t.Fatal(err)
	}
	e.double.SetLatency(time.Second)
	toks := distinctTokens(t, e, 3)
	var wg sync.WaitGroup
	for _, tok := range toks[:2] {
		req := e.validate(t, tok)
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = cv.Verify(context.Background(), tok, req, testCluster) }()
	}
	defer wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for cv.InFlight() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("slow calls did not start")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if _, err := cv.Verify(context.Background(), cached, cachedReq, testCluster); err != nil {
		t.Fatalf("cached token while STS is saturated: %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("cached review waited %v behind STS misses", d)
	}
	start = time.Now()
	_, err := cv.Verify(context.Background(), toks[2], e.validate(t, toks[2]), testCluster)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("third miss: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 900*time.Millisecond {
		t.Fatalf("busy after %v, want about the 100ms queue wait", d)
	}
	if got := counterValue(t, m.busyTotal); got != 1 {
		t.Fatalf("busy metric %v, want 1", got)
	}
}

// TestUnlistedRegionWarnedOnce: a region only the partition's pattern
// accepts is logged once, at warning level; listed ones are not.
func TestUnlistedRegionWarnedOnce(t *testing.T) {
	for name, extra := range map[string][]string{"unlisted": nil, "in stsRegions": {"us-zzzz-9"}} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			e := newEnv(t, Options{Logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})), ExtraRegions: extra})
			for i := range 3 {
				tok := signToken(t, "sts.us-zzzz-9.amazonaws.com", "us-zzzz-9", testCluster, testStart.Add(-time.Duration(i)*time.Second))
				if _, err := e.client.Verify(context.Background(), e.validate(t, tok), testCluster); err != nil {
					t.Fatal(err)
				}
			}
			_, req := e.validToken(t, testCluster) // us-west-2, listed
			if _, err := e.client.Verify(context.Background(), req, testCluster); err != nil {
				t.Fatal(err)
			}
			n := strings.Count(buf.String(), `"level":"WARN"`)
			want := 1
			if extra != nil {
				want = 0
			}
			if n != want || (want == 1 && !strings.Contains(buf.String(), `"region":"us-zzzz-9"`)) {
				t.Fatalf("%d warnings, want %d:\n%s", n, want, buf.String())
			}
		})
	}
}
