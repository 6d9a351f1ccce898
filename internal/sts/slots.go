package sts

import (
	"fmt"
	"time"
)

// slots bounds concurrent STS calls. A call that finds no free slot within
// the queue wait fails as busy rather than piling up behind a slow or
// flooded STS; cache hits never come here, so they never wait.
type slots struct {
	ch      chan struct{}
	wait    time.Duration
	metrics *Metrics
}

func newSlots(n int, wait time.Duration, m *Metrics) *slots {
	return &slots{ch: make(chan struct{}, n), wait: wait, metrics: m}
}

// acquire takes a slot and returns its release, or ErrBusy after the wait.
func (s *slots) acquire() (func(), error) {
	select {
	case s.ch <- struct{}{}:
	default:
		t := time.NewTimer(s.wait)
		defer t.Stop()
		select {
		case s.ch <- struct{}{}:
		case <-t.C:
			s.metrics.busy()
			return nil, fmt.Errorf("sts: no free call slot within %s (%d in flight): %w", s.wait, cap(s.ch), ErrBusy)
		}
	}
	s.metrics.inFlight(1)
	return func() {
		s.metrics.inFlight(-1)
		<-s.ch
	}, nil
}

// InFlight is the number of STS calls running now.
func (cv *CachingVerifier) InFlight() int { return len(cv.slots.ch) }
