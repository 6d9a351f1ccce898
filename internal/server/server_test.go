package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Config{Port: 70000, HealthPort: -1, ScrubbedAccounts: []string{"12"}, Mappers: []mapping.Mapper{nil}})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"cluster id", "port 70000", "health port -1", "validator", "verifier",
		"mapper 0 is nil", `scrubbed account "12"`, "certificate and key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestNewRejectsUnloadableCertificate(t *testing.T) {
	p := newPKI(t)
	writeAtomic(t, p.certFile, []byte("not a certificate"))
	writeAtomic(t, p.keyFile, []byte("not a key"))
	_, err := New(Config{ClusterID: "c", CertFile: p.certFile, KeyFile: p.keyFile,
		Validator: okValidator(), Verifier: okVerifier(), Mappers: []mapping.Mapper{arnMapper("m", testCanonical, "u")}})
	if err == nil || !strings.Contains(err.Error(), "serving certificate") {
		t.Fatalf("err = %v, want a serving certificate error", err)
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(b)
}

func TestReadyzFollowsReady(t *testing.T) {
	var ready atomic.Bool
	h := start(t, func(c *Config) { c.Ready = ready.Load })
	if code, _ := get(t, http.DefaultClient, h.health+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before mappings loaded = %d, want 503", code)
	}
	if code, _ := get(t, http.DefaultClient, h.health+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz = %d, want 200 while serving", code)
	}
	ready.Store(true)
	if code, _ := get(t, http.DefaultClient, h.health+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz after mappings loaded = %d, want 200", code)
	}
}

func TestMetricsCountReviews(t *testing.T) {
	h := start(t, nil)
	h.review(t, apiV1, testToken)        // allow
	h.review(t, apiV1, "k8s-aws-v1.bad") // deny
	h.post(t, "text/plain", "x")         // bad request
	_, body := get(t, http.DefaultClient, h.health+"/metrics")
	for _, want := range []string{
		`iamgate_reviews_total{result="allow"} 1`,
		`iamgate_reviews_total{result="deny"} 1`,
		`iamgate_reviews_total{result="bad_request"} 1`,
		`iamgate_reviews_total{result="throttled"} 0`,
		`iamgate_review_duration_seconds_count 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestAuditLineHasHashNotToken(t *testing.T) {
	h := start(t, nil)
	h.review(t, apiV1, testToken)
	lines := h.logs.reviews(t)
	if len(lines) != 1 {
		t.Fatalf("got %d audit lines, want 1", len(lines))
	}
	sum := sha256.Sum256([]byte(testToken))
	want := map[string]any{
		"level": "INFO", "tokenHash": hex.EncodeToString(sum[:])[:16], "decision": "allow", "reason": "mapped",
		"arn": testARN, "canonicalArn": testCanonical, "username": "admin",
		"source": "MountedFile mapRoles[" + testCanonical + "]", "accessKeyId": testAKID,
	}
	for k, v := range want {
		if lines[0][k] != v {
			t.Errorf("audit %s = %v, want %v", k, lines[0][k], v)
		}
	}
	if g, ok := lines[0]["groups"].([]any); !ok || len(g) != 1 || g[0] != "system:masters" {
		t.Errorf("audit groups = %v", lines[0]["groups"])
	}
	if _, ok := lines[0]["duration"]; !ok {
		t.Error("audit line has no duration")
	}
	if strings.Contains(h.logs.String(), testToken) || strings.Contains(h.logs.String(), testSignature) {
		t.Error("log contains the token")
	}
}

func servedSerial(t *testing.T, h *harness) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", h.s.Addr(), &tls.Config{RootCAs: h.pki.pool})
	must(t, err)
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCertReloadPicksUpNewLeaf(t *testing.T) {
	h := start(t, nil)
	if got := servedSerial(t, h); got != 1 {
		t.Fatalf("serial = %d, want 1", got)
	}
	h.pki.writeLeaf(t, 2)
	waitFor(t, "serial 2", func() bool { return servedSerial(t, h) == 2 })
}

func TestCertReloadKeepsOldCertOnBrokenPair(t *testing.T) {
	h := start(t, nil)
	// A half-written certificate next to the old key.
	writeAtomic(t, h.pki.certFile, []byte("-----BEGIN CERTIFICATE-----\nMIIB"))
	waitFor(t, "reload failure logged", func() bool { return strings.Contains(h.logs.String(), "keeping the previous one") })
	if got := servedSerial(t, h); got != 1 {
		t.Fatalf("serial = %d after broken write, want the old 1", got)
	}
	h.pki.writeLeaf(t, 3) // the completed write is picked up
	waitFor(t, "serial 3", func() bool { return servedSerial(t, h) == 3 })
}

func TestGracefulShutdownFinishesInFlightReview(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h := start(t, func(c *Config) {
		c.Verifier = fakeVerifier(func(context.Context, string, *token.Request, string) (sts.Identity, error) {
			once.Do(func() { close(entered) })
			<-release
			return sts.Identity{ARN: testARN, Account: testAccount, UserID: testUserID}, nil
		})
	})
	type answer struct {
		code int
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		resp, err := h.client.Post(h.url+"/authenticate", "application/json", strings.NewReader(reviewBody(apiV1, testToken)))
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- answer{resp.StatusCode, string(b), err}
	}()
	<-entered
	h.cancel()
	waitFor(t, "listener closed", func() bool {
		c, err := net.DialTimeout("tcp", h.s.Addr(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case <-h.stopped:
		t.Fatal("Run returned before the in-flight review finished")
	default:
	}
	close(release)
	a := <-got
	if a.err != nil || a.code != http.StatusOK || !strings.Contains(a.body, `"authenticated":true`) {
		t.Fatalf("in-flight review: %d %q %v, want 200 allow", a.code, a.body, a.err)
	}
	<-h.stopped
	if h.runErr != nil {
		t.Errorf("Run = %v, want nil after clean shutdown", h.runErr)
	}
}

func TestShutdownIsBounded(t *testing.T) {
	entered := make(chan struct{})
	var once sync.Once
	h := start(t, func(c *Config) {
		c.ShutdownTimeout = 200 * time.Millisecond
		c.Verifier = fakeVerifier(func(ctx context.Context, _ string, _ *token.Request, _ string) (sts.Identity, error) {
			once.Do(func() { close(entered) })
			<-ctx.Done() // stuck until the connection is torn down
			return sts.Identity{}, ctx.Err()
		})
	})
	go func() {
		resp, err := h.client.Post(h.url+"/authenticate", "application/json", strings.NewReader(reviewBody(apiV1, testToken)))
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	h.cancel()
	select {
	case <-h.stopped:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after the shutdown timeout")
	}
	if h.runErr == nil {
		t.Error("Run = nil, want an error saying shutdown was forced")
	}
}

func TestRecoverMiddlewareDenies(t *testing.T) {
	h := start(t, nil)
	rec := httptest.NewRecorder()
	h.s.recoverDeny(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })).
		ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/authenticate", nil))
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), `"error":"internal error"`) ||
		strings.Contains(rec.Body.String(), `"authenticated":true`) {
		t.Fatalf("got %d %s, want 403 deny", rec.Code, rec.Body.String())
	}
}

// A Kubernetes secret volume updates by swapping the ..data symlink; the
// file event alone (no poll) must pick up the new leaf.
func TestCertReloadOnSecretVolumeSwap(t *testing.T) {
	base := t.TempDir()
	p := newPKI(t)
	mount := func(version string, serial int64) {
		dir := filepath.Join(base, version)
		must(t, os.Mkdir(dir, 0o700))
		p.certFile, p.keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		p.writeLeaf(t, serial)
		must(t, os.Symlink(version, filepath.Join(base, "..data_tmp")))
		must(t, os.Rename(filepath.Join(base, "..data_tmp"), filepath.Join(base, "..data")))
	}
	mount("v1", 1)
	for _, f := range []string{"tls.crt", "tls.key"} {
		must(t, os.Symlink(filepath.Join("..data", f), filepath.Join(base, f)))
	}
	h := startWith(t, p, func(c *Config) {
		c.CertFile, c.KeyFile = filepath.Join(base, "tls.crt"), filepath.Join(base, "tls.key")
	}, func(s *Server) { s.certs.interval = time.Hour })
	if got := servedSerial(t, h); got != 1 {
		t.Fatalf("serial = %d, want 1", got)
	}
	<-h.s.certs.watching
	mount("v2", 2)
	waitFor(t, "serial 2 after the symlink swap", func() bool { return servedSerial(t, h) == 2 })
}
