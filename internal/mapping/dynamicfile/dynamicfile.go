// Package dynamicfile is the DynamicFile backend: mappings from a file that
// something else rewrites while iamgate runs (GitOps, EKS Anywhere, a
// ConfigMap volume), in aws-iam-authenticator's dynamic-file JSON
// ({"mapRoles": [...], "mapUsers": [...], "mapAccounts": [...]}) or the same
// document in YAML.
//
// The file is re-read when its directory changes (fsnotify on the directory,
// because a ConfigMap volume replaces a "..data" symlink rather than writing
// the file) and on a periodic tick, which catches what inotify cannot see
// (a symlink into another directory, a watch that failed). A SHA-256 of the
// content decides whether anything changed.
package dynamicfile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/metrics/aiacompat"
)

// Defaults.
const (
	DefaultName         = "DynamicFile"
	DefaultPollInterval = 5 * time.Second
	// MaxFileBytes bounds the file; a larger one is a load error, not an
	// out-of-memory kill.
	MaxFileBytes = 32 << 20
	// debounce lets a burst of events (an editor's truncate+write, the
	// kubelet's symlink dance) settle into one read.
	debounce = 100 * time.Millisecond
)

// ErrNotSynced is returned by Map until a usable file has been loaded once.
// It is not mapping.ErrNotMapped: answering "not mapped" then would let a
// later backend (or its mapAccounts) decide for an identity the file may
// well map differently.
var ErrNotSynced = errors.New("dynamic mapping file not loaded yet")

// Options configures a Backend. The zero value is usable.
type Options struct {
	Name       string                // backendMode name; "" means DefaultName
	Logger     *slog.Logger          // nil means slog.Default()
	Registerer prometheus.Registerer // nil means metrics are not registered
	// UserIDStrict is server.dynamicfileUserIDStrict: entries without a
	// userid are skipped and the rest match only the principal whose STS
	// unique ID (AROA.../AIDA...) equals their userid.
	UserIDStrict bool
	// PollInterval is how often the file is re-read whatever fsnotify
	// says; 0 means DefaultPollInterval.
	PollInterval time.Duration
	// Mapping are the matching options of every table this backend builds
	// (SSO role matching, IAM group and EC2 resolvers, reserved names).
	Mapping rules.Options
}

// Backend maps identities with the file's entries. Map is safe for
// concurrent use; Run must be called once to start loading.
type Backend struct {
	*live.Holder
	name   string
	path   string
	dir    string
	strict bool
	poll   time.Duration
	log    *slog.Logger
	m      *live.Metrics
	// aiaFailures is aws-iam-authenticator's name for failed reads and
	// parses of the file, for dashboards built on it.
	aiaFailures prometheus.Counter

	started atomic.Bool

	// Owned by the Run goroutine.
	sum     string // sha256 of the content last acted on; "" when absent
	lastErr string // last read error reported, to report each once
	missing bool   // last look found no file
}

var _ mapping.Mapper = (*Backend)(nil)

// New creates the backend for the file at path; nothing is read until Run.
func New(path string, opts Options) (*Backend, error) {
	if path == "" {
		return nil, errors.New("dynamic file backend: no path (server.dynamicfilepath)")
	}
	b := &Backend{name: opts.Name, path: filepath.Clean(path), strict: opts.UserIDStrict,
		poll: opts.PollInterval, log: opts.Logger}
	b.dir = filepath.Dir(b.path)
	if b.name == "" {
		b.name = DefaultName
	}
	if b.poll <= 0 {
		b.poll = DefaultPollInterval
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("backend", b.name, "path", b.path)
	h, err := live.New(b.name, opts.Mapping, b.log, opts.Registerer, ErrNotSynced)
	if err != nil {
		return nil, fmt.Errorf("dynamic file backend: %w", err)
	}
	b.Holder, b.m = h, h.Metrics()
	b.aiaFailures = aiacompat.NewDynamicFile(opts.Registerer).Failures
	return b, nil
}

// HasSynced (from live.Holder) stays false while the file is missing or
// broken at start, so /readyz shows the backend never got its data, and Map
// meanwhile denies with ErrNotSynced (fail closed). Once true it stays true:
// a later broken file keeps the last good mappings and a deleted file means
// no mappings.

// Run loads the file and follows its changes until ctx is done. It returns
// nil on cancellation and an error only if called twice.
func (b *Backend) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("dynamic file backend: Run called twice")
	}
	// Watch before the first read, so a change between the two is seen.
	w, err := fsnotify.NewWatcher()
	if err != nil {
		b.log.Warn("cannot use fsnotify; relying on polling", "interval", b.poll, "err", err)
	} else {
		defer func() { _ = w.Close() }()
	}
	watching := b.watch(w)
	b.check()
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	if w != nil {
		events, watchErrs = w.Events, w.Errors
	}
	tick := time.NewTicker(b.poll)
	defer tick.Stop()
	settle := time.NewTimer(debounce)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.Name == b.dir && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				watching = false // the directory itself went away; re-watch on a tick
			}
			settle.Reset(debounce)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			b.log.Warn("fsnotify error; polling continues", "err", err)
		case <-settle.C:
			b.check()
		case <-tick.C:
			if !watching {
				watching = b.watch(w)
			}
			b.check()
		}
	}
}

// watch adds the file's directory to w, reporting whether it is watched.
func (b *Backend) watch(w *fsnotify.Watcher) bool {
	if w == nil {
		return false
	}
	if err := w.Add(b.dir); err != nil {
		b.log.Debug("cannot watch directory yet; polling", "dir", b.dir, "err", err)
		return false
	}
	return true
}

// check reads the file and acts on what changed since the last look.
func (b *Backend) check() {
	data, err := readLimited(b.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		b.lastErr = ""
		if b.missing {
			return
		}
		b.missing, b.sum = true, ""
		if !b.HasSynced() {
			b.log.Warn("dynamic file does not exist yet; no mappings and not ready until it does")
			return
		}
		b.Clear()
		b.log.Warn("dynamic file deleted; its mappings are removed")
		return
	case err != nil:
		if msg := err.Error(); msg != b.lastErr {
			b.lastErr = msg
			b.Refuse(false)
			b.aiaFailures.Inc()
			b.log.Error("cannot read dynamic file; keeping the last good mappings", "err", err)
		}
		return
	}
	b.missing, b.lastErr = false, ""
	raw := sha256.Sum256(data)
	sum := hex.EncodeToString(raw[:])
	if sum == b.sum {
		return
	}
	b.sum = sum
	out, c, err := load(b.Holder, b.path, data, b.strict)
	if err != nil {
		b.Refuse(false)
		b.aiaFailures.Inc()
		b.log.Error("dynamic file is unusable; keeping the last good mappings", "sha256", sum[:16], "err", err)
		return
	}
	b.Apply(b.log.With("sha256", sum[:16], "version", c.version), out)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileBytes)
	}
	return data, nil
}
