// Package ttlcache is the small bounded cache shared by the AWS lookups.
//
// It is a least-recently-used list with a per-entry expiry. The bound keeps
// memory flat when callers choose keys (a session name, a user name): without
// it, every distinct instance id an attacker tries would stay in memory, as
// it does in aws-iam-authenticator.
package ttlcache

import (
	"container/list"
	"sync"
	"time"
)

// Cache maps string keys to values of type V. It is safe for concurrent use.
type Cache[V any] struct {
	mu    sync.Mutex
	max   int
	now   func() time.Time
	order *list.List // front = most recently used
	items map[string]*list.Element
}

type entry[V any] struct {
	key     string
	val     V
	expires time.Time
}

// New returns a cache holding at most maxEntries entries (maxEntries <= 0:
// nothing is stored). now is the clock; nil means time.Now.
func New[V any](maxEntries int, now func() time.Time) *Cache[V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{max: maxEntries, now: now, order: list.New(), items: map[string]*list.Element{}}
}

// Get returns the value for key if it is present and not expired. An expired
// entry is removed.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*entry[V])
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

// Add stores val under key for ttl, replacing any earlier value, and evicts
// the least recently used entries beyond the bound. ttl <= 0 stores nothing
// (and drops an earlier value, so a stale answer cannot outlive a new one).
func (c *Cache[V]) Add(key string, val V, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
	if ttl <= 0 || c.max <= 0 {
		return
	}
	c.items[key] = c.order.PushFront(&entry[V]{key: key, val: val, expires: c.now().Add(ttl)})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.items, old.Value.(*entry[V]).key)
	}
}

// Len reports the number of stored entries, expired ones included.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
