package ec2dns

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

const (
	acct         = moto.AccountID
	describeCall = "DescribeInstances"
	unknownID    = "i-0123456789abcdef0"
)

// instances launches n instances in moto and returns id → private DNS name.
func instances(t *testing.T, n int) (map[string]string, []string) {
	t.Helper()
	admin := ec2.NewFromConfig(moto.Config(moto.URL(t), nil))
	out, err := admin.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)),
		InstanceType: types.InstanceTypeT3Micro,
	})
	if err != nil {
		t.Fatalf("RunInstances: %v", err)
	}
	names := map[string]string{}
	var ids []string
	for _, in := range out.Instances {
		id, name := aws.ToString(in.InstanceId), aws.ToString(in.PrivateDnsName)
		if !ValidInstanceID(id) || name == "" {
			t.Fatalf("moto returned instance %q with name %q", id, name)
		}
		names[id] = name
		ids = append(ids, id)
	}
	return names, ids
}

// resolver builds a resolver from an aws.Config pointed at moto (or at url
// when given) with a counting transport and its own metrics.
func resolver(t *testing.T, url string, cc ClientConfig, o Options) (*Resolver, *moto.Counter, *Metrics) {
	t.Helper()
	if url == "" {
		url = moto.URL(t)
	}
	c := &moto.Counter{}
	m := NewMetrics(prometheus.NewRegistry())
	o.Metrics = m
	r, err := NewFromConfig(moto.Config(url, c), cc, o)
	if err != nil {
		t.Fatal(err)
	}
	return r, c, m
}

func lookups(m *Metrics, result string) float64 {
	return testutil.ToFloat64(m.lookups.WithLabelValues(result))
}

func TestFoundAndCached(t *testing.T) {
	names, ids := instances(t, 1)
	r, c, m := resolver(t, "", ClientConfig{}, Options{})
	for range 2 {
		got, err := r.PrivateDNSName(context.Background(), acct, ids[0])
		if err != nil || got != names[ids[0]] {
			t.Fatalf("PrivateDNSName = %q, %v; want %q", got, err, names[ids[0]])
		}
	}
	if n := c.Count(describeCall); n != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1 (second answer from the cache)", n)
	}
	if lookups(m, ResultOK) != 1 || lookups(m, ResultCacheHit) != 1 {
		t.Errorf("ok=%v cache_hit=%v, want 1 and 1", lookups(m, ResultOK), lookups(m, ResultCacheHit))
	}
	// aws-iam-authenticator's name counts the calls sent.
	if n := testutil.ToFloat64(m.aiaCalls); n != 1 {
		t.Errorf("aws_iam_authenticator_ec2_describe_instances_calls_total = %v, want 1", n)
	}
}

// Concurrent lookups of distinct ids share one call, and an unknown id in
// the batch (a caller picks its session name) does not fail the others.
func TestBatchingOneCallForConcurrentLookups(t *testing.T) {
	names, ids := instances(t, 5)
	ids = append(ids, unknownID)
	r, c, _ := resolver(t, "", ClientConfig{}, Options{MaxBatch: len(ids), BatchWindow: time.Minute})
	var wg sync.WaitGroup
	got := make([]string, len(ids))
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() { got[i], errs[i] = r.PrivateDNSName(context.Background(), acct, id) })
	}
	wg.Wait() // the one-minute window means only a full batch is sent
	for i, id := range ids {
		if id == unknownID {
			if !errors.Is(errs[i], ErrInstanceNotFound) {
				t.Errorf("unknown id: err = %v, want ErrInstanceNotFound", errs[i])
			}
			continue
		}
		if errs[i] != nil || got[i] != names[id] {
			t.Errorf("%s = %q, %v; want %q", id, got[i], errs[i], names[id])
		}
	}
	if n := c.Count(describeCall); n != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1 batched call", n)
	}
}

func TestUnknownInstanceIsErrorNegativelyCached(t *testing.T) {
	url := moto.URL(t)
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, c, m := resolver(t, url, ClientConfig{}, Options{NegativeCacheTTL: 5 * time.Second, Now: clock})
	for range 2 {
		if got, err := r.PrivateDNSName(context.Background(), acct, unknownID); !errors.Is(err, ErrInstanceNotFound) || got != "" {
			t.Fatalf("got %q, %v; want ErrInstanceNotFound", got, err)
		}
	}
	if n := c.Count(describeCall); n != 1 || lookups(m, ResultNotFound) != 2 {
		t.Errorf("calls = %d, not_found = %v; want 1, 2", n, lookups(m, ResultNotFound))
	}
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	if _, err := r.PrivateDNSName(context.Background(), acct, unknownID); !errors.Is(err, ErrInstanceNotFound) {
		t.Fatal(err)
	}
	if n := c.Count(describeCall); n != 2 {
		t.Errorf("calls after the negative TTL = %d, want 2", n)
	}
}

func TestTerminatedInstanceIsNotFound(t *testing.T) {
	_, ids := instances(t, 1)
	admin := ec2.NewFromConfig(moto.Config(moto.URL(t), nil))
	if _, err := admin.TerminateInstances(context.Background(), &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		t.Fatal(err)
	}
	r, _, _ := resolver(t, "", ClientConfig{}, Options{})
	if got, err := r.PrivateDNSName(context.Background(), acct, ids[0]); !errors.Is(err, ErrInstanceNotFound) {
		t.Errorf("terminated instance: %q, %v; want ErrInstanceNotFound", got, err)
	}
}

// An instance is only named for the account it belongs to, whatever
// credentials did the lookup.
func TestInstanceOfAnotherAccountIsNotFound(t *testing.T) {
	_, ids := instances(t, 1)
	r, _, _ := resolver(t, "", ClientConfig{}, Options{})
	if got, err := r.PrivateDNSName(context.Background(), "210987654321", ids[0]); !errors.Is(err, ErrInstanceNotFound) {
		t.Errorf("other account: %q, %v; want ErrInstanceNotFound", got, err)
	}
}

func TestEC2DownIsErrorNotCached(t *testing.T) {
	r, c, m := resolver(t, moto.ClosedURL(t), ClientConfig{}, Options{})
	for range 2 {
		if got, err := r.PrivateDNSName(context.Background(), acct, unknownID); err == nil || errors.Is(err, ErrInstanceNotFound) || got != "" {
			t.Fatalf("got %q, %v; want a call error", got, err)
		}
	}
	if n := c.Count(describeCall); n != 2 || lookups(m, ResultError) != 2 {
		t.Errorf("attempts = %d, errors = %v; want 2, 2 (errors are not cached)", n, lookups(m, ResultError))
	}
}

// N lookups of distinct ids, one id per call: no more calls than the burst
// go out while the limiter has no token, and the rest fail rather than wait
// past their deadline.
func TestRateLimitBoundsDescribeInstancesCalls(t *testing.T) {
	_, ids := instances(t, 6)
	const burst = 2
	r, c, m := resolver(t, "", ClientConfig{}, Options{MaxBatch: 1, QPS: 0.001, Burst: burst, Timeout: 200 * time.Millisecond})
	var wg sync.WaitGroup
	var mu sync.Mutex
	limited := 0
	for _, id := range ids {
		wg.Go(func() {
			_, err := r.PrivateDNSName(context.Background(), acct, id)
			if errors.Is(err, ErrRateLimited) {
				mu.Lock()
				limited++
				mu.Unlock()
			} else if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := c.Count(describeCall); n != burst || limited != len(ids)-burst {
		t.Errorf("calls = %d, rate limited = %d; want %d, %d", n, limited, burst, len(ids)-burst)
	}
	if got := testutil.ToFloat64(m.calls.WithLabelValues("rate_limited")); got != float64(len(ids)-burst) {
		t.Errorf("rate_limited calls metric = %v, want %d", got, len(ids)-burst)
	}
}

func TestConcurrentIdenticalLookupsShareOneCall(t *testing.T) {
	names, ids := instances(t, 1)
	r, c, _ := resolver(t, "", ClientConfig{}, Options{BatchWindow: time.Millisecond})
	const n = 8
	waiting := make(chan struct{}, n)
	r.hookWait = func() { waiting <- struct{}{} }
	seen := make(chan string, n)
	release := c.Hold(seen)
	defer release()
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]string, n)
	for i := range n {
		wg.Go(func() { got[i], errs[i] = r.PrivateDNSName(context.Background(), acct, ids[0]) })
	}
	for range n {
		<-waiting
	}
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil || got[i] != names[ids[0]] {
			t.Errorf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	if calls := c.Count(describeCall); calls != 1 {
		t.Errorf("DescribeInstances calls = %d, want 1", calls)
	}
}

func TestTTLAndBound(t *testing.T) {
	_, ids := instances(t, 2)
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r, c, _ := resolver(t, "", ClientConfig{}, Options{CacheTTL: time.Minute, MaxEntries: 1, Now: clock})
	look := func(id string) {
		t.Helper()
		if _, err := r.PrivateDNSName(context.Background(), acct, id); err != nil {
			t.Fatal(err)
		}
	}
	look(ids[0])
	look(ids[0])
	if n := c.Count(describeCall); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	look(ids[0])
	if n := c.Count(describeCall); n != 2 {
		t.Fatalf("calls after TTL = %d, want 2", n)
	}
	look(ids[1]) // evicts ids[0]: the bound is 1
	look(ids[0])
	if n := c.Count(describeCall); n != 4 {
		t.Errorf("calls = %d, want 4 (ids[0] evicted by the bound)", n)
	}
}

// TestScrubbedAccountKeptOutOfLog: a failed lookup for a scrubbed account
// logs neither the account nor the instance id.
func TestScrubbedAccountKeptOutOfLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	r, _, _ := resolver(t, moto.ClosedURL(t), ClientConfig{}, Options{Logger: log, ScrubbedAccounts: []string{acct}})
	if _, err := r.PrivateDNSName(context.Background(), acct, unknownID); err == nil {
		t.Fatal("lookup against a closed endpoint succeeded")
	}
	if !strings.Contains(buf.String(), "DescribeInstances failed") {
		t.Fatalf("no failure logged: %s", buf.String())
	}
	for _, leak := range []string{acct, unknownID} {
		if strings.Contains(buf.String(), leak) {
			t.Errorf("log carries %q of a scrubbed account: %s", leak, buf.String())
		}
	}
}
