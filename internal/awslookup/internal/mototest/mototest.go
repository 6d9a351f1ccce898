// Package mototest runs moto's server (a local fake of AWS APIs, preinstalled
// in this project's build image) for the awslookup tests, and gives them an
// aws.Config pointed at it plus a transport that counts API calls.
//
// It is test support only; nothing outside _test.go files imports it.
package mototest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AccountID is the account moto answers for by default.
const AccountID = "123456789012"

// AccessKeyID is the static key Config signs with.
const AccessKeyID = "AKIDTESTING"

// ErrAbsent means moto or its Flask dependency is not installed.
var ErrAbsent = errors.New("moto server is not installed (want python3 with moto 5 and flask: pip install 'moto[server]')")

// Server is one moto_server process on 127.0.0.1.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// Start launches moto on a free loopback port and waits until it answers.
func Start() (*Server, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, ErrAbsent
	}
	if err := exec.Command(py, "-c", "import moto.server, flask").Run(); err != nil {
		return nil, ErrAbsent
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), logs: &bytes.Buffer{}}
	s.cmd = exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = &limitedWriter{w: s.logs, left: 64 << 10}
	// Its own process group, so Stop also ends anything the interpreter forks.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(s.cmd.SysProcAttr)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("moto exited before answering: %s", s.logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	s.Stop()
	return nil, fmt.Errorf("moto did not answer on %s within 60s", s.URL)
}

// Stop ends the moto process group.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// URL returns the base URL of the package's shared moto server, starting it
// on first use. It skips the test when moto is not installed and fails it
// when moto is installed but does not start.
func URL(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = Start() })
	if errors.Is(shared.err, ErrAbsent) {
		t.Skipf("skipping: %v", shared.err)
	}
	if shared.err != nil {
		t.Fatalf("moto: %v", shared.err)
	}
	return shared.s.URL
}

// Main runs the package's tests and then stops the shared server.
func Main(m *testing.M) {
	code := m.Run()
	shared.s.Stop()
	os.Exit(code)
}

// Config is an aws.Config for endpoint with static test credentials, region
// us-east-1, no retries (so failure tests are quick and call counts exact)
// and rt as the HTTP transport (nil: a fresh one).
func Config(endpoint string, rt http.RoundTripper) aws.Config {
	if rt == nil {
		rt = &http.Transport{}
	}
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, "secret", ""),
		BaseEndpoint:     aws.String(endpoint),
		HTTPClient:       &http.Client{Transport: rt, Timeout: 10 * time.Second},
		RetryMaxAttempts: 1,
	}
}

// ClosedURL returns a loopback URL on which nothing listens.
func ClosedURL(t testing.TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Counter is an http.RoundTripper that counts AWS query-protocol calls by
// their Action (IAM, EC2 and STS all use it) and can hold them at a gate.
type Counter struct {
	Base http.RoundTripper // nil: http.DefaultTransport

	mu     sync.Mutex
	counts map[string]int
	keys   map[string][]string
	forms  map[string][]url.Values
	gate   chan struct{}
	seen   chan string
}

// Count returns how many requests for action went out.
func (c *Counter) Count(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[action]
}

// AccessKeys returns the access key ids that signed the requests for
// action, in order.
func (c *Counter) AccessKeys(action string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys[action]...)
}

// Forms returns the decoded bodies of the requests for action, in order.
func (c *Counter) Forms(action string) []url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.forms[action]...)
}

// Hold makes every later request wait until the returned release func runs;
// each held request's action is sent on seen first (seen must be drained).
func (c *Counter) Hold(seen chan string) (release func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gate := make(chan struct{})
	c.gate, c.seen = gate, seen
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.gate, c.seen = nil, nil
			c.mu.Unlock()
			close(gate)
		})
	}
}

// RoundTrip implements http.RoundTripper.
func (c *Counter) RoundTrip(req *http.Request) (*http.Response, error) {
	action := req.URL.Query().Get("Action")
	var form url.Values
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if f, err := url.ParseQuery(string(body)); err == nil && f.Get("Action") != "" {
			action, form = f.Get("Action"), f
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	c.mu.Lock()
	if c.counts == nil {
		c.counts, c.keys, c.forms = map[string]int{}, map[string][]string{}, map[string][]url.Values{}
	}
	c.forms[action] = append(c.forms[action], form)
	c.counts[action]++
	c.keys[action] = append(c.keys[action], accessKey(req.Header.Get("Authorization")))
	gate, seen := c.gate, c.seen
	c.mu.Unlock()
	if gate != nil {
		seen <- action
		select {
		case <-gate:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// accessKey extracts the access key id from a SigV4 Authorization header.
func accessKey(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

// limitedWriter keeps at most left bytes of moto's log for error messages.
type limitedWriter struct {
	mu   sync.Mutex
	w    *bytes.Buffer
	left int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := min(len(p), l.left); n > 0 {
		l.w.Write(p[:n])
		l.left -= n
	}
	return len(p), nil
}
