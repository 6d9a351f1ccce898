package ttlcache

import (
	"testing"
	"time"
)

func TestExpiryAndBound(t *testing.T) {
	now := time.Unix(1000, 0)
	c := New[int](2, func() time.Time { return now })
	c.Add("a", 1, time.Minute)
	c.Add("b", 2, time.Minute)
	if v, ok := c.Get("a"); !ok || v != 1 { // a becomes most recently used
		t.Fatalf("Get(a) = %v, %v", v, ok)
	}
	c.Add("c", 3, time.Minute) // evicts b, the least recently used
	if _, ok := c.Get("b"); ok {
		t.Error("b survived eviction")
	}
	if _, ok := c.Get("a"); !ok {
		t.Error("a was evicted although recently used")
	}
	now = now.Add(time.Minute)
	if _, ok := c.Get("c"); ok {
		t.Error("c survived its ttl")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1 (expired c removed on Get)", c.Len())
	}
	c.Add("a", 9, 0)
	if _, ok := c.Get("a"); ok {
		t.Error("Add with ttl 0 kept the old value")
	}
}

func TestZeroBoundStoresNothing(t *testing.T) {
	c := New[int](0, nil)
	c.Add("a", 1, time.Hour)
	if _, ok := c.Get("a"); ok || c.Len() != 0 {
		t.Error("a cache bounded at 0 stored an entry")
	}
}
