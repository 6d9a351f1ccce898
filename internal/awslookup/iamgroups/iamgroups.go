// Package iamgroups answers "which IAM groups is this IAM user in?" for
// mapGroups, through iam:ListGroupsForUser.
//
// The answer decides what a user is granted, so the resolver fails closed:
// any IAM error, rate-limit refusal or odd answer is an error, never an empty
// list, and errors are not cached. An empty list means IAM said the user is
// in no group (or does not exist in the served account). Answers are cached
// for a TTL, bounded in number, shared between concurrent lookups of one
// user, and IAM calls are rate limited, so a burst of reviews cannot push the
// account over IAM's API limits.
//
// IAM answers for the account whose credentials call it. Users of accounts
// listed with a role of their own (NewWithAccounts, NewFromConfig with
// ClientConfig.AccountRoleARNs) are looked up with that account's client;
// every other user with the server's own client. Each client has its own
// rate limiter, because IAM's API limits are per account.
package iamgroups

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/awslookup/internal/ttlcache"
	"github.com/iamgate/iamgate/internal/scrub"
)

// Defaults for zero Options fields.
const (
	DefaultCacheTTL         = 5 * time.Minute
	DefaultNegativeCacheTTL = time.Minute
	DefaultMaxEntries       = 10000
	DefaultQPS              = 5
	DefaultBurst            = 10
	DefaultTimeout          = 10 * time.Second
)

// maxPages caps pagination. IAM allows a user in at most 10 groups, which
// fits one page; more pages than this means a broken or hostile endpoint.
const maxPages = 10

var (
	// ErrNotIAMUser: the ARN is not an IAM user ARN (groups only hold users).
	ErrNotIAMUser = errors.New("not an IAM user ARN")
	// ErrOtherAccount: the user belongs to an account this resolver does
	// not serve (Options.AccountID, and no client of its own).
	ErrOtherAccount = errors.New("user is in an account the IAM lookup does not serve")
	// ErrRateLimited: the local rate limit would not allow an IAM call
	// before the lookup's deadline.
	ErrRateLimited = errors.New("IAM lookup rate limited")
	// ErrBadAnswer: IAM answered with a group outside the user's account or
	// partition, or paginated without end.
	ErrBadAnswer = errors.New("unexpected IAM answer")
)

// IAMAPI is the one IAM call the resolver makes; *iam.Client implements it.
type IAMAPI interface {
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
}

// Options tune the resolver. Zero values take the defaults above.
type Options struct {
	// AccountID is the account the server's own IAM client's credentials
	// are in. When set, users of other accounts that have no client of
	// their own are refused (ErrOtherAccount) without an IAM call. Either
	// way, group ARNs IAM returns must be in the user's account and
	// partition, so a same-named user in the account called can never lend
	// its groups to a user of another account.
	AccountID string
	// CacheTTL is how long a non-empty answer is reused; < 0 disables.
	CacheTTL time.Duration
	// NegativeCacheTTL is how long an empty answer is reused; < 0 disables.
	NegativeCacheTTL time.Duration
	// MaxEntries bounds the cache (least recently used go first); < 0
	// disables caching.
	MaxEntries int
	// QPS and Burst limit IAM calls (each page is a call), per client:
	// the server's own client and each account's client have a limiter of
	// their own, since IAM's limits are per account.
	QPS   float64
	Burst int
	// Timeout bounds one lookup, including the wait for the rate limiter.
	// The IAM call does not stop when the first caller gives up, since
	// concurrent callers of the same user share it.
	Timeout time.Duration
	Metrics *Metrics
	Logger  *slog.Logger
	// ScrubbedAccounts (server.scrubbedAccounts) are kept out of the log:
	// their users are logged as [scrubbed], their ids cut from errors.
	ScrubbedAccounts []string
	// Now is the cache clock; nil means time.Now.
	Now func() time.Time
}

// Resolver implements mapping.GroupResolver.
type Resolver struct {
	own       *target
	accounts  map[string]*target // account id → the client acting in it
	accountID string
	ttl, nttl time.Duration
	timeout   time.Duration
	cache     *ttlcache.Cache[[]string]
	flight    singleflight.Group
	metrics   *Metrics
	log       *slog.Logger
	scrubbed  scrub.Accounts

	hookWait func() // tests: called when a caller starts waiting for a shared call
}

// target is one IAM client and the rate limiter of the account it calls.
type target struct {
	client  IAMAPI
	limiter *rate.Limiter
	role    bool // credentials from an assumed role, not the server's own
}

// New returns a resolver that calls IAM through client (the server's own
// credentials) for every user.
func New(client IAMAPI, o Options) *Resolver {
	return NewWithAccounts(client, nil, o)
}

// NewWithAccounts returns a resolver that looks up users of each account in
// accounts (account id → a client whose credentials act in that account)
// through that client, and every other user through own. A client listed
// for the wrong account fails closed: the group ARNs it returns are not in
// the user's account (ErrBadAnswer).
func NewWithAccounts(own IAMAPI, accounts map[string]IAMAPI, o Options) *Resolver {
	o = withDefaults(o)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limiter := func() *rate.Limiter { return rate.NewLimiter(rate.Limit(o.QPS), o.Burst) }
	r := &Resolver{
		own:       &target{client: own, limiter: limiter()},
		accounts:  make(map[string]*target, len(accounts)),
		accountID: o.AccountID,
		ttl:       o.CacheTTL,
		nttl:      o.NegativeCacheTTL,
		timeout:   o.Timeout,
		cache:     ttlcache.New[[]string](o.MaxEntries, o.Now),
		metrics:   o.Metrics,
		log:       log,
		scrubbed:  scrub.New(o.ScrubbedAccounts),
	}
	for acct, c := range accounts {
		r.accounts[acct] = &target{client: c, limiter: limiter(), role: true}
	}
	return r
}

// targetFor picks the client for a user of account acct; nil: refused.
func (r *Resolver) targetFor(acct string) *target {
	if t, ok := r.accounts[acct]; ok {
		return t
	}
	if r.accountID != "" && acct != r.accountID {
		return nil
	}
	return r.own
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
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// GroupsForUser returns the ARNs of the IAM groups userARN is a member of,
// sorted, as IAM spells them (with their paths). The user's own path is
// ignored: IAM user names are unique in an account whatever the path.
// Callers must not grant anything group-derived when err != nil.
func (r *Resolver) GroupsForUser(ctx context.Context, userARN string) ([]string, error) {
	u, err := arn.Parse(userARN)
	if err != nil {
		r.metrics.count(ResultRejected)
		return nil, fmt.Errorf("iamgroups: %w: %w", ErrNotIAMUser, err)
	}
	if u.Type != arn.TypeUser {
		r.metrics.count(ResultRejected)
		return nil, fmt.Errorf("iamgroups: %w: %s is a %s", ErrNotIAMUser, userARN, u.Type)
	}
	t := r.targetFor(u.AccountID)
	if t == nil {
		r.metrics.count(ResultRejected)
		return nil, fmt.Errorf("iamgroups: %w: %s (served: %s and the accounts with a role)", ErrOtherAccount, userARN, r.accountID)
	}
	key := u.Partition + ":" + u.AccountID + ":" + u.Name
	if groups, ok := r.cache.Get(key); ok {
		r.metrics.count(ResultCacheHit)
		return slices.Clone(groups), nil
	}
	ch := r.flight.DoChan(key, func() (any, error) { return r.fetch(ctx, t, u, key) })
	if r.hookWait != nil {
		r.hookWait()
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			if errors.Is(res.Err, ErrRateLimited) {
				r.metrics.count(ResultRateLimited)
			} else {
				r.metrics.count(ResultError)
			}
			return nil, res.Err
		}
		groups := res.Val.([]string)
		if len(groups) == 0 {
			r.metrics.count(ResultEmpty)
		} else {
			r.metrics.count(ResultOK)
		}
		return slices.Clone(groups), nil
	case <-ctx.Done():
		r.metrics.count(ResultError)
		return nil, fmt.Errorf("iamgroups: list groups for %s: %w", userARN, ctx.Err())
	}
}

// fetch runs one shared lookup. Its context keeps the first caller's values
// but not its cancellation: other callers may still be waiting on it.
func (r *Resolver) fetch(parent context.Context, t *target, u arn.ARN, key string) ([]string, error) {
	if groups, ok := r.cache.Get(key); ok { // filled while this call was being set up
		return groups, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), r.timeout)
	defer cancel()
	groups, err := r.list(ctx, t, u)
	if err != nil {
		user := r.scrubbed.Value(u.AccountID, u.Partition+":"+u.AccountID+":user/"+u.Name)
		r.log.Warn("iam group lookup failed; group mappings not granted",
			"user", user, "assumed_role", t.role, "err", r.scrubbed.Err(u.AccountID, err, u.String(), u.Name))
		return nil, err
	}
	if len(groups) == 0 {
		r.cache.Add(key, groups, r.nttl)
	} else {
		r.cache.Add(key, groups, r.ttl)
	}
	return groups, nil
}

func (r *Resolver) list(ctx context.Context, t *target, u arn.ARN) ([]string, error) {
	in := &iam.ListGroupsForUserInput{UserName: aws.String(u.Name), MaxItems: aws.Int32(100)}
	groups := []string{}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("iamgroups: %w: more than %d pages for user %s", ErrBadAnswer, maxPages, u.Name)
		}
		if err := t.limiter.Wait(ctx); err != nil {
			return nil, fmt.Errorf("iamgroups: %w: %w", ErrRateLimited, err)
		}
		out, err := t.client.ListGroupsForUser(ctx, in)
		if err != nil {
			var nse *types.NoSuchEntityException
			if errors.As(err, &nse) && page == 0 {
				return []string{}, nil // no such user in this account: member of nothing
			}
			return nil, fmt.Errorf("iamgroups: list groups for user %s: %w", u.Name, err)
		}
		for _, g := range out.Groups {
			a := aws.ToString(g.Arn)
			if err := checkGroupARN(a, u); err != nil {
				return nil, err
			}
			groups = append(groups, a)
		}
		if !out.IsTruncated {
			break
		}
		if aws.ToString(out.Marker) == "" {
			return nil, fmt.Errorf("iamgroups: %w: truncated page without a marker", ErrBadAnswer)
		}
		in.Marker = out.Marker
	}
	slices.Sort(groups)
	return slices.Compact(groups), nil
}

// checkGroupARN accepts arn:<partition>:iam::<account>:group/[path/]name in
// the user's own partition and account.
func checkGroupARN(s string, u arn.ARN) error {
	p := strings.Split(s, ":")
	if len(p) != 6 || p[0] != "arn" || p[1] != u.Partition || p[2] != "iam" || p[3] != "" ||
		p[4] != u.AccountID || !strings.HasPrefix(p[5], "group/") || strings.HasSuffix(p[5], "/") {
		return fmt.Errorf("iamgroups: %w: group %q for user %s:%s:%s", ErrBadAnswer, s, u.Partition, u.AccountID, u.Name)
	}
	return nil
}
