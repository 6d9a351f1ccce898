package iamgroups

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

const acct = moto.AccountID

const listCall = "ListGroupsForUser"

var seq atomic.Int64

// unique makes moto names unique across tests sharing one moto server.
func unique(base string) string { return fmt.Sprintf("%s%d", base, seq.Add(1)) }

// world creates IAM users and groups in moto through the SDK.
type world struct {
	t   *testing.T
	url string
	iam *iam.Client
}

func newWorld(t *testing.T) *world {
	url := moto.URL(t)
	return &world{t: t, url: url, iam: iam.NewFromConfig(moto.Config(url, nil))}
}

// user creates a user at path and returns its ARN as IAM reports it.
func (w *world) user(path, name string) string {
	w.t.Helper()
	out, err := w.iam.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)})
	if err != nil {
		w.t.Fatalf("CreateUser %s: %v", name, err)
	}
	return aws.ToString(out.User.Arn)
}

// group creates a group at path, adds members and returns its ARN.
func (w *world) group(path, name string, members ...string) string {
	w.t.Helper()
	ctx := context.Background()
	out, err := w.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name), Path: aws.String(path)})
	if err != nil {
		w.t.Fatalf("CreateGroup %s: %v", name, err)
	}
	for _, m := range members {
		if _, err := w.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String(m)}); err != nil {
			w.t.Fatalf("AddUserToGroup %s %s: %v", name, m, err)
		}
	}
	return aws.ToString(out.Group.Arn)
}

// resolver returns a resolver built from an aws.Config pointed at moto,
// with a counting transport and its own metrics.
func (w *world) resolver(o Options) (*Resolver, *moto.Counter, *Metrics) {
	c := &moto.Counter{}
	m := NewMetrics(prometheus.NewRegistry())
	o.Metrics = m
	return fromConfig(w.t, moto.Config(w.url, c), ClientConfig{}, o), c, m
}

func count(m *Metrics, result string) float64 {
	return testutil.ToFloat64(m.lookups.WithLabelValues(result))
}

func TestMembershipFoundPathIgnored(t *testing.T) {
	w := newWorld(t)
	name := unique("alice")
	userARN := w.user("/ops/", name)
	if !strings.Contains(userARN, ":user/ops/"+name) {
		t.Fatalf("moto user ARN %q lacks the path", userARN)
	}
	devs := w.group("/teams/dev/", unique("devs"), name)
	r, c, m := w.resolver(Options{})
	for _, q := range []string{userARN, "arn:aws:iam::" + acct + ":user/" + name, "arn:aws:iam::" + acct + ":user/other/path/" + name} {
		got, err := r.GroupsForUser(context.Background(), q)
		if err != nil {
			t.Fatalf("GroupsForUser(%s): %v", q, err)
		}
		if diff := cmp.Diff([]string{devs}, got); diff != "" {
			t.Errorf("GroupsForUser(%s) (-want +got):\n%s", q, diff)
		}
	}
	if !strings.Contains(devs, ":group/teams/dev/") {
		t.Errorf("group ARN %q lost its path", devs)
	}
	if n := c.Count(listCall); n != 1 {
		t.Errorf("%s calls = %d, want 1 (one user whatever the path)", listCall, n)
	}
	if count(m, ResultOK) != 1 || count(m, ResultCacheHit) != 2 {
		t.Errorf("metrics ok=%v cache_hit=%v, want 1 and 2", count(m, ResultOK), count(m, ResultCacheHit))
	}
}

func TestTwoGroupsBothReturnedSorted(t *testing.T) {
	w := newWorld(t)
	name := unique("bob")
	userARN := w.user("/", name)
	g1 := w.group("/", unique("zeta"), name)
	g2 := w.group("/x/", unique("alpha"), name)
	w.group("/", unique("others")) // bob is not in it
	r, _, _ := w.resolver(Options{})
	got, err := r.GroupsForUser(context.Background(), userARN)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{g1, g2}
	if g2 < g1 {
		want = []string{g2, g1}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}

func TestNotMemberAndUnknownUserAreEmpty(t *testing.T) {
	w := newWorld(t)
	name := unique("carol")
	userARN := w.user("/", name)
	w.group("/", unique("admins"), w.user("/", unique("dave"))[len("arn:aws:iam::"+acct+":user/"):])
	r, _, m := w.resolver(Options{})
	for _, q := range []string{userARN, "arn:aws:iam::" + acct + ":user/" + unique("ghost")} {
		got, err := r.GroupsForUser(context.Background(), q)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("GroupsForUser(%s) = %#v, %v; want empty, nil", q, got, err)
		}
	}
	if count(m, ResultEmpty) != 2 {
		t.Errorf("empty count = %v, want 2", count(m, ResultEmpty))
	}
}

func TestIAMDownIsErrorCountedNotCached(t *testing.T) {
	c := &moto.Counter{}
	m := NewMetrics(prometheus.NewRegistry())
	r := fromConfig(t, moto.Config(moto.ClosedURL(t), c), ClientConfig{}, Options{Metrics: m})
	for i := range 2 {
		got, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+acct+":user/alice")
		if err == nil || got != nil {
			t.Fatalf("call %d: got %v, %v; want an error and no groups", i, got, err)
		}
	}
	if n := count(m, ResultError); n != 2 {
		t.Errorf("error count = %v, want 2", n)
	}
	if n := c.Count(listCall); n != 2 {
		t.Errorf("IAM attempts = %d, want 2 (errors must not be cached)", n)
	}
}

func TestTTLExpiryWithInjectedClock(t *testing.T) {
	w := newWorld(t)
	member, loner := unique("erin"), unique("frank")
	memberARN, lonerARN := w.user("/", member), w.user("/", loner)
	w.group("/", unique("ops"), member)
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r, c, _ := w.resolver(Options{CacheTTL: 5 * time.Minute, NegativeCacheTTL: time.Minute, Now: clock})
	lookup := func(a string) {
		t.Helper()
		if _, err := r.GroupsForUser(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	lookup(memberARN)
	lookup(lonerARN)
	advance(59 * time.Second)
	lookup(memberARN)
	lookup(lonerARN)
	if n := c.Count(listCall); n != 2 {
		t.Fatalf("calls within both TTLs = %d, want 2", n)
	}
	advance(2 * time.Second) // negative TTL over, positive not
	lookup(memberARN)
	lookup(lonerARN)
	if n := c.Count(listCall); n != 3 {
		t.Fatalf("calls after the negative TTL = %d, want 3 (only the empty answer refetched)", n)
	}
	advance(5 * time.Minute)
	lookup(memberARN)
	if n := c.Count(listCall); n != 4 {
		t.Errorf("calls after the TTL = %d, want 4", n)
	}
}

func TestBoundEvictsLeastRecentlyUsed(t *testing.T) {
	w := newWorld(t)
	var arns []string
	for range 3 {
		arns = append(arns, w.user("/", unique("u")))
	}
	r, c, _ := w.resolver(Options{MaxEntries: 2})
	for _, a := range append(arns, arns[2], arns[0]) { // a b c c(hit) a(evicted)
		if _, err := r.GroupsForUser(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Count(listCall); n != 4 {
		t.Errorf("calls = %d, want 4 (3 misses, c hit, a evicted by the bound)", n)
	}
}

func TestSingleflightConcurrentIdenticalLookups(t *testing.T) {
	w := newWorld(t)
	name := unique("gina")
	userARN := w.user("/", name)
	g := w.group("/", unique("sre"), name)
	r, c, _ := w.resolver(Options{})
	const n = 8
	waiting := make(chan struct{}, n)
	r.hookWait = func() { waiting <- struct{}{} }
	seen := make(chan string, n)
	release := c.Hold(seen)
	defer release()
	var wg sync.WaitGroup
	results := make([][]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { results[i], errs[i] = r.GroupsForUser(context.Background(), userARN) })
	}
	for range n {
		<-waiting // every caller has joined a flight while the first call is held
	}
	<-seen
	release()
	wg.Wait()
	for i := range n {
		if errs[i] != nil || len(results[i]) != 1 || results[i][0] != g {
			t.Errorf("caller %d: %v, %v", i, results[i], errs[i])
		}
	}
	if calls := c.Count(listCall); calls != 1 {
		t.Errorf("calls = %d, want 1 shared call", calls)
	}
}

func TestRateLimitBoundsIAMCalls(t *testing.T) {
	w := newWorld(t)
	var arns []string
	for range 5 {
		arns = append(arns, w.user("/", unique("r")))
	}
	// 2 calls of burst, then one every 1000 s: the 200 ms timeout cannot wait.
	r, c, m := w.resolver(Options{QPS: 0.001, Burst: 2, Timeout: 200 * time.Millisecond})
	var limited int
	for _, a := range arns {
		_, err := r.GroupsForUser(context.Background(), a)
		if errors.Is(err, ErrRateLimited) {
			limited++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Count(listCall); n != 2 || limited != 3 || count(m, ResultRateLimited) != 3 {
		t.Errorf("calls = %d, limited = %d, metric = %v; want 2, 3, 3", n, limited, count(m, ResultRateLimited))
	}
}

func TestRejectedWithoutCall(t *testing.T) {
	fake := &fakeIAM{}
	m := NewMetrics(nil)
	r := New(fake, Options{AccountID: acct, Metrics: m})
	for _, tc := range []struct {
		arn  string
		want error
	}{
		{"arn:aws:iam::" + acct + ":role/admin", ErrNotIAMUser},
		{"arn:aws:sts::" + acct + ":assumed-role/admin/s", ErrNotIAMUser},
		{"arn:aws:iam::" + acct + ":user/", ErrNotIAMUser},
		{"not-an-arn", ErrNotIAMUser},
		{"arn:aws:iam::999999999999:user/alice", ErrOtherAccount},
	} {
		if got, err := r.GroupsForUser(context.Background(), tc.arn); !errors.Is(err, tc.want) || got != nil {
			t.Errorf("GroupsForUser(%q) = %v, %v; want %v", tc.arn, got, err, tc.want)
		}
	}
	if fake.calls.Load() != 0 || count(m, ResultRejected) != 5 {
		t.Errorf("IAM calls = %d, rejected = %v; want 0, 5", fake.calls.Load(), count(m, ResultRejected))
	}
}

// A user of another account whose name exists in the served account must
// not inherit that user's groups, even when AccountID is not configured.
func TestForeignUserDoesNotBorrowSameNamedUsersGroups(t *testing.T) {
	w := newWorld(t)
	name := unique("hank")
	w.user("/", name)
	w.group("/", unique("admins"), name)
	r, _, m := w.resolver(Options{})
	got, err := r.GroupsForUser(context.Background(), "arn:aws:iam::999999999999:user/"+name)
	if !errors.Is(err, ErrBadAnswer) || got != nil {
		t.Errorf("got %v, %v; want ErrBadAnswer", got, err)
	}
	if count(m, ResultError) != 1 {
		t.Errorf("error count = %v, want 1", count(m, ResultError))
	}
}

func TestPagination(t *testing.T) {
	g := func(n string) types.Group {
		return types.Group{Arn: aws.String("arn:aws:iam::" + acct + ":group/" + n)}
	}
	fake := &fakeIAM{pages: []*iam.ListGroupsForUserOutput{
		{Groups: []types.Group{g("b")}, IsTruncated: true, Marker: aws.String("m1")},
		{Groups: []types.Group{g("a"), g("b")}},
	}}
	r := New(fake, Options{})
	got, err := r.GroupsForUser(context.Background(), "arn:aws:iam::"+acct+":user/u")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"arn:aws:iam::" + acct + ":group/a", "arn:aws:iam::" + acct + ":group/b"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if fake.markers[1] != "m1" {
		t.Errorf("second page marker = %q, want m1", fake.markers[1])
	}

	endless := &fakeIAM{pages: []*iam.ListGroupsForUserOutput{{IsTruncated: true}}}
	if _, err := New(endless, Options{}).GroupsForUser(context.Background(), "arn:aws:iam::"+acct+":user/u"); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("truncated without marker: err = %v, want ErrBadAnswer", err)
	}
}

// One caller giving up must not fail the others sharing its IAM call.
func TestCallerCancelDoesNotPoisonSharedCall(t *testing.T) {
	fake := &fakeIAM{block: make(chan struct{}), pages: []*iam.ListGroupsForUserOutput{{}}}
	r := New(fake, Options{})
	waiting := make(chan struct{}, 2)
	r.hookWait = func() { waiting <- struct{}{} }
	const user = "arn:aws:iam::" + acct + ":user/u"
	ctx, cancel := context.WithCancel(context.Background())
	first, second := make(chan error, 1), make(chan error, 1)
	go func() { _, err := r.GroupsForUser(ctx, user); first <- err }()
	<-waiting
	go func() { _, err := r.GroupsForUser(context.Background(), user); second <- err }()
	<-waiting
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: err = %v", err)
	}
	close(fake.block)
	if err := <-second; err != nil {
		t.Errorf("other caller: err = %v, want the shared answer", err)
	}
	if n := fake.calls.Load(); n != 1 {
		t.Errorf("IAM calls = %d, want 1", n)
	}
}

type fakeIAM struct {
	calls   atomic.Int64
	block   chan struct{}
	mu      sync.Mutex
	pages   []*iam.ListGroupsForUserOutput
	markers []string
}

func (f *fakeIAM) ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, _ ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error) {
	n := f.calls.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.markers = append(f.markers, aws.ToString(in.Marker))
	if len(f.pages) == 0 {
		return &iam.ListGroupsForUserOutput{}, nil
	}
	return f.pages[min(int(n)-1, len(f.pages)-1)], nil
}

var _ rules.GroupResolver = (*Resolver)(nil)
