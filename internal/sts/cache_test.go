package sts

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newCache builds a verifier whose identity TTL is the whole token window,
// so tests of the other rules are not cut short by it.
func newCache(t *testing.T, max int) (*env, *CachingVerifier, *Metrics) {
	t.Helper()
	return newCacheWith(t, CacheOptions{MaxEntries: max, TTL: 15 * time.Minute})
}

func newCacheWith(t *testing.T, o CacheOptions) (*env, *CachingVerifier, *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	e := newEnv(t, Options{Metrics: m})
	o.Metrics, o.Now = m, e.clk.now
	return e, NewCachingVerifier(e.client, o), m
}

// TestCacheSingleflight: 100 concurrent reviews of one new token make
// exactly one STS call.
func TestCacheSingleflight(t *testing.T) {
	e, cv, m := newCache(t, 100)
	e.double.SetLatency(200 * time.Millisecond) // keep the first call in flight while the others arrive
	tok, req := e.validToken(t, testCluster)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := cv.Verify(context.Background(), tok, req, testCluster)
			if err == nil && id.ARN != testARN {
				err = errors.New("wrong identity " + id.ARN)
			}
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
	if n := e.double.Calls(); n != 1 {
		t.Fatalf("%d STS calls, want 1", n)
	}
	if _, err := cv.Verify(context.Background(), tok, req, testCluster); err != nil || e.double.Calls() != 1 {
		t.Fatalf("cached answer: %v, calls %d", err, e.double.Calls())
	}
	if counterValue(t, m.hits) < 1 || counterValue(t, m.misses) < 1 {
		t.Fatal("cache metrics")
	}
}

func TestCacheKeyIncludesCluster(t *testing.T) {
	e, cv, _ := newCache(t, 100)
	tok, req := e.validToken(t, testCluster)
	if _, err := cv.Verify(context.Background(), tok, req, testCluster); err != nil {
		t.Fatal(err)
	}
	// The same token presented to another cluster must go to STS and fail.
	if _, err := cv.Verify(context.Background(), tok, req, "cluster-b"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("other cluster: %v", err)
	}
	if e.double.Calls() != 2 {
		t.Fatalf("calls %d", e.double.Calls())
	}
	if cacheKey("ab", "c") == cacheKey("a", "bc") {
		t.Fatal("key collision across the cluster/token border")
	}
}

func TestCacheStoresOnlySuccess(t *testing.T) {
	e, cv, _ := newCache(t, 100)
	tok, req := e.validToken(t, testCluster)
	e.double.ThrottleNext(1)
	if _, err := cv.Verify(context.Background(), tok, req, testCluster); !errors.Is(err, ErrThrottled) {
		t.Fatalf("throttled: %v", err)
	}
	e.double.FailNext(1)
	if _, err := cv.Verify(context.Background(), tok, req, testCluster); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("500: %v", err)
	}
	if cv.Len() != 0 {
		t.Fatal("error cached")
	}
	if _, err := cv.Verify(context.Background(), tok, req, testCluster); err != nil {
		t.Fatal(err)
	}
	if e.double.Calls() != 3 || cv.Len() != 1 {
		t.Fatalf("calls %d, len %d", e.double.Calls(), cv.Len())
	}
}

// TestCacheExpiry: an entry lives until X-Amz-Date + 15 min, not shorter
// (X-Amz-Expires=60 is ignored) and never longer.
func TestCacheExpiry(t *testing.T) {
	e, cv, _ := newCache(t, 100)
	tok, req := e.validToken(t, testCluster)
	ctx := context.Background()
	if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil {
		t.Fatal(err)
	}
	e.clk.t = testStart.Add(10 * time.Minute)
	if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil || e.double.Calls() != 1 {
		t.Fatalf("at +10m: %v, calls %d", err, e.double.Calls())
	}
	e.clk.t = testStart.Add(15*time.Minute - time.Nanosecond)
	if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil || e.double.Calls() != 1 {
		t.Fatalf("just before expiry: %v, calls %d", err, e.double.Calls())
	}
	e.clk.t = testStart.Add(15*time.Minute + time.Second)
	if _, err := cv.Verify(ctx, tok, req, testCluster); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after expiry the cache answered: %v", err)
	}
	if e.double.Calls() != 2 || cv.Len() != 0 {
		t.Fatalf("calls %d, len %d", e.double.Calls(), cv.Len())
	}
}

func TestCacheLRUBound(t *testing.T) {
	e, cv, _ := newCache(t, 2)
	ctx := context.Background()
	mk := func(cluster string) (string, func() error) {
		tok, req := e.validToken(t, cluster)
		return tok, func() error { _, err := cv.Verify(ctx, tok, req, cluster); return err }
	}
	_, a := mk(testCluster)
	_, b := mk(testCluster + "-b")
	_, c := mk(testCluster + "-c")
	for _, f := range []func() error{a, b, a, c} { // a is used again, so b is the oldest when c arrives
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	if cv.Len() != 2 || e.double.Calls() != 3 {
		t.Fatalf("len %d, calls %d", cv.Len(), e.double.Calls())
	}
	_ = a()
	if e.double.Calls() != 3 {
		t.Fatal("recently used entry was evicted")
	}
	_ = b()
	if e.double.Calls() != 4 {
		t.Fatal("oldest entry was not evicted")
	}
}

func TestCacheDisabled(t *testing.T) {
	e, cv, _ := newCache(t, 0)
	tok, req := e.validToken(t, testCluster)
	for range 2 {
		if _, err := cv.Verify(context.Background(), tok, req, testCluster); err != nil {
			t.Fatal(err)
		}
	}
	if e.double.Calls() != 2 || cv.Len() != 0 {
		t.Fatalf("calls %d", e.double.Calls())
	}
}

// TestCacheWaiterCancel: a caller that gives up does not cancel the shared
// call for the others.
func TestCacheWaiterCancel(t *testing.T) {
	e, cv, _ := newCache(t, 10)
	e.double.SetLatency(300 * time.Millisecond)
	tok, req := e.validToken(t, testCluster)
	done := make(chan error, 1)
	go func() {
		_, err := cv.Verify(context.Background(), tok, req, testCluster)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := cv.Verify(ctx, tok, req, testCluster); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("patient caller: %v", err)
	}
	if _, err := cv.Verify(context.Background(), tok, nil, testCluster); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("nil request: %v", err)
	}
}
