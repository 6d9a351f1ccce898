package e2e

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// switchable is an STS transport the test can cut, as a network outage
// would: while down, every connection attempt is refused.
type switchable struct {
	down atomic.Bool
	next http.RoundTripper
}

func (s *switchable) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return s.next.RoundTrip(r)
}

// TestSTSDownDeniesThenRecovers: while STS hangs, fails or cannot be
// reached, reviews are denied within the configured STS timeout (never
// allowed, never left hanging), the server stays up, and the same token is
// accepted once STS is back: failures are not cached.
func TestSTSDownDeniesThenRecovers(t *testing.T) {
	const stsTimeout = 500 * time.Millisecond
	sw := &switchable{}
	e := start(t, envOptions{config: withServerKeys(t, "  stsTimeout: 500ms\n"), transport: sw})
	sw.next = e.double.Transport()
	tok := e.sign(t, bobKey, time.Now())

	outages := []struct {
		name  string
		begin func()
		end   func()
	}{
		{"hanging", func() { e.double.SetLatency(5 * time.Second) }, func() { e.double.SetLatency(0) }},
		{"HTTP 500", func() { e.double.FailNext(1) }, func() {}},
		{"unreachable", func() { sw.down.Store(true) }, func() { sw.down.Store(false) }},
	}
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			o.begin()
			start := time.Now()
			r := e.review(t, tok)
			took := time.Since(start)
			o.end()
			if r.Status.Authenticated || r.HTTPStatus != http.StatusForbidden || r.Status.Error != "sts unavailable" {
				t.Fatalf("HTTP %d %+v", r.HTTPStatus, r.Status)
			}
			if took > stsTimeout+2*time.Second {
				t.Fatalf("denial took %s with a %s STS timeout", took, stsTimeout)
			}
			e.wantReason(t, tok, "sts_unavailable")
			if code := healthz(t, e); code != http.StatusOK {
				t.Fatalf("healthz %d during the outage", code)
			}
		})
	}
	wantAllowed(t, e.review(t, tok))
}

// TestSTSThrottlingAnswers429: when STS throttles, the webhook answers 429
// so kube-apiserver (and dashboards) can tell "slow down" from "denied".
func TestSTSThrottlingAnswers429(t *testing.T) {
	e := start(t, envOptions{})
	tok := e.sign(t, bobKey, time.Now())
	e.double.ThrottleNext(1)
	r := e.review(t, tok)
	if r.HTTPStatus != http.StatusTooManyRequests || r.Status.Authenticated || r.Status.Error != "throttled" {
		t.Fatalf("HTTP %d %+v", r.HTTPStatus, r.Status)
	}
	e.wantReason(t, tok, "sts_throttled")
	wantAllowed(t, e.review(t, tok))
}

// TestConcurrentReviewsOfOneTokenCallSTSOnce: kubectl bursts present one
// token many times at once; the server asks STS once and answers all.
func TestConcurrentReviewsOfOneTokenCallSTSOnce(t *testing.T) {
	const n = 100
	e := start(t, envOptions{})
	tok := e.sign(t, bobKey, time.Now())
	e.double.SetLatency(200 * time.Millisecond) // keep the first call in flight while the rest arrive
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			r, err := e.srv.Review(t.Context(), tok)
			switch {
			case err != nil:
				errs <- err
			case !r.Status.Authenticated || r.Status.User.Username != "bob":
				errs <- errors.New("not allowed: " + r.Status.Error)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := e.double.Calls(); got != 1 {
		t.Fatalf("%d STS calls for %d concurrent reviews of one token, want 1", got, n)
	}
}
