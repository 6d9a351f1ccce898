package ec2dns

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// maxPages caps pagination of one batch: at most 200 ids at up to 1000
// instances a page fit in one page, so more means a broken endpoint.
const maxPages = 5

// dnsNameRe is what a private DNS name may look like before it becomes part
// of a Kubernetes username: lower-case RFC 1123 labels.
var dnsNameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// queue collects the calls of one account that wait for a batch. At most one
// worker goroutine per account drains it.
type queue struct {
	pending []*call
	full    chan struct{} // holds a token while len(pending) >= MaxBatch
}

// enqueue adds c to its account's queue and starts the worker if none runs.
// r.mu must be held.
func (r *Resolver) enqueue(accountID string, c *call) {
	q, ok := r.queues[accountID]
	if !ok {
		q = &queue{full: make(chan struct{}, 1)}
		r.queues[accountID] = q
		go r.run(accountID, q)
	}
	q.pending = append(q.pending, c)
	if len(q.pending) >= r.o.MaxBatch {
		select {
		case q.full <- struct{}{}:
		default:
		}
	}
}

// run sends batches for one account until its queue is empty. A batch is
// sent when the window has passed (or it is full) and the rate limiter
// allows a call; ids that arrive while it waits for the limiter join it, so
// under load batches grow instead of calls multiplying.
func (r *Resolver) run(accountID string, q *queue) {
	for {
		t := time.NewTimer(r.o.BatchWindow)
		select {
		case <-t.C:
		case <-q.full:
		}
		t.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), r.o.Timeout)
		waitErr := r.limiter.Wait(ctx)

		r.mu.Lock()
		n := min(len(q.pending), r.o.MaxBatch)
		batch := q.pending[:n:n]
		q.pending = append([]*call(nil), q.pending[n:]...)
		if len(q.pending) < r.o.MaxBatch {
			select { // drop a stale "full" token
			case <-q.full:
			default:
			}
		}
		last := len(q.pending) == 0
		if last {
			delete(r.queues, accountID)
		}
		r.mu.Unlock()

		if waitErr != nil {
			cancel()
			r.metrics.call("rate_limited")
			err := fmt.Errorf("ec2dns: %w: %w", ErrRateLimited, waitErr)
			r.log.Warn("ec2 lookup refused by the local rate limit; mapping not rendered", "account", r.scrubbed.Account(accountID), "instances", len(batch))
			r.finish(batch, nil, err)
		} else {
			go func() {
				defer cancel()
				names, err := r.describe(ctx, accountID, batch)
				if err != nil {
					r.log.Warn("ec2 DescribeInstances failed; mapping not rendered", "account", r.scrubbed.Account(accountID), "instances", len(batch),
						"err", r.scrubbed.Err(accountID, err, batchIDs(batch)...))
				}
				r.finish(batch, names, err)
			}()
		}
		if last {
			return
		}
	}
}

// describe makes the DescribeInstances call(s) for one batch; the first
// page's rate-limit token was taken by run. It filters on instance-id rather
// than passing InstanceIds: with InstanceIds, one unknown id fails the whole
// call (InvalidInstanceID.NotFound), and callers choose their session names,
// so one caller could fail everyone else's lookups in the batch.
func (r *Resolver) describe(ctx context.Context, accountID string, batch []*call) (map[string]string, error) {
	r.metrics.batch(len(batch))
	client, err := r.clientFor(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("ec2dns: ec2 client for account %s: %w", accountID, err)
	}
	want := make(map[string]bool, len(batch))
	ids := make([]string, 0, len(batch))
	for _, c := range batch {
		want[c.id] = true
		ids = append(ids, c.id)
	}
	in := &ec2.DescribeInstancesInput{
		Filters:    []types.Filter{{Name: aws.String("instance-id"), Values: ids}},
		MaxResults: aws.Int32(1000),
	}
	names := map[string]string{}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("ec2dns: more than %d pages of DescribeInstances for %d ids", maxPages, len(ids))
		}
		if page > 0 {
			if err := r.limiter.Wait(ctx); err != nil {
				r.metrics.call("rate_limited")
				return nil, fmt.Errorf("ec2dns: %w: %w", ErrRateLimited, err)
			}
		}
		out, err := client.DescribeInstances(ctx, in)
		if err != nil {
			r.metrics.call(ResultError)
			return nil, fmt.Errorf("ec2dns: DescribeInstances in account %s: %w", accountID, err)
		}
		r.metrics.call(ResultOK)
		if err := r.collect(accountID, out.Reservations, want, names); err != nil {
			return nil, err
		}
		if aws.ToString(out.NextToken) == "" {
			return names, nil
		}
		in.NextToken = out.NextToken
	}
}

// collect keeps the usable instances of a page. Skipped instances end up as
// not found: another account's (a role in one account must not name nodes
// from another), ids not asked for, terminated ones, and names that are
// empty or not DNS-shaped.
func (r *Resolver) collect(accountID string, res []types.Reservation, want map[string]bool, names map[string]string) error {
	for _, rv := range res {
		owner := aws.ToString(rv.OwnerId)
		for _, inst := range rv.Instances {
			id, name := aws.ToString(inst.InstanceId), aws.ToString(inst.PrivateDnsName)
			switch {
			case !want[id]:
				continue
			case owner != accountID:
				r.log.Warn("ec2 instance owned by another account; ignored", "instance", r.scrubbed.Value(accountID, r.scrubbed.Value(owner, id)),
					"owner", r.scrubbed.Account(owner), "account", r.scrubbed.Account(accountID))
				continue
			case inst.State != nil && (inst.State.Name == types.InstanceStateNameTerminated || inst.State.Name == types.InstanceStateNameShuttingDown):
				continue
			case name == "" || len(name) > 253 || !dnsNameRe.MatchString(name):
				if name != "" {
					r.log.Warn("ec2 private DNS name is not a DNS name; ignored", "instance", r.scrubbed.Value(accountID, id))
				}
				continue
			}
			if prev, dup := names[id]; dup && prev != name {
				return fmt.Errorf("ec2dns: instance %s returned twice with different names", id)
			}
			names[id] = name
		}
	}
	return nil
}

// batchIDs are the instance ids of a batch, for scrubbing error texts.
func batchIDs(batch []*call) []string {
	out := make([]string, len(batch))
	for i, c := range batch {
		out[i] = c.id
	}
	return out
}
