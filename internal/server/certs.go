package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// certReloader serves the newest valid certificate/key pair found on disk.
// The webhook kubeconfig pins the CA, not the leaf, so a renewed leaf must be
// picked up without a restart. Files are re-read on fsnotify events in their
// directories (which also sees Kubernetes secret-volume symlink swaps) and on
// a poll, in case events are missed. A half-written or mismatched pair keeps
// the previous certificate; changes are detected by content hash, so a later
// completed write is tried again.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	interval          time.Duration
	debounce          time.Duration
	cur               atomic.Pointer[tls.Certificate]
	watching          chan struct{} // closed once watch has set up (tests wait on it)

	mu       sync.Mutex // guards the fields below (check may run from tests)
	lastHash [sha256.Size]byte
	lastErr  string
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log,
		interval: 5 * time.Second, debounce: 200 * time.Millisecond, watching: make(chan struct{})}
	if _, err := r.check(); err != nil {
		return nil, fmt.Errorf("load serving certificate: %w", err)
	}
	return r, nil
}

// tlsConfig is the webhook's TLS configuration; GetCertificate always hands
// out the current pair.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c := r.cur.Load()
			if c == nil {
				return nil, errors.New("no serving certificate")
			}
			return c, nil
		},
	}
}

// check loads the pair when its content differs from the last attempt and
// reports whether the served certificate changed.
func (r *certReloader) check() (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	certPEM, err := os.ReadFile(r.certFile)
	if err != nil {
		return false, fmt.Errorf("read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(r.keyFile)
	if err != nil {
		return false, fmt.Errorf("read key: %w", err)
	}
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, uint64(len(certPEM)))
	h.Write(certPEM)
	h.Write(keyPEM)
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	if sum == r.lastHash {
		return false, nil
	}
	r.lastHash = sum
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, fmt.Errorf("parse certificate/key pair: %w", err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return false, fmt.Errorf("parse certificate: %w", err)
		}
	}
	r.cur.Store(&pair)
	r.lastErr = ""
	now := time.Now()
	attrs := []any{"serial", pair.Leaf.SerialNumber.Text(16), "subject", pair.Leaf.Subject.String(),
		"notAfter", pair.Leaf.NotAfter.UTC().Format(time.RFC3339)}
	if now.After(pair.Leaf.NotAfter) || now.Before(pair.Leaf.NotBefore) {
		r.log.Warn("serving certificate loaded but not valid now", attrs...)
	} else {
		r.log.Info("serving certificate loaded", attrs...)
	}
	return true, nil
}

// reload runs check and logs a failure once per distinct error.
func (r *certReloader) reload() {
	_, err := r.check()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		return
	}
	if msg := err.Error(); msg != r.lastErr {
		r.lastErr = msg
		r.log.Warn("serving certificate not reloaded; keeping the previous one", "err", msg)
	}
}

// watch reloads on file events and on every poll interval until ctx ends.
func (r *certReloader) watch(ctx context.Context) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		r.log.Warn("certificate file events unavailable; polling only", "err", err.Error())
	} else {
		defer w.Close()
		for _, dir := range uniqueDirs(r.certFile, r.keyFile) {
			if err := w.Add(dir); err != nil {
				r.log.Warn("cannot watch certificate directory; polling only", "dir", dir, "err", err.Error())
			}
		}
		events, errs = w.Events, w.Errors
	}
	close(r.watching)
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.reload()
		case <-events:
			debounce.Reset(r.debounce) // let a multi-file write settle
		case err := <-errs:
			if err != nil {
				r.log.Warn("certificate watch error", "err", err.Error())
			}
		case <-debounce.C:
			r.reload()
		}
	}
}

func uniqueDirs(paths ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		d := filepath.Dir(p)
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}
