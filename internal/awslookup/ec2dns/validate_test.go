package ec2dns

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// fakeEC2 counts ClientFunc and DescribeInstances calls; block holds calls.
type fakeEC2 struct {
	clients, calls atomic.Int64
	block          chan struct{}
}

func (f *fakeEC2) clientFor(context.Context, string) (EC2API, error) {
	f.clients.Add(1)
	return f, nil
}

func (f *fakeEC2) DescribeInstances(ctx context.Context, _ *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &ec2.DescribeInstancesOutput{}, nil
}

func TestMalformedIDsRejectedWithoutCall(t *testing.T) {
	f := &fakeEC2{}
	m := NewMetrics(nil)
	r := New(f.clientFor, Options{Metrics: m})
	bad := []string{
		"", "i-", "i-1234567", "i-123456789", "i-0123456789abcdef", "i-0123456789abcdef01",
		"i-0123456789ABCDEF0", "I-01234567", "i-0123456g", "i-01234567\n", " i-01234567",
		"i-01234567.evil", "x-01234567", "i-01234567/../", "system", "i-0123456789abcdef0:x",
	}
	for _, id := range bad {
		if _, err := r.PrivateDNSName(context.Background(), acct, id); !errors.Is(err, ErrMalformedInstanceID) {
			t.Errorf("PrivateDNSName(%q): err = %v, want ErrMalformedInstanceID", id, err)
		}
	}
	for _, a := range []string{"", "12345678901", "1234567890123", "12345678901a"} {
		if _, err := r.PrivateDNSName(context.Background(), a, "i-01234567"); !errors.Is(err, ErrMalformedAccountID) {
			t.Errorf("account %q: err = %v, want ErrMalformedAccountID", a, err)
		}
	}
	if f.clients.Load() != 0 || f.calls.Load() != 0 {
		t.Errorf("clients = %d, calls = %d; want none", f.clients.Load(), f.calls.Load())
	}
	if got := testutil.ToFloat64(m.lookups.WithLabelValues(ResultRejected)); got != float64(len(bad)+4) {
		t.Errorf("rejected = %v, want %d", got, len(bad)+4)
	}
	for _, good := range []string{"i-01234567", "i-0123456789abcdef0"} {
		if !ValidInstanceID(good) {
			t.Errorf("ValidInstanceID(%q) = false", good)
		}
	}
}

func TestOverloadedRefused(t *testing.T) {
	f := &fakeEC2{block: make(chan struct{})}
	r := New(f.clientFor, Options{MaxPending: 1, BatchWindow: time.Millisecond})
	done := make(chan error, 1)
	go func() { _, err := r.PrivateDNSName(context.Background(), acct, "i-01234567"); done <- err }()
	waitForCall(t, f)
	if _, err := r.PrivateDNSName(context.Background(), acct, "i-89abcdef"); !errors.Is(err, ErrOverloaded) {
		t.Errorf("second pending lookup: err = %v, want ErrOverloaded", err)
	}
	close(f.block)
	if err := <-done; !errors.Is(err, ErrInstanceNotFound) {
		t.Errorf("first lookup: err = %v, want ErrInstanceNotFound", err)
	}
}

func TestCallerCancelLeavesBatchRunning(t *testing.T) {
	f := &fakeEC2{block: make(chan struct{})}
	r := New(f.clientFor, Options{BatchWindow: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := r.PrivateDNSName(ctx, acct, "i-01234567"); done <- err }()
	waitForCall(t, f)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v", err)
	}
	close(f.block)
	if _, err := r.PrivateDNSName(context.Background(), acct, "i-01234567"); !errors.Is(err, ErrInstanceNotFound) {
		t.Errorf("after cancel: err = %v, want ErrInstanceNotFound", err)
	}
	if n := f.calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1 (the second caller joined or hit the finished call)", n)
	}
}

func TestMaxBatchCappedAtFilterLimit(t *testing.T) {
	if got := New((&fakeEC2{}).clientFor, Options{MaxBatch: 500}).o.MaxBatch; got != 200 {
		t.Errorf("MaxBatch = %d, want 200 (EC2 accepts at most 200 filter values)", got)
	}
}

// waitForCall waits until f has seen a DescribeInstances call.
func waitForCall(t *testing.T, f *fakeEC2) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no DescribeInstances call within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

var _ rules.EC2Resolver = (*Resolver)(nil)
