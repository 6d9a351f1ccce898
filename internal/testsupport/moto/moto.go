// Package moto runs moto's server (a local fake of AWS APIs, preinstalled in
// this project's build image) for tests, and gives them AWS configuration
// pointed at it: an aws.Config, ready IAM and STS clients, or environment
// variables for code that loads the SDK's default configuration.
//
// It is test support only: import it from _test.go files and test code,
// never from code that ships in a binary.
//
// Two ways to get a server:
//
//   - URL returns a server shared by a package's tests, started on first
//     use; the package's TestMain calls Main to stop it afterwards. Tests on
//     a shared server give the things they create names of their own.
//   - Start returns a fresh server of the test's own, stopped when the test
//     ends, for tests that need moto's state to themselves.
//
// Either skips the test when moto is not installed and fails it when moto
// is installed but does not start.
package moto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// AccountID is the account moto answers for by default.
const AccountID = "123456789012"

// Static test credentials and region Config and Env use. Moto accepts any
// credentials.
const (
	AccessKeyID     = "AKIDTESTING"
	SecretAccessKey = "secret"
	Region          = "us-east-1"
)

// StartTimeout bounds how long Start and URL wait for moto to answer.
const StartTimeout = 60 * time.Second

// ErrAbsent means moto's server or its Flask dependency is not installed.
var ErrAbsent = errors.New("moto server is not installed (want moto_server, or python3 with moto 5 and flask: pip install 'moto[server]')")

// logLimit is how much of moto's log a Server keeps for error messages.
const logLimit = 64 << 10

// Server is one moto server process on 127.0.0.1.
type Server struct {
	URL string // base URL, http://127.0.0.1:port

	cmd    *exec.Cmd
	logs   *limitedBuffer
	exited chan struct{} // closed once the process has been reaped
	stop   sync.Once
}

// StartServer launches moto on a free loopback port and waits until it
// answers. It returns an error wrapping ErrAbsent when moto is not
// installed. Callers must Stop the server; tests use Start or URL instead.
//
// The port is only known free when chosen, and other test packages start
// servers concurrently, so a start that finds the port taken is retried
// on another one.
func StartServer() (*Server, error) {
	bin, args, err := command()
	if err != nil {
		return nil, err
	}
	const attempts = 3
	for i := 1; ; i++ {
		s, err := startOnce(bin, args)
		if err == nil || !errors.Is(err, errPortTaken) || i == attempts {
			return s, err
		}
	}
}

// errPortTaken means the chosen port was taken before moto bound it.
var errPortTaken = errors.New("port taken")

func startOnce(bin string, args []string) (*Server, error) {
	port, err := pickPort()
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), logs: &limitedBuffer{left: logLimit}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append(args, "-H", "127.0.0.1", "-p", strconv.Itoa(port))...)
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = s.logs
	// Its own process group, so Stop also ends anything the interpreter
	// forks; and it dies with the test binary even if Stop never runs.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(s.cmd.SysProcAttr)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	// The probe carries a nonce that moto's request log must echo: a 200
	// from another process that holds the port is not this server.
	nonce := "iamgate-probe-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	probe := s.URL + "/moto-api/?" + nonce
	var answeredAt time.Time
	deadline := time.Now().Add(StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			logs := s.logs.String()
			if strings.Contains(logs, "No module named") {
				// A moto_server whose Python lacks moto's server extras.
				return nil, fmt.Errorf("%w: %s", ErrAbsent, lastLine(logs))
			}
			if strings.Contains(logs, "Address already in use") {
				return nil, fmt.Errorf("moto on port %d: %w", port, errPortTaken)
			}
			return nil, fmt.Errorf("moto exited before answering: %s", logs)
		case <-time.After(100 * time.Millisecond):
		}
		if strings.Contains(s.logs.String(), nonce) {
			return s, nil
		}
		if !answeredAt.IsZero() {
			if time.Since(answeredAt) > 5*time.Second {
				s.Stop()
				return nil, fmt.Errorf("moto on port %d: another process answers there: %w", port, errPortTaken)
			}
			continue
		}
		resp, err := http.Get(probe)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				answeredAt = time.Now()
			}
		}
	}
	s.Stop()
	return nil, fmt.Errorf("moto did not answer on %s within %s: %s", s.URL, StartTimeout, s.logs.String())
}

// Stop ends the moto process group and waits for moto to exit. It may be
// called more than once, and on a nil Server.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.stop.Do(func() {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	})
}

// Start runs a moto server of the test's own, stopped when the test ends.
// It skips the test when moto is not installed and fails it when moto is
// installed but does not start.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer()
	check(t, err)
	t.Cleanup(s.Stop)
	return s
}

var shared struct {
	once sync.Once
	s    *Server
	err  error
}

// URL returns the base URL of the package's shared moto server, starting it
// on first use. It skips the test when moto is not installed and fails it
// when moto is installed but does not start. The package's TestMain should
// call Main to stop the server after the tests.
func URL(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = StartServer() })
	check(t, shared.err)
	return shared.s.URL
}

// Main runs the package's tests and then stops the shared server, if it
// was started. Use it as TestMain: func TestMain(m *testing.M) { moto.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	shared.s.Stop()
	os.Exit(code)
}

func check(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrAbsent) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatalf("moto: %v", err)
	}
}

// NewTransport is the transport for talking to moto. Keep-alives are off:
// moto's development server closes idle connections on its own schedule,
// and a request sent on one it just closed fails with "use of closed
// network connection" (seen as a flaky setup call).
func NewTransport() *http.Transport {
	return &http.Transport{DisableKeepAlives: true}
}

// Config is an aws.Config for endpoint with the static test credentials,
// Region, no retries (so failure tests are quick and call counts exact) and
// rt as the HTTP transport (nil: a fresh one).
func Config(endpoint string, rt http.RoundTripper) aws.Config {
	if rt == nil {
		rt = NewTransport()
	}
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		// moto's first EC2 call loads its instance-type catalogue, which
		// takes tens of seconds on a loaded 2-core machine; a short
		// timeout made test setup flaky, not the code under test.
		HTTPClient:       &http.Client{Transport: rt, Timeout: 60 * time.Second},
		RetryMaxAttempts: 1,
	}
}

// IAM and STS return clients for the shared server (see URL).
func IAM(t testing.TB) *iam.Client {
	t.Helper()
	return iam.NewFromConfig(Config(URL(t), nil))
}

func STS(t testing.TB) *sts.Client {
	t.Helper()
	return sts.NewFromConfig(Config(URL(t), nil))
}

// Env points the SDK's default config loading (as the iamgate command does
// it) at the shared server (see URL), with the static test credentials.
func Env(t *testing.T) {
	t.Helper()
	SetEnv(t, URL(t))
}

// SetEnv sets the environment for the rest of the test so that the SDK's
// default config loading talks to endpoint with the static test
// credentials, Region and no retries, and ignores the developer's own AWS
// files, profile and instance metadata.
func SetEnv(t *testing.T, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       SecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             dir + "/config",
		"AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
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

// command finds how to run moto's server: python3 -m moto.server when
// python3 has moto and flask, else a moto_server on PATH.
func command() (bin string, args []string, err error) {
	if py, err := exec.LookPath("python3"); err == nil {
		if exec.Command(py, "-c", "import moto.server, flask").Run() == nil {
			return py, []string{"-m", "moto.server"}, nil
		}
	}
	if bin, err := exec.LookPath("moto_server"); err == nil {
		return bin, nil, nil
	}
	return "", nil, ErrAbsent
}

// pickPort chooses the port a server starts on; a variable so a test can
// hand out a taken one.
var pickPort = freePort

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// limitedBuffer keeps the first bytes of moto's log for error messages.
type limitedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	left int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := min(len(p), l.left); n > 0 {
		l.buf.Write(p[:n])
		l.left -= n
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
