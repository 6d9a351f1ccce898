// Package sts asks AWS STS who signed a validated token: the server's
// GetCallerIdentity call, its error classification, metrics and cache.
package sts

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iamgate/iamgate/internal/token"
)

// Identity is what STS said about the signer.
type Identity struct {
	ARN     string // e.g. arn:aws:sts::111122223333:assumed-role/R/S
	Account string // 12 digits, equal to the ARN's account
	UserID  string // STS UserId, e.g. AROAEXAMPLE:S
}

// Errors returned by Verify wrap exactly one of these; test with errors.Is.
var (
	// ErrThrottled: STS refused for rate (error code Throttling); retry later.
	ErrThrottled = errors.New("sts throttled the request")
	// ErrInvalidToken: STS rejected the token (bad signature, unknown or
	// expired key, wrong cluster id) or answered with a redirect.
	ErrInvalidToken = errors.New("sts rejected the token")
	// ErrUnavailable: no trustworthy answer (network, timeout, 5xx, oversized
	// or unparseable reply).
	ErrUnavailable = errors.New("sts unavailable")
	// ErrBusy: every STS call slot stayed taken for the queue wait; the
	// call was not sent. Answer it like throttling.
	ErrBusy = errors.New("too many sts calls in flight")
)

// rejection marks an STS answer that settles a token for good: a 403 saying
// the signature, the key or the caller is wrong. Asking again with the same
// token cannot succeed, so CachingVerifier remembers it.
type rejection struct{ code string }

func (r *rejection) Error() string { return " (remembered until the token expires)" }

// definitive reports whether err is a definitive rejection, and its code.
func definitive(err error) (string, bool) {
	var r *rejection
	if errors.As(err, &r) {
		return r.code, true
	}
	return "", false
}

func isDefinitive(status int, code string) bool {
	if status != http.StatusForbidden {
		return false
	}
	switch code {
	case "SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken", "AccessDenied":
		return true
	}
	return false
}

const (
	// DefaultTimeout bounds one STS call, as AIA does.
	DefaultTimeout = 10 * time.Second
	// maxBodyBytes bounds what is read from STS; real answers are < 1 KiB.
	maxBodyBytes = 64 << 10
	userAgent    = "iamgate"
)

// Options configure New. The zero value is production.
type Options struct {
	// Transport carries the GET; nil means a production transport (TLS 1.2+,
	// proxy from the environment, bounded dial/handshake/header waits).
	// Tests and the demo pass ststest's transport; host checks still apply
	// because they run in token.Validator before Verify.
	Transport http.RoundTripper
	// Timeout bounds each call; 0 means DefaultTimeout.
	Timeout time.Duration
	Metrics *Metrics
	// Logger receives debug details (never the token or URL) and the
	// warnings about unlisted regions; nil discards.
	Logger *slog.Logger
	// ExtraRegions are the operator's server.stsRegions: a region listed
	// there, or by the SDK, is expected and not warned about.
	ExtraRegions []string
}

// Client calls STS GetCallerIdentity with presigned URLs.
type Client struct {
	hc      *http.Client
	timeout time.Duration
	metrics *Metrics
	log     *slog.Logger
	regions *regionWarner
}

// New builds a Client.
func New(o Options) *Client {
	tr := o.Transport
	if tr == nil {
		tr = productionTransport()
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		hc: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			// A redirect could send the signed request, and our trust, to
			// another host (Vault CVE-2020-16250): never follow one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		timeout: timeout,
		metrics: o.Metrics,
		log:     logger,
		regions: newRegionWarner(o.ExtraRegions, logger),
	}
}

func productionTransport() *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  DefaultTimeout,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    32,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
}

// Verify sends the validated presigned request to STS with the server's
// cluster id and returns the signer's identity. req must come from
// token.Validator: Verify re-checks only that URL and host agree.
func (c *Client) Verify(ctx context.Context, req *token.Request, clusterID string) (Identity, error) {
	if req == nil || clusterID == "" {
		return Identity{}, fmt.Errorf("sts: missing request or cluster id: %w", ErrInvalidToken)
	}
	if u, err := url.Parse(req.URL); err != nil || u.Scheme != "https" || u.Host != req.Host || u.User != nil || req.Host == "" {
		return Identity{}, fmt.Errorf("sts: request URL does not match its validated host: %w", ErrInvalidToken)
	}
	c.regions.check(ctx, req)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return Identity{}, fmt.Errorf("sts: cannot build request: %w", ErrInvalidToken)
	}
	hreq.Header.Set(token.ClusterIDHeader, clusterID)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", userAgent)

	start := time.Now()
	resp, err := c.hc.Do(hreq)
	if err != nil {
		c.metrics.observe(req, 0, time.Since(start))
		reason := describeTransportError(err, req.URL)
		c.log.DebugContext(ctx, "sts call failed", "host", req.Host, "region", req.Region, "err", reason)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Identity{}, fmt.Errorf("sts: call to %s: %s: %w: %w", req.Host, reason, ErrUnavailable, ctxErr)
		}
		return Identity{}, fmt.Errorf("sts: call to %s: %s: %w", req.Host, reason, ErrUnavailable)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	c.metrics.observe(req, resp.StatusCode, time.Since(start))
	if readErr != nil {
		return Identity{}, fmt.Errorf("sts: reading answer from %s: %w", req.Host, ErrUnavailable)
	}
	if len(body) > maxBodyBytes {
		return Identity{}, fmt.Errorf("sts: answer from %s exceeds %d bytes: %w", req.Host, maxBodyBytes, ErrUnavailable)
	}
	return c.classify(ctx, req, resp, body)
}

// classify turns an STS answer into an Identity or a sentinel error. The
// body never reaches the returned error; only a bounded snippet is logged at
// debug level.
func (c *Client) classify(ctx context.Context, req *token.Request, resp *http.Response, body []byte) (Identity, error) {
	status := resp.StatusCode
	ctype := resp.Header.Get("Content-Type")
	if status == http.StatusOK {
		id, err := parseIdentity(ctype, body)
		if err != nil {
			c.log.DebugContext(ctx, "unusable sts answer", "host", req.Host, "err", err.Error(), "snippet", snippet(body))
			return Identity{}, fmt.Errorf("sts: unusable answer from %s (%v): %w", req.Host, err, ErrUnavailable)
		}
		return id, nil
	}
	code := parseErrorCode(ctype, body)
	c.log.DebugContext(ctx, "sts refused", "host", req.Host, "status", status, "code", code, "snippet", snippet(body))
	label := fmt.Sprintf("HTTP %d", status)
	if code != "" {
		label += " " + code
	}
	switch {
	case isThrottle(code) || status == http.StatusTooManyRequests:
		c.metrics.throttle(req)
		return Identity{}, fmt.Errorf("sts: %s: %w", label, ErrThrottled)
	case status >= 300 && status < 400:
		return Identity{}, fmt.Errorf("sts: %s: redirect refused: %w", label, ErrInvalidToken)
	case isDefinitive(status, code):
		return Identity{}, fmt.Errorf("sts: %s: %w%w", label, ErrInvalidToken, &rejection{code})
	case status >= 400 && status < 500:
		return Identity{}, fmt.Errorf("sts: %s: %w", label, ErrInvalidToken)
	default:
		return Identity{}, fmt.Errorf("sts: %s: %w", label, ErrUnavailable)
	}
}

func isThrottle(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException":
		return true
	}
	return false
}

// describeTransportError names a failed call without the URL, which holds
// the signature: *url.Error prints it, so only its inner error is used.
func describeTransportError(err error, rawURL string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timeout"
		}
		err = ue.Err
	}
	msg := strings.ReplaceAll(err.Error(), rawURL, "<url>")
	if len(msg) > 200 {
		msg = msg[:200] + "..."
	}
	return msg
}

// snippet is a bounded, printable-ASCII excerpt of a body for debug logs.
func snippet(b []byte) string {
	const max = 256
	if len(b) > max {
		b = b[:max]
	}
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
