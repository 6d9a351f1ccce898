// Package demo runs the whole iamgate flow in one process, without an AWS
// account: the STS double (internal/testsupport/ststest), the real "iamgate server"
// command started through cli.Run, and tokens signed by the real client code.
// cmd/iamgate-demo prints its outcome; test/e2e reuses the same harness.
//
// Only the demo binary and tests link this package. The deployable binaries
// must not: it is how STS traffic gets pointed at a stand-in.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/cli"
)

// ServerOptions configure StartServer.
type ServerOptions struct {
	// Dir holds the config file, state dir, webhook kubeconfig and server
	// log. Required; it must exist.
	Dir string
	// Config is written to Dir/config.yaml and passed with -c.
	Config []byte
	// STSTransport routes the server's STS calls (normally the double's).
	STSTransport http.RoundTripper
	// Now is the server's clock (nil: time.Now).
	Now func() time.Time
	// LogTo also receives the server's log lines, e.g. os.Stderr for -v.
	LogTo io.Writer
}

// Server is a running "iamgate server" and a client that reaches it the way
// kube-apiserver does: through the webhook kubeconfig the server wrote.
type Server struct {
	Dir            string
	ConfigPath     string
	LogPath        string // the server's stderr: JSON lines, one "review" line per decision
	KubeconfigPath string
	URL            string // webhook URL from the kubeconfig
	HealthURL      string // http://127.0.0.1:PORT of /healthz, /readyz, /metrics

	client *http.Client
	cancel context.CancelFunc
	done   chan struct{}
	code   int
	log    *os.File

	stopOnce sync.Once
}

// startAttempts bounds retries when a port picked as free was taken before
// the server bound it.
const startAttempts = 5

// readyTimeout bounds the wait for /readyz.
const readyTimeout = 15 * time.Second

// StartServer writes the config and starts the real server command in a
// goroutine, retrying with new ports if one was taken meanwhile, and returns
// once /readyz answers 200. Call Stop when done.
func StartServer(ctx context.Context, o ServerOptions) (*Server, error) {
	if o.Dir == "" {
		return nil, errors.New("demo server: no directory")
	}
	s := &Server{
		Dir:            o.Dir,
		ConfigPath:     filepath.Join(o.Dir, "config.yaml"),
		LogPath:        filepath.Join(o.Dir, "server.log"),
		KubeconfigPath: filepath.Join(o.Dir, "webhook-kubeconfig.yaml"),
	}
	if err := os.WriteFile(s.ConfigPath, o.Config, 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	var lastErr error
	for range startAttempts {
		retry, err := s.start(ctx, o)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	return nil, lastErr
}

// start makes one attempt; retry reports a port clash worth another go.
func (s *Server) start(ctx context.Context, o ServerOptions) (retry bool, err error) {
	ports, err := pickPorts(2)
	if err != nil {
		return false, err
	}
	if s.log, err = os.Create(s.LogPath); err != nil {
		return false, fmt.Errorf("create server log: %w", err)
	}
	var logw io.Writer = s.log
	if o.LogTo != nil {
		logw = io.MultiWriter(s.log, &lockedWriter{w: o.LogTo})
	}
	args := []string{"server", "-c", s.ConfigPath,
		"--state-dir", filepath.Join(s.Dir, "state"), "--generate-kubeconfig", s.KubeconfigPath,
		"--port", strconv.Itoa(ports[0]), "--health-port", strconv.Itoa(ports[1]), "--log-format", "json"}
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel, s.done, s.stopOnce = cancel, make(chan struct{}), sync.Once{}
	s.HealthURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
	go func() {
		defer close(s.done)
		s.code = cli.Run(runCtx, args, cli.Deps{STSTransport: o.STSTransport, Now: o.Now},
			cli.Streams{In: strings.NewReader(""), Out: logw, Err: logw})
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		out, _ := os.ReadFile(s.LogPath)
		return strings.Contains(string(out), "address already in use"),
			fmt.Errorf("server did not become ready: %w\n%s", err, tail(out, 2000))
	}
	if err := s.loadKubeconfig(); err != nil {
		s.Stop()
		return false, err
	}
	return false, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	hc := &http.Client{Timeout: time.Second}
	defer hc.CloseIdleConnections()
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("server exited with code %d", s.code)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if resp, err := hc.Get(s.HealthURL + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s/readyz within %s", s.HealthURL, readyTimeout)
}

// loadKubeconfig reads the webhook kubeconfig with client-go, as
// kube-apiserver does: the server URL and the only CA to trust.
func (s *Server) loadKubeconfig() error {
	rc, err := clientcmd.BuildConfigFromFlags("", s.KubeconfigPath)
	if err != nil {
		return fmt.Errorf("load webhook kubeconfig: %w", err)
	}
	tlsCfg, err := rest.TLSConfigFor(rc)
	if err != nil || tlsCfg == nil || tlsCfg.RootCAs == nil {
		return fmt.Errorf("webhook kubeconfig %s pins no CA: %v", s.KubeconfigPath, err)
	}
	s.URL = rc.Host
	s.client = &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 128},
	}
	return nil
}

// Stop cancels the server's context, waits for it to drain and returns its
// exit code (0 after a clean shutdown). It is safe to call more than once.
func (s *Server) Stop() int {
	s.stopOnce.Do(func() {
		// Idle HTTP/2 connections first: the server would otherwise wait up
		// to a second for this client to close them after its GOAWAY.
		if s.client != nil {
			s.client.CloseIdleConnections()
		}
		s.cancel()
		<-s.done
		_ = s.log.Close()
	})
	return s.code
}

// Done is closed when the server command has returned.
func (s *Server) Done() <-chan struct{} { return s.done }

// Review is the answer to one TokenReview.
type Review struct {
	HTTPStatus int
	Status     authv1.TokenReviewStatus
}

// Review sends an authentication.k8s.io/v1 TokenReview for tok.
func (s *Server) Review(ctx context.Context, tok string) (*Review, error) {
	body, err := json.Marshal(authv1.TokenReview{
		TypeMeta: metav1.TypeMeta{APIVersion: authv1.SchemeGroupVersion.String(), Kind: "TokenReview"},
		Spec:     authv1.TokenReviewSpec{Token: tok},
	})
	if err != nil {
		return nil, fmt.Errorf("encode review: %w", err)
	}
	code, out, err := s.Post(ctx, body)
	if err != nil {
		return nil, err
	}
	var tr authv1.TokenReview
	if err := json.Unmarshal(out, &tr); err != nil {
		return nil, fmt.Errorf("decode review (HTTP %d): %w", code, err)
	}
	return &Review{HTTPStatus: code, Status: tr.Status}, nil
}

// Post sends body as a TokenReview to the webhook URL and returns the raw
// answer.
func (s *Server) Post(ctx context.Context, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("build review request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("post review: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("read review answer: %w", err)
	}
	return resp.StatusCode, out, nil
}

// pickPorts is freePorts; a test swaps it to force a port clash.
var pickPorts = freePorts

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// lockedWriter serialises writes to a sink shared with other goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
