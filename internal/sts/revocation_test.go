package sts

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestIdentityTTLBoundsRevocation: once STS stops accepting a key (deleted:
// InvalidClientTokenId; expired: ExpiredToken), a cached identity keeps
// answering only until the TTL ends, then the token is refused.
func TestIdentityTTLBoundsRevocation(t *testing.T) {
	for name, revoke := range map[string]func(e *env){
		"deleted key": func(e *env) { e.double.RemoveKey(testAKID) },
		"expired key": func(e *env) { e.double.ExpireKey(testAKID) },
	} {
		t.Run(name, func(t *testing.T) {
			e, cv, _ := newCacheWith(t, CacheOptions{MaxEntries: 100, TTL: time.Minute})
			tok, req := e.validToken(t, testCluster)
			ctx := context.Background()
			if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil {
				t.Fatal(err)
			}
			revoke(e)
			e.clk.t = testStart.Add(time.Minute - time.Nanosecond)
			if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil || e.double.Calls() != 1 {
				t.Fatalf("within the TTL: %v, calls %d", err, e.double.Calls())
			}
			e.clk.t = testStart.Add(time.Minute)
			if _, err := cv.Verify(ctx, tok, req, testCluster); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("after the TTL the revoked key still worked: %v", err)
			}
			if e.double.Calls() != 2 {
				t.Fatalf("calls %d, want 2", e.double.Calls())
			}
		})
	}
}

// TestIdentityLifetimeFromEarlierOfDateAndNow: a token dated ahead of the
// server's clock does not extend the cache past now + 15 min.
func TestIdentityLifetimeFromEarlierOfDateAndNow(t *testing.T) {
	e, cv, _ := newCacheWith(t, CacheOptions{MaxEntries: 100, TTL: time.Hour})
	tok := signToken(t, "sts.us-west-2.amazonaws.com", "us-west-2", testCluster, testStart.Add(4*time.Minute))
	req := e.validate(t, tok)
	ctx := context.Background()
	if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil {
		t.Fatal(err)
	}
	e.clk.t = testStart.Add(15*time.Minute - time.Second)
	if _, err := cv.Verify(ctx, tok, req, testCluster); err != nil || e.double.Calls() != 1 {
		t.Fatalf("within now+15m: %v, calls %d", err, e.double.Calls())
	}
	e.clk.t = testStart.Add(15 * time.Minute)
	_, _ = cv.Verify(ctx, tok, req, testCluster)
	if e.double.Calls() != 2 {
		t.Fatalf("the cache answered past now+15m for a future-dated token (calls %d)", e.double.Calls())
	}
}

func TestIdentityTTLZeroDisablesCache(t *testing.T) {
	e, cv, _ := newCacheWith(t, CacheOptions{MaxEntries: 100, TTL: 0})
	tok, req := e.validToken(t, testCluster)
	for range 3 {
		if _, err := cv.Verify(context.Background(), tok, req, testCluster); err != nil {
			t.Fatal(err)
		}
	}
	if e.double.Calls() != 3 || cv.Len() != 0 {
		t.Fatalf("calls %d, len %d", e.double.Calls(), cv.Len())
	}
}
