// Package server is the TokenReview webhook that kube-apiserver calls: it
// checks an AWS presigned-URL token, asks STS who signed it, maps that
// identity to a Kubernetes user and answers allow or deny.
//
// The package declares the small interfaces it consumes (TokenValidator,
// IdentityVerifier) so it depends only on the data types of internal/token
// and internal/sts, not on how they are built.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

// Defaults match aws-iam-authenticator so existing webhook kubeconfigs and
// probes keep working.
const (
	DefaultAddress         = "127.0.0.1"
	DefaultPort            = 21362
	DefaultHealthPort      = 21363
	DefaultShutdownTimeout = 20 * time.Second
	// MaxRequestBytes bounds a TokenReview body; real ones are a few KiB.
	MaxRequestBytes = 1 << 20
)

// TokenValidator performs the local (no network) checks on a token.
type TokenValidator interface {
	Validate(tok string) (*token.Request, error)
}

// IdentityVerifier asks STS who signed the token.
type IdentityVerifier interface {
	Verify(ctx context.Context, tok string, req *token.Request, clusterID string) (sts.Identity, error)
}

// Config configures a Server. Ports are taken literally (0 picks a free
// port, which tests use), so callers apply DefaultPort/DefaultHealthPort.
type Config struct {
	ClusterID  string
	Address    string // "" means DefaultAddress
	Port       int    // TLS webhook port
	HealthPort int    // plain HTTP: /healthz, /readyz, /metrics
	CertFile   string // PEM serving certificate (chain); reloaded on change
	KeyFile    string

	Validator TokenValidator
	Verifier  IdentityVerifier
	// Mappers are asked in order; the first that maps the identity wins.
	Mappers []mapping.Mapper
	// Ready reports whether the mappings are loaded; nil means always ready.
	Ready func() bool
	// ScrubbedAccounts are 12-digit account IDs whose identities are kept
	// out of responses (no extra, administrative uid) and the audit log.
	ScrubbedAccounts []string

	Logger   *slog.Logger         // nil means slog.Default()
	Registry *prometheus.Registry // nil means a private registry
	Now      func() time.Time     // nil means time.Now
	// Version labels iamgate_build_info; "" means "dev".
	Version string

	// Admission, when set, serves POST /validate on the TLS listener (the
	// aws-auth validating webhook).
	Admission http.Handler

	// ShutdownTimeout bounds how long Run waits for in-flight reviews
	// after ctx is cancelled; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server is the webhook. Create it with New, then call Run (or Listen and
// then Run to learn the bound addresses first).
type Server struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics
	certs    *certReloader
	scrubbed map[string]bool
	mux      http.Handler
	health   http.Handler
	draining atomic.Bool

	mu       sync.Mutex
	ln       net.Listener
	healthLn net.Listener
	ran      bool
}

var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)

// New checks cfg, reporting every problem at once, loads the serving
// certificate and registers the metrics.
func New(cfg Config) (*Server, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if cfg.ClusterID == "" {
		bad("cluster id is required")
	}
	if cfg.Address == "" {
		cfg.Address = DefaultAddress
	}
	if net.ParseIP(cfg.Address) == nil && cfg.Address != "localhost" {
		bad("address %q is not an IP address", cfg.Address)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		bad("port %d is out of range", cfg.Port)
	}
	if cfg.HealthPort < 0 || cfg.HealthPort > 65535 {
		bad("health port %d is out of range", cfg.HealthPort)
	}
	if cfg.Port != 0 && cfg.Port == cfg.HealthPort {
		bad("port and health port are both %d", cfg.Port)
	}
	if cfg.Validator == nil {
		bad("token validator is required")
	}
	if cfg.Verifier == nil {
		bad("identity verifier is required")
	}
	if len(cfg.Mappers) == 0 {
		bad("at least one mapper is required")
	}
	for i, m := range cfg.Mappers {
		if m == nil {
			bad("mapper %d is nil", i)
		}
	}
	scrubbed := map[string]bool{}
	for _, a := range cfg.ScrubbedAccounts {
		if !accountIDRe.MatchString(a) {
			bad("scrubbed account %q is not a 12-digit account id", a)
		}
		scrubbed[a] = true
	}
	if cfg.ShutdownTimeout < 0 {
		bad("shutdown timeout %s is negative", cfg.ShutdownTimeout)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Ready == nil {
		cfg.Ready = func() bool { return true }
	}
	var certs *certReloader
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		bad("certificate and key files are required")
	} else {
		var err error
		if certs, err = newCertReloader(cfg.CertFile, cfg.KeyFile, cfg.Logger); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid server config: %w", errors.Join(errs...))
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now, certs: certs, scrubbed: scrubbed}
	// Register only now that New will succeed.
	m, err := newMetrics(cfg.Registry, certs, cfg.Version, func() bool { return !s.draining.Load() && s.ready() })
	if err != nil {
		return nil, fmt.Errorf("invalid server config: %w", err)
	}
	s.metrics = m
	s.mux = s.newMux()
	s.health = s.newHealthMux()
	return s, nil
}

// Handler is the TLS-side mux: POST /authenticate (and /healthz, which
// aws-iam-authenticator also served there).
func (s *Server) Handler() http.Handler { return s.mux }

// HealthHandler is the plain-HTTP mux: /healthz, /readyz, /metrics.
func (s *Server) HealthHandler() http.Handler { return s.health }

// Listen binds both ports. Run calls it when it has not been called; call it
// first to learn the addresses of port 0 listeners.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.Address, strconv.Itoa(s.cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen webhook: %w", err)
	}
	hln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.Address, strconv.Itoa(s.cfg.HealthPort)))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("listen health: %w", err)
	}
	s.ln, s.healthLn = ln, hln
	return nil
}

// Addr is the bound webhook address ("" before Listen).
func (s *Server) Addr() string { return addrOf(&s.mu, &s.ln) }

// HealthAddr is the bound health address ("" before Listen).
func (s *Server) HealthAddr() string { return addrOf(&s.mu, &s.healthLn) }

func addrOf(mu *sync.Mutex, ln *net.Listener) string {
	mu.Lock()
	defer mu.Unlock()
	if *ln == nil {
		return ""
	}
	return (*ln).Addr().String()
}

// Run serves until ctx is cancelled, then shuts down gracefully: listeners
// close at once, in-flight reviews finish, bounded by ShutdownTimeout. It
// returns nil after a clean shutdown. Run may be called once.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return errors.New("server already ran")
	}
	s.ran = true
	ln, hln := s.ln, s.healthLn
	s.mu.Unlock()

	errLog := slog.NewLogLogger(s.log.Handler(), slog.LevelInfo)
	web := &http.Server{
		Handler:           s.mux,
		TLSConfig:         s.certs.tlsConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // above the STS timeout plus mapping
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
	}
	health := &http.Server{
		Handler:           s.health,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          errLog,
	}

	watchCtx, stopWatch := context.WithCancel(context.Background())
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); s.certs.watch(watchCtx) }()
	defer func() { stopWatch(); <-watchDone }()

	serveErr := make(chan error, 2)
	go func() { serveErr <- web.ServeTLS(ln, "", "") }()
	go func() { serveErr <- health.Serve(hln) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "healthAddr", hln.Addr().String(), "clusterID", s.cfg.ClusterID)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr: // a listener failed: stop everything
		runErr = fmt.Errorf("serve: %w", err)
	}
	s.draining.Store(true)
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// The health server drains last so /readyz answers 503 while the
	// webhook finishes its in-flight reviews.
	for _, x := range []struct {
		srv  *http.Server
		name string
	}{{web, "webhook"}, {health, "health"}} {
		if err := x.srv.Shutdown(sctx); err != nil {
			_ = x.srv.Close()
			s.log.Warn("forced shutdown", "server", x.name, "err", err.Error())
			if runErr == nil {
				runErr = fmt.Errorf("shutdown %s: %w", x.name, err)
			}
		}
	}
	return runErr
}
