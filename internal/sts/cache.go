package sts

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/iamgate/iamgate/internal/token"
)

// Cache defaults, as the server config documents them.
const (
	// DefaultCacheTTL bounds how long a verified identity is reused, and so
	// how long a revoked or expired credential keeps working here.
	DefaultCacheTTL = 60 * time.Second
	// DefaultMaxInFlight bounds concurrent STS calls.
	DefaultMaxInFlight = 64
	// DefaultQueueWait is how long a cache miss waits for a free STS slot
	// before the review fails closed as busy.
	DefaultQueueWait = time.Second
)

// CacheOptions configure NewCachingVerifier.
type CacheOptions struct {
	// MaxEntries bounds each of the two caches (identities, rejections);
	// least recently used entries go first. <= 0 stores nothing but keeps
	// the sharing of concurrent calls and the in-flight bound.
	MaxEntries int
	// TTL is the longest an identity is reused; 0 stores no identities.
	TTL time.Duration
	// MaxInFlight bounds concurrent STS calls; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// QueueWait bounds the wait for a free slot; 0 means DefaultQueueWait.
	QueueWait time.Duration
	Metrics   *Metrics
	// Now is the clock for expiry; nil means time.Now.
	Now func() time.Time
}

// CachingVerifier puts three guards in front of STS so that neither
// kubectl's bursts nor a flood of junk tokens can get the server throttled
// (AIA#382, #630) and real users locked out:
//
//   - a verified identity is reused for min(TTL, the token's own window),
//     which bounds how long revoked credentials keep working;
//   - a definitive STS rejection is remembered until the token's window ends,
//     so replaying one bogus token costs one call;
//   - at most MaxInFlight calls run at once, and concurrent misses for one
//     token share a call.
//
// Entries are keyed by SHA-256 of (cluster id, token). Callers must still
// run token.Validator on every review: the cache answers "who signed
// this", never "is this token acceptable now".
type CachingVerifier struct {
	client  *Client
	ttl     time.Duration
	metrics *Metrics
	now     func() time.Time
	slots   *slots
	flight  singleflight.Group

	mu       sync.Mutex
	ids      *expiringLRU[Identity]
	rejected *expiringLRU[string] // the STS error code
}

// NewCachingVerifier wraps c.
func NewCachingVerifier(c *Client, o CacheOptions) *CachingVerifier {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.QueueWait <= 0 {
		o.QueueWait = DefaultQueueWait
	}
	return &CachingVerifier{
		client: c, ttl: o.TTL, metrics: o.Metrics, now: now,
		slots:    newSlots(o.MaxInFlight, o.QueueWait, o.Metrics),
		ids:      newExpiringLRU[Identity](o.MaxEntries),
		rejected: newExpiringLRU[string](o.MaxEntries),
	}
}

// cacheKey hashes the cluster id length-prefixed, so that no (cluster,
// token) pair can collide with another by moving bytes across the border.
func cacheKey(clusterID, tok string) cacheKeyT {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(clusterID)))
	h.Write(n[:])
	h.Write([]byte(clusterID))
	h.Write([]byte(tok))
	var k cacheKeyT
	h.Sum(k[:0])
	return k
}

// Verify returns the identity for tok, from the cache or from one STS call.
// tok must be the token req was validated from.
func (cv *CachingVerifier) Verify(ctx context.Context, tok string, req *token.Request, clusterID string) (Identity, error) {
	if req == nil {
		return Identity{}, fmt.Errorf("sts: missing request: %w", ErrInvalidToken)
	}
	key := cacheKey(clusterID, tok)
	if id, hit, err := cv.lookup(key); hit {
		return id, err
	}
	cv.metrics.miss()
	ch := cv.flight.DoChan(string(key[:]), func() (any, error) {
		if id, hit, err := cv.lookup(key); hit {
			return id, err
		}
		release, err := cv.slots.acquire()
		if err != nil {
			return Identity{}, err
		}
		defer release()
		// The shared call must not die with whichever caller started it;
		// the client's own timeout still bounds it.
		id, err := cv.client.Verify(context.WithoutCancel(ctx), req, clusterID)
		cv.store(key, req, id, err)
		return id, err
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Identity{}, r.Err
		}
		return r.Val.(Identity), nil
	case <-ctx.Done():
		return Identity{}, fmt.Errorf("sts: waiting for answer: %w: %w", ErrUnavailable, ctx.Err())
	}
}

// lookup answers from either cache; hit is false on a miss.
func (cv *CachingVerifier) lookup(key cacheKeyT) (id Identity, hit bool, err error) {
	now := cv.now()
	cv.mu.Lock()
	id, hit = cv.ids.get(key, now)
	var code string
	var refused bool
	if !hit {
		code, refused = cv.rejected.get(key, now)
	}
	cv.mu.Unlock()
	switch {
	case hit:
		cv.metrics.hit()
		return id, true, nil
	case refused:
		cv.metrics.rejectionHit()
		return Identity{}, true, fmt.Errorf("sts: rejected this token before (%s); not asked again: %w", code, ErrInvalidToken)
	}
	return Identity{}, false, nil
}

// store keeps a success for the TTL, never past the token's window measured
// from the earlier of X-Amz-Date and now (X-Amz-Date may lie up to 5 min
// ahead), and a definitive rejection until the token's window ends. Other
// failures (5xx, timeouts, throttling, busy) are never kept.
func (cv *CachingVerifier) store(key cacheKeyT, req *token.Request, id Identity, err error) {
	now := cv.now()
	if err == nil {
		if cv.ttl <= 0 {
			return
		}
		start := req.SignedAt
		if now.Before(start) {
			start = now
		}
		expires := start.Add(token.MaxTokenAge)
		if byTTL := now.Add(cv.ttl); byTTL.Before(expires) {
			expires = byTTL
		}
		cv.mu.Lock()
		cv.ids.put(key, id, expires, now)
		cv.mu.Unlock()
		return
	}
	if code, ok := definitive(err); ok {
		cv.mu.Lock()
		cv.rejected.put(key, code, req.Expiry(), now)
		cv.mu.Unlock()
	}
}

// Len is the number of stored identities (expired ones included until
// looked up).
func (cv *CachingVerifier) Len() int {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	return cv.ids.len()
}

// Rejections is the number of stored rejections.
func (cv *CachingVerifier) Rejections() int {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	return cv.rejected.len()
}
