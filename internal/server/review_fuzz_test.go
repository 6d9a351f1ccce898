package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/token"
)

// FuzzReviewDecode sends arbitrary bodies to POST /authenticate. Only the
// one known token is accepted by the validator behind it, so whatever the
// body looks like: the handler must not panic or answer 5xx; a 200 must be
// an authenticated TokenReview, in the apiVersion the body was sent in,
// for a review in which the validator saw exactly the known token once;
// every other answer must deny.
func FuzzReviewDecode(f *testing.F) {
	for _, s := range []string{
		reviewBody(apiV1, testToken),
		reviewBody(apiV1beta1, testToken),
		reviewBody(apiV1, "k8s-aws-v1.other"),
		`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"` + testToken + `","audiences":["x"]},"status":{"authenticated":true}}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"a"},"spec":{"token":"` + testToken + `"}}`,
		`{"apiVersion":"authentication.k8s.io/v2","kind":"TokenReview"}`,
		`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRevieW","spec":{"token":1}}`,
		`[]`, `null`, `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":null}`,
	} {
		f.Add(s)
	}
	p := newPKI(f)
	p.writeLeaf(f, 1)
	var seen atomic.Int64
	var sawOther atomic.Bool
	validator := fakeValidator(func(tok string) (*token.Request, error) {
		seen.Add(1)
		if tok != testToken {
			sawOther.Store(true)
		}
		return okValidator().Validate(tok)
	})
	s, err := New(Config{ClusterID: "test-cluster", CertFile: p.certFile, KeyFile: p.keyFile,
		Validator: validator, Verifier: okVerifier(),
		Mappers: []mapping.Mapper{arnMapper("MountedFile", testCanonical, "admin", "system:masters")},
		Logger:  slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		seen.Store(0)
		sawOther.Store(false)
		req := httptest.NewRequest(http.MethodPost, "/authenticate", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d", rec.Code)
		}
		var rr reviewResult
		jsonErr := json.Unmarshal(rec.Body.Bytes(), &rr)
		if rec.Code != http.StatusOK {
			if jsonErr == nil && rr.Status.Authenticated {
				t.Fatalf("status %d with authenticated true", rec.Code)
			}
			return
		}
		if jsonErr != nil || !rr.Status.Authenticated || rr.Kind != tokenReviewKind {
			t.Fatalf("200 that is not an authenticated TokenReview: %q", rec.Body.String())
		}
		if seen.Load() != 1 || sawOther.Load() {
			t.Fatalf("accepted after the validator saw %d tokens (other: %v)", seen.Load(), sawOther.Load())
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
		}
		if json.Unmarshal([]byte(body), &meta) != nil || meta.APIVersion != rr.APIVersion ||
			(rr.APIVersion != apiV1 && rr.APIVersion != apiV1beta1) {
			t.Fatalf("answered in %q for a body in %q", rr.APIVersion, meta.APIVersion)
		}
	})
}
