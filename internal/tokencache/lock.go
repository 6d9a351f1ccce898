package tokencache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrLockTimeout means another process held the lock for the whole wait.
// The cache itself is still usable: the lock only avoids duplicate work.
var ErrLockTimeout = errors.New("timed out waiting for the cache lock")

// lockPoll is how often a waiting writer retries the lock.
const lockPoll = 25 * time.Millisecond

// Lock takes the cache's exclusive writer lock, waiting at most wait (or
// until ctx ends). Writers hold it from the cache re-check through credential
// resolution to the write, so when several kubectl processes miss at once only
// one signs (and prompts for MFA); the others then find its entry.
func (s Store) Lock(ctx context.Context, wait time.Duration) (unlock func(), err error) {
	if err := s.ensureDir(); err != nil {
		return nil, err
	}
	f, err := s.openLock()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		ok, err := flock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock cache: %w", err)
		}
		if ok {
			return func() { _ = funlock(f); f.Close() }, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock cache: another iamgate process has held %s for over %s: %w",
				filepath.Join(s.Dir, lockName), wait, ErrLockTimeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock cache: %w", ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

func (s Store) openLock() (*os.File, error) {
	path := filepath.Join(s.Dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|openNoFollow, 0o600)
	if err == nil {
		return f, nil
	}
	// A symlink or someone else's file in our (trusted) directory: replace it.
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return nil, fmt.Errorf("lock cache: %w", err)
	}
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|openNoFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock cache: %w", err)
	}
	return f, nil
}
