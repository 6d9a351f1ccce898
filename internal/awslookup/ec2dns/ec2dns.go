// Package ec2dns resolves {{EC2PrivateDNSName}}: the private DNS name of the
// EC2 instance whose id is the caller's session name, through
// ec2:DescribeInstances.
//
// The name becomes a node's username (system:node:<name>), so the resolver
// fails closed: a malformed id is refused without a call, an instance EC2
// does not return (or returns terminated, without a DNS name, or owned by
// another account) is ErrInstanceNotFound, and any EC2 error is an error.
// Concurrent lookups are batched into one DescribeInstances call per account,
// every call (each page) waits for the rate limiter, and answers are cached
// with a TTL and a bound. aws-iam-authenticator's qps/burst flags did not
// limit its EC2 calls and its cache grew without bound; these do not.
package ec2dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/time/rate"

	"github.com/iamgate/iamgate/internal/awslookup/internal/ttlcache"
	"github.com/iamgate/iamgate/internal/scrub"
)

// Defaults for zero Options fields. QPS and Burst are aws-iam-authenticator's
// defaults for server.ec2DescribeInstancesQps/Burst.
const (
	DefaultCacheTTL         = 15 * time.Minute
	DefaultNegativeCacheTTL = 5 * time.Second
	DefaultMaxEntries       = 10000
	DefaultQPS              = 15
	DefaultBurst            = 5
	DefaultBatchWindow      = 10 * time.Millisecond
	DefaultMaxBatch         = 100
	DefaultMaxPending       = 10000
	DefaultTimeout          = 10 * time.Second
)

var (
	// ErrMalformedInstanceID: not "i-" followed by 8 or 17 lower-case hex digits.
	ErrMalformedInstanceID = errors.New("malformed EC2 instance id")
	// ErrMalformedAccountID: the account id is not 12 digits.
	ErrMalformedAccountID = errors.New("malformed AWS account id")
	// ErrInstanceNotFound: EC2 did not return a usable instance for the id.
	ErrInstanceNotFound = errors.New("EC2 instance not found")
	// ErrRateLimited: the local rate limit would not allow a call before the
	// lookup's deadline.
	ErrRateLimited = errors.New("EC2 lookup rate limited")
	// ErrOverloaded: too many lookups are already pending.
	ErrOverloaded = errors.New("too many pending EC2 lookups")
)

var (
	instanceIDRe = regexp.MustCompile(`^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)
	accountIDRe  = regexp.MustCompile(`^[0-9]{12}$`)
)

// ValidInstanceID reports whether s has the shape of an EC2 instance id.
func ValidInstanceID(s string) bool { return instanceIDRe.MatchString(s) }

// EC2API is the one EC2 call the resolver makes; *ec2.Client implements it.
type EC2API interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// ClientFunc returns the EC2 client that sees the instances of accountID,
// for example one using a role assumed in that account.
type ClientFunc func(ctx context.Context, accountID string) (EC2API, error)

// Options tune the resolver. Zero values take the defaults above.
type Options struct {
	// CacheTTL is how long a found name is reused; < 0 disables.
	CacheTTL time.Duration
	// NegativeCacheTTL is how long "not found" is reused; < 0 disables.
	// Keep it short: EC2 is eventually consistent and a node asks for its
	// credentials seconds after launch.
	NegativeCacheTTL time.Duration
	// MaxEntries bounds the cache (least recently used go first); < 0
	// disables caching.
	MaxEntries int
	// QPS and Burst limit DescribeInstances calls, all accounts together.
	QPS   float64
	Burst int
	// BatchWindow is how long a batch collects ids before it is sent;
	// MaxBatch sends it earlier once it holds that many ids (at most 200,
	// EC2's limit on filter values).
	BatchWindow time.Duration
	MaxBatch    int
	// MaxPending bounds lookups queued or in flight; more are refused.
	MaxPending int
	// Timeout bounds one batch, including its wait for the rate limiter.
	Timeout time.Duration
	Metrics *Metrics
	Logger  *slog.Logger
	// ScrubbedAccounts (server.scrubbedAccounts) are kept out of the log:
	// their ids and instance ids are logged as [scrubbed].
	ScrubbedAccounts []string
	// Now is the cache clock; nil means time.Now.
	Now func() time.Time
}

// Resolver implements mapping.EC2Resolver.
type Resolver struct {
	clientFor ClientFunc
	o         Options
	limiter   *rate.Limiter
	cache     *ttlcache.Cache[string] // "" = not found
	metrics   *Metrics
	log       *slog.Logger
	scrubbed  scrub.Accounts

	mu     sync.Mutex
	calls  map[string]*call  // queued or in flight, by cache key
	queues map[string]*queue // by account

	hookWait func() // tests: called when a caller starts waiting
}

// call is one instance id being looked up; concurrent callers share it.
type call struct {
	key, id string
	done    chan struct{}
	name    string
	err     error
}

// New returns a resolver that gets its EC2 clients from clientFor.
func New(clientFor ClientFunc, o Options) *Resolver {
	o = withDefaults(o)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Resolver{
		clientFor: clientFor,
		o:         o,
		limiter:   rate.NewLimiter(rate.Limit(o.QPS), o.Burst),
		cache:     ttlcache.New[string](o.MaxEntries, o.Now),
		metrics:   o.Metrics,
		log:       log,
		scrubbed:  scrub.New(o.ScrubbedAccounts),
		calls:     map[string]*call{},
		queues:    map[string]*queue{},
	}
}

func withDefaults(o Options) Options {
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.NegativeCacheTTL == 0 {
		o.NegativeCacheTTL = DefaultNegativeCacheTTL
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.QPS <= 0 {
		o.QPS = DefaultQPS
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.BatchWindow <= 0 {
		o.BatchWindow = DefaultBatchWindow
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	o.MaxBatch = min(o.MaxBatch, 200)
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// PrivateDNSName returns the private DNS name of instance instanceID in
// account accountID. Callers must not render a username when err != nil.
func (r *Resolver) PrivateDNSName(ctx context.Context, accountID, instanceID string) (string, error) {
	if !ValidInstanceID(instanceID) {
		r.metrics.lookup(ResultRejected)
		return "", fmt.Errorf("ec2dns: %w: %q", ErrMalformedInstanceID, instanceID)
	}
	if !accountIDRe.MatchString(accountID) {
		r.metrics.lookup(ResultRejected)
		return "", fmt.Errorf("ec2dns: %w: %q", ErrMalformedAccountID, accountID)
	}
	key := accountID + "/" + instanceID
	r.mu.Lock()
	c, ok := r.calls[key]
	if !ok {
		// Checked under r.mu: a finishing call fills the cache before it
		// leaves r.calls, so there is no gap in which a key is in neither.
		if name, hit := r.cache.Get(key); hit {
			r.mu.Unlock()
			return r.answer(instanceID, name, nil, true)
		}
		if len(r.calls) >= r.o.MaxPending {
			r.mu.Unlock()
			r.metrics.lookup(ResultRejected)
			return "", fmt.Errorf("ec2dns: %w (%d)", ErrOverloaded, r.o.MaxPending)
		}
		c = &call{key: key, id: instanceID, done: make(chan struct{})}
		r.calls[key] = c
		r.enqueue(accountID, c)
	}
	r.mu.Unlock()
	if r.hookWait != nil {
		r.hookWait()
	}
	select {
	case <-c.done:
		return r.answer(instanceID, c.name, c.err, false)
	case <-ctx.Done():
		r.metrics.lookup(ResultError)
		return "", fmt.Errorf("ec2dns: look up %s: %w", instanceID, ctx.Err())
	}
}

func (r *Resolver) answer(id, name string, err error, cached bool) (string, error) {
	switch {
	case err != nil:
		r.metrics.lookup(ResultError)
		return "", err
	case name == "":
		r.metrics.lookup(ResultNotFound)
		return "", fmt.Errorf("ec2dns: %w: %s", ErrInstanceNotFound, id)
	case cached:
		r.metrics.lookup(ResultCacheHit)
	default:
		r.metrics.lookup(ResultOK)
	}
	return name, nil
}

// finish records the outcome of the calls of one batch and wakes their
// callers. names holds the found instances by id; err, when set, fails all.
func (r *Resolver) finish(batch []*call, names map[string]string, err error) {
	for _, c := range batch {
		if err != nil {
			c.err = err
			continue
		}
		c.name = names[c.id]
		if c.name == "" {
			r.cache.Add(c.key, "", r.o.NegativeCacheTTL)
		} else {
			r.cache.Add(c.key, c.name, r.o.CacheTTL)
		}
	}
	r.mu.Lock()
	for _, c := range batch {
		delete(r.calls, c.key)
	}
	r.mu.Unlock()
	for _, c := range batch {
		close(c.done)
	}
}
