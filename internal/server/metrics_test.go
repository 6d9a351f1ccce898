package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

// TestAIALatencyResults: aws-iam-authenticator's histogram is labelled with
// its own result values, spelt as upstream spells them.
func TestAIALatencyResults(t *testing.T) {
	h := start(t, func(c *Config) {
		c.Mappers = []mapping.Mapper{fakeMapper{name: "m", fn: func(_ context.Context, id mapping.Identity) (*mapping.Result, error) {
			if id.SessionName == "alice" {
				return &mapping.Result{Username: "admin"}, nil
			}
			return nil, mapping.ErrNotMapped
		}}}
		c.Verifier = fakeVerifier(func(_ context.Context, tok string, _ *token.Request, _ string) (sts.Identity, error) {
			return sts.Identity{ARN: testARN, Account: testAccount, UserID: testUserID}, nil
		})
	})
	h.review(t, apiV1, testToken)        // success
	h.review(t, apiV1, "k8s-aws-v1.bad") // invalid_token
	h.post(t, "text/plain", "x")         // malformed_request
	h.s.cfg.Verifier = fakeVerifier(func(context.Context, string, *token.Request, string) (sts.Identity, error) {
		return sts.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/Admin/bob", Account: testAccount, UserID: "AROAEXAMPLEID:bob"}, nil
	})
	h.review(t, apiV1, testToken) // uknown_user
	h.s.cfg.Verifier = fakeVerifier(func(context.Context, string, *token.Request, string) (sts.Identity, error) {
		return sts.Identity{}, fmt.Errorf("x: %w", sts.ErrInvalidToken)
	})
	h.review(t, apiV1, testToken) // sts_error: STS refused
	h.s.cfg.Verifier = fakeVerifier(func(context.Context, string, *token.Request, string) (sts.Identity, error) {
		return sts.Identity{}, fmt.Errorf("x: %w", sts.ErrThrottled)
	})
	h.review(t, apiV1, testToken) // sts_throttling
	_, body := get(t, http.DefaultClient, h.health+"/metrics")
	for _, r := range []string{"success", "invalid_token", "malformed_request", "uknown_user", "sts_error", "sts_throttling"} {
		want := `aws_iam_authenticator_authenticate_latency_seconds_count{result="` + r + `"} 1`
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestCertificateExpiryAndBuildInfo(t *testing.T) {
	h := start(t, func(c *Config) { c.Version = "v9.9.9" })
	_, body := get(t, http.DefaultClient, h.health+"/metrics")
	notAfter := h.s.certs.cur.Load().Leaf.NotAfter.Unix()
	// The exposition format writes large floats in exponent form.
	want := fmt.Sprintf("iamgate_serving_certificate_expiry_timestamp_seconds %g", float64(notAfter))
	if !strings.Contains(body, want) {
		t.Errorf("metrics lack %q", want)
	}
	if !strings.Contains(body, `iamgate_build_info{goversion="go`) || !strings.Contains(body, `version="v9.9.9"} 1`) {
		t.Errorf("build info missing:\n%s", grepLines(body, "build_info"))
	}
}

func grepLines(body, sub string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestReadyGaugeFollowsReadyz: iamgate_ready mirrors /readyz, so an alert
// can say a backend never synced.
func TestReadyGaugeFollowsReadyz(t *testing.T) {
	var ready atomic.Bool
	h := start(t, func(c *Config) { c.Ready = ready.Load })
	if _, body := get(t, http.DefaultClient, h.health+"/metrics"); !strings.Contains(body, "\niamgate_ready 0\n") {
		t.Errorf("not ready: %s", grepLines(body, "iamgate_ready"))
	}
	ready.Store(true)
	if _, body := get(t, http.DefaultClient, h.health+"/metrics"); !strings.Contains(body, "\niamgate_ready 1\n") {
		t.Errorf("ready: %s", grepLines(body, "iamgate_ready"))
	}
}
