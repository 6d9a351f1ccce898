package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgate/iamgate/internal/certs"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/file"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
	"github.com/iamgate/iamgate/internal/token/presign"
)

// BenchmarkReviewCached is one TokenReview whose identity is already cached,
// through the real handler: JSON decode, token validation, cache lookup,
// MountedFile mapping, metrics, the audit line (text, to a discarding
// writer) and the JSON answer. Run with -benchmem; allocations per review
// are what the throughput figures are most sensitive to.
func BenchmarkReviewCached(b *testing.B) {
	h, body := benchServer(b)
	warm := httptest.NewRecorder()
	h.ServeHTTP(warm, benchRequest(body))
	if warm.Code != http.StatusOK || !strings.Contains(warm.Body.String(), `"authenticated":true`) {
		b.Fatalf("first review not allowed: %d %s", warm.Code, warm.Body.String())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(body))
		if w.Code != http.StatusOK {
			b.Fatalf("review: %d %s", w.Code, w.Body.String())
		}
	}
}

func benchRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/authenticate", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func benchServer(b *testing.B) (http.Handler, []byte) { return benchServerCache(b, 1000) }

// benchServerCache builds the server with cacheSize identities cached (0:
// every review calls STS).
func benchServerCache(b *testing.B, cacheSize int) (http.Handler, []byte) {
	b.Helper()
	double := ststest.Start(b)
	const akid = "AKIABENCHEXAMPLE0001"
	double.AddKey(akid, "bench-secret", "", ststest.Identity{
		Arn: "arn:aws:sts::111122223333:assumed-role/bench/k0", Account: "111122223333", UserId: "AROABENCHEXAMPLE00001:k0"})
	tok, _, err := presign.Token(context.Background(), aws.Config{Region: "us-west-2", Credentials: double.Credentials(akid)}, "bench", presign.Options{})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if _, err := certs.Ensure(certs.Options{StateDir: dir, Hostnames: []string{"localhost"}}); err != nil {
		b.Fatal(err)
	}
	backend, err := file.New("MountedFile", []mapping.Entry{{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/bench",
		Username: "bench:{{SessionName}}", Groups: []string{"bench"}}}, rules.Options{})
	if err != nil {
		b.Fatal(err)
	}
	client := sts.New(sts.Options{Transport: double.Transport()})
	s, err := New(Config{
		ClusterID: "bench", CertFile: dir + "/" + certs.CertFile, KeyFile: dir + "/" + certs.KeyFile,
		Validator: &token.Validator{}, Verifier: sts.NewCachingVerifier(client, sts.CacheOptions{MaxEntries: cacheSize, TTL: time.Minute}),
		Mappers: []mapping.Mapper{backend},
		Logger:  slog.New(slog.NewTextHandler(discardWriter{}, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	return s.Handler(), []byte(reviewBody(apiV1, tok))
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkReviewMiss is a review whose identity is not cached: the same path
// plus one GetCallerIdentity call to the in-process STS double (whose own
// SigV4 check is counted too, so compare profiles, not just ns/op).
func BenchmarkReviewMiss(b *testing.B) {
	h, body := benchServerCache(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(body))
		if w.Code != http.StatusOK {
			b.Fatalf("review: %d %s", w.Code, w.Body.String())
		}
	}
}
