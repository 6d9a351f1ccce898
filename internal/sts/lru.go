package sts

import (
	"container/list"
	"crypto/sha256"
	"time"
)

type cacheKeyT = [sha256.Size]byte

// expiringLRU is a bounded map whose entries also carry a deadline. It is
// not safe for concurrent use; CachingVerifier guards it.
type expiringLRU[V any] struct {
	max   int
	order *list.List // front = most recently used
	items map[cacheKeyT]*list.Element
}

type lruEntry[V any] struct {
	key     cacheKeyT
	val     V
	expires time.Time
}

func newExpiringLRU[V any](max int) *expiringLRU[V] {
	return &expiringLRU[V]{max: max, order: list.New(), items: map[cacheKeyT]*list.Element{}}
}

// get returns the live value for key; an expired entry is dropped.
func (c *expiringLRU[V]) get(key cacheKeyT, now time.Time) (V, bool) {
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*lruEntry[V])
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.val, true
}

// put stores val until expires, evicting the least recently used entries
// beyond the bound. A bound <= 0 or a past deadline stores nothing.
func (c *expiringLRU[V]) put(key cacheKeyT, val V, expires, now time.Time) {
	if c.max <= 0 || !now.Before(expires) {
		return
	}
	e := &lruEntry[V]{key: key, val: val, expires: expires}
	if el, ok := c.items[key]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*lruEntry[V]).key)
	}
}

func (c *expiringLRU[V]) len() int { return c.order.Len() }
