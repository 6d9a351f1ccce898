// Package mototest runs moto's server (a local fake of AWS APIs that this
// project's build image ships in its Python) for resolve-ids tests, and
// gives them AWS clients pointed at it. Test support only: import it from
// _test.go files.
package mototest

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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Account is the account moto answers for.
const Account = "123456789012"

var errAbsent = errors.New("moto server is not installed (want python3 with moto 5 and flask: pip install 'moto[server]')")

type server struct {
	url string
	cmd *exec.Cmd
	log *bytes.Buffer
	mu  sync.Mutex
}

var shared struct {
	once sync.Once
	s    *server
	err  error
}

// URL returns the base URL of the package-wide moto server, starting it on
// first use. It skips the test when moto is not installed, and fails it when
// moto is installed but does not start.
func URL(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = start() })
	if errors.Is(shared.err, errAbsent) {
		t.Skipf("skipping: %v", shared.err)
	}
	if shared.err != nil {
		t.Fatalf("moto: %v", shared.err)
	}
	return shared.s.url
}

// Main runs a package's tests and then stops moto if it was started.
func Main(m *testing.M) {
	code := m.Run()
	if shared.s != nil {
		_ = syscall.Kill(-shared.s.cmd.Process.Pid, syscall.SIGKILL)
	}
	os.Exit(code)
}

// Config returns an aws.Config for moto with static test credentials and no
// retries.
func Config(t testing.TB) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTESTING", "secret", ""),
		BaseEndpoint:     aws.String(URL(t)),
		HTTPClient:       &http.Client{Timeout: 10 * time.Second},
		RetryMaxAttempts: 1,
	}
}

// IAM and STS return clients for moto.
func IAM(t testing.TB) *iam.Client { return iam.NewFromConfig(Config(t)) }
func STS(t testing.TB) *sts.Client { return sts.NewFromConfig(Config(t)) }

// Env sets the environment so that the SDK's default config loading (as
// the iamgate command does it) talks to moto with test credentials and
// ignores the developer's own AWS files and profile.
func Env(t *testing.T) {
	u := URL(t)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            u,
		"AWS_ACCESS_KEY_ID":           "AKIDTESTING",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             dir + "/config",
		"AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
	}
}

func start() (*server, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return nil, errAbsent
	}
	if err := exec.Command(py, "-c", "import moto.server, flask").Run(); err != nil {
		return nil, errAbsent
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &server{url: "http://127.0.0.1:" + strconv.Itoa(port), log: &bytes.Buffer{}}
	s.cmd = exec.Command(py, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = s
	// Own process group, so stopping it also ends anything it forks; and
	// it dies with the test binary.
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
			return nil, fmt.Errorf("moto exited: %s", s.logs())
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(s.url + "/moto-api/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	return nil, fmt.Errorf("moto did not answer on %s within 60s: %s", s.url, s.logs())
}

// Write keeps the first 64 KiB of moto's log for error messages.
func (s *server) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if room := 64<<10 - s.log.Len(); room > 0 {
		s.log.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}
