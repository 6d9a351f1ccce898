package resolveids

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrLookupFailed is returned (wrapped) when an IAM call failed for some
// entry: nothing is written, since a half-resolved file is harder to review
// than an untouched one.
var ErrLookupFailed = errors.New("IAM lookups failed; nothing written")

// Report is the outcome of one run.
type Report struct {
	// Target names what was resolved: a file path or "configmap NS/NAME".
	Target string
	// Account is the account the credentials (and so the lookups) are for.
	Account string
	Changes []Change
	// Written is true when changes were applied.
	Written bool
	// Attempts counts ConfigMap read-modify-write attempts (1 without a
	// conflict).
	Attempts int
}

// Count returns how many entries ended with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, c := range r.Changes {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Pending reports whether any userid is (or would be) changed.
func (r *Report) Pending() bool { return r.Count(Filled)+r.Count(Replaced) > 0 }

// NeedsAttention reports entries a person should look at: a userid that
// differs from IAM's, a principal IAM does not have, a failed lookup.
func (r *Report) NeedsAttention() bool {
	return r.Count(Differs)+r.Count(NotFound)+r.Count(Failed) > 0
}

// ResolveFile resolves the userids in a mapping file and, with o.Write,
// rewrites it atomically (same permissions; a symlink's target is
// rewritten). The file keeps its format: JSON stays JSON, YAML keeps its
// comments and key order.
func ResolveFile(ctx context.Context, path string, l *Lookup, o Options) (*Report, error) {
	r := &Report{Target: path, Account: l.Partition() + ":" + l.Account(), Attempts: 1}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	d, err := parseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.Changes, err = d.resolve(ctx, l, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n := r.Count(Failed); n > 0 {
		return r, fmt.Errorf("%s: %d %w", path, n, ErrLookupFailed)
	}
	if !o.Write || !r.Pending() {
		return r, nil
	}
	out, err := d.render()
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	if err := writeAtomic(path, data, out); err != nil {
		return r, err
	}
	r.Written = true
	return r, nil
}

// writeAtomic replaces path with data via a temporary file and a rename, so
// a reader (or a server watching the file) sees the old or the new content,
// never a mix. It refuses when the file changed since it was read as orig.
func writeAtomic(path string, orig, data []byte) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(real), "."+filepath.Base(real)+".resolve-ids-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	now, err := os.ReadFile(real)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if !bytes.Equal(now, orig) {
		return fmt.Errorf("write %s: the file changed while its ids were being resolved; nothing written, run again", path)
	}
	if err := os.Rename(tmp.Name(), real); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	if dir, err := os.Open(filepath.Dir(real)); err == nil {
		_ = dir.Sync() // make the rename durable; best effort
		_ = dir.Close()
	}
	return nil
}
