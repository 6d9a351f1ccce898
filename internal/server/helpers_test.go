package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

const (
	testToken     = "k8s-aws-v1.c2VjcmV0LXRva2VuLWRvLW5vdC1sb2c"
	testSignature = "deadbeefsignaturevalue0123456789"
	testURL       = "https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&X-Amz-Signature=" + testSignature
	testAccount   = "111122223333"
	testARN       = "arn:aws:sts::111122223333:assumed-role/Admin/alice"
	testCanonical = "arn:aws:iam::111122223333:role/Admin"
	testUserID    = "AROAEXAMPLEID:alice"
	testAKID      = "ASIAEXAMPLEKEY"
	apiV1         = "authentication.k8s.io/v1"
	apiV1beta1    = "authentication.k8s.io/v1beta1"
)

type fakeValidator func(tok string) (*token.Request, error)

func (f fakeValidator) Validate(tok string) (*token.Request, error) { return f(tok) }

type fakeVerifier func(ctx context.Context, tok string, req *token.Request, clusterID string) (sts.Identity, error)

func (f fakeVerifier) Verify(ctx context.Context, tok string, req *token.Request, clusterID string) (sts.Identity, error) {
	return f(ctx, tok, req, clusterID)
}

type fakeMapper struct {
	name string
	fn   func(ctx context.Context, id mapping.Identity) (*mapping.Result, error)
}

func (m fakeMapper) Name() string { return m.name }
func (m fakeMapper) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	return m.fn(ctx, id)
}

// Explain traces what Map answers, as one backend with no entries to show.
func (m fakeMapper) Explain(ctx context.Context, id mapping.Identity) mapping.Trace {
	res, err := m.fn(ctx, id)
	return mapping.Trace{Identity: id, Result: res, Err: err,
		Backends: []mapping.BackendTrace{{Backend: m.name, Result: res, Err: err}}}
}

func okValidator() TokenValidator {
	return fakeValidator(func(tok string) (*token.Request, error) {
		if tok != testToken {
			return nil, &token.Error{Reason: token.ReasonBadPrefix, Detail: "unexpected token"}
		}
		return &token.Request{URL: testURL, Host: "sts.us-east-1.amazonaws.com", Region: "us-east-1",
			Partition: "aws", AccessKeyID: testAKID, SignedAt: time.Now()}, nil
	})
}

func identityVerifier(id sts.Identity) IdentityVerifier {
	return fakeVerifier(func(_ context.Context, _ string, _ *token.Request, clusterID string) (sts.Identity, error) {
		if clusterID != "test-cluster" {
			return sts.Identity{}, sts.ErrInvalidToken
		}
		return id, nil
	})
}

func okVerifier() IdentityVerifier {
	return identityVerifier(sts.Identity{ARN: testARN, Account: testAccount, UserID: testUserID})
}

// arnMapper maps one canonical ARN, like a one-entry mapRoles.
func arnMapper(name, canonical, username string, groups ...string) mapping.Mapper {
	return fakeMapper{name: name, fn: func(_ context.Context, id mapping.Identity) (*mapping.Result, error) {
		if id.CanonicalARN != canonical {
			return nil, mapping.ErrNotMapped
		}
		return &mapping.Result{Username: username, Groups: groups, Source: name + " mapRoles[" + canonical + "]"}, nil
	}}
}

// testPKI is a CA and the leaf files the server serves.
type testPKI struct {
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	pool     *x509.CertPool
	certFile string
	keyFile  string
}

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1000), Subject: pkix.Name{CommonName: "iamgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	ca, err := x509.ParseCertificate(der)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	dir := t.TempDir()
	return &testPKI{ca: ca, caKey: key, pool: pool,
		certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key")}
}

// writeLeaf writes a new leaf signed by the CA, each file atomically.
func (p *testPKI) writeLeaf(t testing.TB, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "iamgate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	must(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	must(t, err)
	writeAtomic(t, p.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	writeAtomic(t, p.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func writeAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	must(t, os.WriteFile(tmp, data, 0o600))
	must(t, os.Rename(tmp, path))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// reviews returns the audit lines.
func (b *syncBuffer) reviews(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "review" {
			out = append(out, m)
		}
	}
	return out
}

type harness struct {
	s      *Server
	pki    *testPKI
	logs   *syncBuffer
	reg    *prometheus.Registry
	client *http.Client
	url    string
	health string
	cancel context.CancelFunc
	// stopped is closed when Run returns; runErr is its result.
	stopped chan struct{}
	runErr  error
}

// start runs a real server on 127.0.0.1:0 with a CA-pinned client.
func start(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	p := newPKI(t)
	p.writeLeaf(t, 1)
	return startWith(t, p, mutate, nil)
}

// startWith serves p's files; tune adjusts the server before it runs.
func startWith(t *testing.T, p *testPKI, mutate func(*Config), tune func(*Server)) *harness {
	t.Helper()
	h := &harness{pki: p, logs: &syncBuffer{}, reg: prometheus.NewRegistry(), stopped: make(chan struct{})}
	cfg := Config{
		ClusterID: "test-cluster", Address: "127.0.0.1", CertFile: h.pki.certFile, KeyFile: h.pki.keyFile,
		Validator: okValidator(), Verifier: okVerifier(),
		Mappers:  []mapping.Mapper{arnMapper("MountedFile", testCanonical, "admin", "system:masters")},
		Logger:   slog.New(slog.NewJSONHandler(h.logs, nil)),
		Registry: h.reg, ShutdownTimeout: 5 * time.Second,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := New(cfg)
	must(t, err)
	s.certs.interval = 100 * time.Millisecond
	if tune != nil {
		tune(s)
	}
	must(t, s.Listen())
	h.s = s
	h.url = "https://" + s.Addr()
	h.health = "http://" + s.HealthAddr()
	var ctx context.Context
	ctx, h.cancel = context.WithCancel(context.Background())
	go func() { h.runErr = s.Run(ctx); close(h.stopped) }()
	h.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: h.pki.pool}, DisableKeepAlives: true}}
	t.Cleanup(func() {
		h.cancel()
		select {
		case <-h.stopped:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return h
}

func reviewBody(apiVersion, tok string) string {
	b, _ := json.Marshal(map[string]any{"apiVersion": apiVersion, "kind": "TokenReview",
		"spec": map[string]any{"token": tok}})
	return string(b)
}

func (h *harness) post(t *testing.T, contentType, body string) (*http.Response, string) {
	t.Helper()
	resp, err := h.client.Post(h.url+"/authenticate", contentType, strings.NewReader(body))
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp, string(b)
}

// reviewResult is the part of a TokenReview answer the tests inspect; it is
// the same for v1 and v1beta1.
type reviewResult struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Status     struct {
		Authenticated bool `json:"authenticated"`
		User          struct {
			Username string              `json:"username"`
			UID      string              `json:"uid"`
			Groups   []string            `json:"groups"`
			Extra    map[string][]string `json:"extra"`
		} `json:"user"`
		Audiences []string `json:"audiences"`
		Error     string   `json:"error"`
	} `json:"status"`
}

func (h *harness) review(t *testing.T, apiVersion, tok string) (int, reviewResult, string) {
	t.Helper()
	resp, body := h.post(t, "application/json", reviewBody(apiVersion, tok))
	var rr reviewResult
	if err := json.Unmarshal([]byte(body), &rr); err != nil {
		t.Fatalf("response is not JSON (%d): %q", resp.StatusCode, body)
	}
	return resp.StatusCode, rr, body
}
