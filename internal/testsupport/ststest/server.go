// Package ststest is an STS double for tests and the demo: a real TLS server
// on loopback that verifies presigned GetCallerIdentity requests with its own
// SigV4 implementation and answers like STS.
//
// It is deliberately independent of the AWS SDK's signer, so a client that
// signs wrongly fails here as it would against real STS. Transport() routes
// every STS host name to the double while keeping certificate checks, so the
// production host allow-list stays in force. Production binaries
// (cmd/iamgate-core) must never import it.
package ststest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Identity is what GetCallerIdentity answers for a key.
type Identity struct {
	Arn     string
	Account string
	UserId  string //nolint:revive // spelled as STS spells it
}

type key struct {
	secret, sessionToken string
	id                   Identity
	expired              bool
}

type fault struct {
	status int
	code   string
	msg    string
}

// Server is a running STS double. Its methods are safe for concurrent use.
type Server struct {
	ca    *authority
	rogue *authority // signs the certificates of SetUntrustedTLS
	ln    net.Listener
	srv   *http.Server

	mu      sync.Mutex
	now     func() time.Time
	keys    map[string]*key
	latency time.Duration
	faults  []fault
	breaks  []Break
	conns   map[net.Conn]struct{}
	// untrusted makes handshakes use rogue (SetUntrustedTLS).
	untrusted bool
	calls     int
	byHost    map[string]int
	reqSeq    uint64
	active    int // requests being answered now
	peak      int // most requests answered at once
}

// Option configures New.
type Option func(*Server)

// WithClock sets the clock used for the 15-minute signature window.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// New starts a double on 127.0.0.1 with a fresh CA. Close it when done.
func New(opts ...Option) (*Server, error) {
	ca, err := newAuthority()
	if err != nil {
		return nil, err
	}
	rogue, err := newAuthority()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{ca: ca, rogue: rogue, ln: ln, now: time.Now, keys: map[string]*key{}, byHost: map[string]int{},
		conns: map[net.Conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		TLSConfig:         &tls.Config{GetCertificate: s.getCertificate, MinVersion: tls.VersionTLS12},
		ConnState:         s.trackConn,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(discard{}, "", 0),
	}
	go func() { _ = s.srv.ServeTLS(ln, "", "") }()
	return s, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TB is the part of testing.TB that Start needs; taking an interface keeps
// the testing package out of the demo binary.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start is New for tests: it fails the test on error and closes on cleanup.
func Start(t TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("start sts double: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the listener and open connections.
func (s *Server) Close() { _ = s.srv.Close() }

// Addr is the listener's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// AddKey registers an access key. sessionToken is "" for long-term keys;
// otherwise requests must carry exactly that X-Amz-Security-Token.
func (s *Server) AddKey(akid, secret, sessionToken string, id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[akid] = &key{secret: secret, sessionToken: sessionToken, id: id}
}

// ExpireKey makes further requests with akid fail with ExpiredToken, as STS
// does for expired temporary credentials.
func (s *Server) ExpireKey(akid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[akid]; ok {
		k.expired = true
	}
}

// RemoveKey forgets akid: further requests with it fail with
// InvalidClientTokenId, as STS answers for a deleted access key.
func (s *Server) RemoveKey(akid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, akid)
}

// Credentials returns static credentials for a registered key, for signing
// through an aws.Config in tests. Unknown keys yield a provider that fails.
func (s *Server) Credentials(akid string) aws.CredentialsProvider {
	s.mu.Lock()
	k, ok := s.keys[akid]
	s.mu.Unlock()
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		if !ok {
			return aws.Credentials{}, errors.New("ststest: unknown access key")
		}
		return aws.Credentials{AccessKeyID: akid, SecretAccessKey: k.secret, SessionToken: k.sessionToken, Source: "ststest"}, nil
	})
}

// SetClock replaces the clock used for the signature window.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetLatency delays every answer by d (0 turns it off). A request whose
// context ends first gets no answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ThrottleNext makes the next n requests fail as STS throttles: HTTP 400
// with error code Throttling.
func (s *Server) ThrottleNext(n int) {
	s.queue(n, fault{http.StatusBadRequest, "Throttling", "Rate exceeded"})
}

// FailNext makes the next n requests fail with HTTP 500 InternalFailure.
func (s *Server) FailNext(n int) {
	s.queue(n, fault{http.StatusInternalServerError, "InternalFailure", "An internal error occurred."})
}

// FailNextWith makes the next n requests fail with status and error code.
func (s *Server) FailNextWith(n, status int, code, message string) {
	s.queue(n, fault{status, code, message})
}

func (s *Server) queue(n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ; n > 0; n-- {
		s.faults = append(s.faults, f)
	}
}

// Calls counts requests received, including failed and faulted ones.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// CallsTo counts requests received for one Host (e.g. sts.us-west-2.amazonaws.com).
func (s *Server) CallsTo(host string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byHost[host]
}

// PeakConcurrency is the most requests the double was answering at once
// since it started or since ResetCalls.
func (s *Server) PeakConcurrency() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// ResetCalls zeroes the counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = 0
	s.byHost = map[string]int{}
	s.peak = s.active
}

// Transport dials every host:443 to the double and trusts only its CA. TLS
// still checks the certificate against the requested host name, and the
// caller's own host checks are untouched. It never uses a proxy.
func (s *Server) Transport() *http.Transport {
	addr := s.Addr()
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, target string) (net.Conn, error) {
			if _, port, err := net.SplitHostPort(target); err != nil || port != "443" {
				return nil, fmt.Errorf("ststest: refusing to dial %q: only port 443 goes to the double", target)
			}
			return d.DialContext(ctx, "tcp", addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: s.ca.pool, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
}

// begin counts a request and returns the settings it runs under.
func (s *Server) begin(host string) (now time.Time, latency time.Duration, f *fault, b Break, reqID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.byHost[host]++
	s.reqSeq++
	s.active++
	s.peak = max(s.peak, s.active)
	if len(s.breaks) > 0 {
		b, s.breaks = s.breaks[0], s.breaks[1:]
	} else if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	return s.now(), s.latency, f, b, fmt.Sprintf("00000000-0000-4000-8000-%012x", s.reqSeq)
}

// end marks a request begun with begin as answered.
func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
}

func (s *Server) lookup(akid string) (key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[akid]
	if !ok {
		return key{}, false
	}
	return *k, true
}
