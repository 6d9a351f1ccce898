package sts

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/iamgate/iamgate/internal/token"
)

// CachingVerifier remembers successful STS answers so that kubectl's bursts
// of requests with one token cost one STS call, which keeps the server under
// STS rate limits (AIA#382, #630).
//
// Only 200 answers are kept, keyed by SHA-256 of (cluster id, token), and an
// entry never outlives the token itself (X-Amz-Date + 15 min), checked at
// lookup. Concurrent misses for one key share a single STS call. Callers must
// still run token.Validator on every review before calling Verify: the cache
// answers "who signed this", never "is this token acceptable now".
type CachingVerifier struct {
	// Now is the clock for expiry checks; set it before first use. Nil
	// means time.Now.
	Now func() time.Time

	client  *Client
	max     int
	metrics *Metrics
	flight  singleflight.Group

	mu    sync.Mutex
	order *list.List // front = most recently used
	items map[[sha256.Size]byte]*list.Element
}

type cacheEntry struct {
	key     [sha256.Size]byte
	id      Identity
	expires time.Time
}

// NewCachingVerifier wraps c. maxEntries bounds the cache (least recently
// used entries go first); maxEntries <= 0 disables storing but keeps the
// sharing of concurrent calls.
func NewCachingVerifier(c *Client, maxEntries int, m *Metrics) *CachingVerifier {
	return &CachingVerifier{client: c, max: maxEntries, metrics: m, order: list.New(), items: map[[sha256.Size]byte]*list.Element{}}
}

func (cv *CachingVerifier) now() time.Time {
	if cv.Now != nil {
		return cv.Now()
	}
	return time.Now()
}

// cacheKey hashes the cluster id length-prefixed, so that no (cluster,
// token) pair can collide with another by moving bytes across the border.
func cacheKey(clusterID, tok string) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(clusterID)))
	h.Write(n[:])
	h.Write([]byte(clusterID))
	h.Write([]byte(tok))
	var k [sha256.Size]byte
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
	if id, ok := cv.get(key); ok {
		cv.metrics.hit()
		return id, nil
	}
	cv.metrics.miss()
	ch := cv.flight.DoChan(string(key[:]), func() (any, error) {
		if id, ok := cv.get(key); ok {
			return id, nil
		}
		// The shared call must not die with whichever caller started it;
		// the client's own timeout still bounds it.
		id, err := cv.client.Verify(context.WithoutCancel(ctx), req, clusterID)
		if err == nil {
			cv.put(key, id, req.Expiry())
		}
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

func (cv *CachingVerifier) get(key [sha256.Size]byte) (Identity, bool) {
	now := cv.now()
	cv.mu.Lock()
	defer cv.mu.Unlock()
	el, ok := cv.items[key]
	if !ok {
		return Identity{}, false
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		cv.order.Remove(el)
		delete(cv.items, key)
		return Identity{}, false
	}
	cv.order.MoveToFront(el)
	return e.id, true
}

func (cv *CachingVerifier) put(key [sha256.Size]byte, id Identity, expires time.Time) {
	if cv.max <= 0 || !cv.now().Before(expires) {
		return
	}
	cv.mu.Lock()
	defer cv.mu.Unlock()
	if el, ok := cv.items[key]; ok {
		el.Value = &cacheEntry{key: key, id: id, expires: expires}
		cv.order.MoveToFront(el)
		return
	}
	cv.items[key] = cv.order.PushFront(&cacheEntry{key: key, id: id, expires: expires})
	for cv.order.Len() > cv.max {
		oldest := cv.order.Back()
		cv.order.Remove(oldest)
		delete(cv.items, oldest.Value.(*cacheEntry).key)
	}
}

// Len is the number of stored entries (expired ones included until looked up).
func (cv *CachingVerifier) Len() int {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	return cv.order.Len()
}
