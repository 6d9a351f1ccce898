package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	authv1beta1 "k8s.io/api/authentication/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
)

// TestV1beta1ReviewAnsweredInV1beta1: apiservers configured with
// --authentication-token-webhook-version=v1beta1 (the old default) get
// their answer in the version they asked in.
func TestV1beta1ReviewAnsweredInV1beta1(t *testing.T) {
	e := start(t, envOptions{})
	body, err := json.Marshal(authv1beta1.TokenReview{
		TypeMeta: metav1.TypeMeta{APIVersion: authv1beta1.SchemeGroupVersion.String(), Kind: "TokenReview"},
		Spec:     authv1beta1.TokenReviewSpec{Token: e.sign(t, bobKey, time.Now())},
	})
	if err != nil {
		t.Fatal(err)
	}
	code, out, err := e.srv.Post(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	var got authv1beta1.TokenReview
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || got.APIVersion != "authentication.k8s.io/v1beta1" || got.Kind != "TokenReview" {
		t.Fatalf("HTTP %d, %s %s: %s", code, got.APIVersion, got.Kind, out)
	}
	if !got.Status.Authenticated || got.Status.User.Username != "bob" || got.Status.User.Groups[0] != "developers" {
		t.Fatalf("status %+v", got.Status)
	}
}

// TestAWSCLITokenAccepted: a token from `aws eks get-token` (botocore's
// signer, not ours) is accepted, so kubeconfigs written by
// `aws eks update-kubeconfig` keep working against iamgate.
func TestAWSCLITokenAccepted(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws-cli is not on PATH; this interop test needs `aws eks get-token`")
	}
	const key, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	e := start(t, envOptions{})
	e.double.AddKey(key, secret, "", ststest.Identity{
		Arn: "arn:aws:iam::111122223333:user/bob", Account: "111122223333", UserId: "AIDADEMOBOB000000001"})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", "eks", "get-token", "--cluster-name", "demo-cluster")
	for _, kv := range os.Environ() { // no profile or key of the machine's own
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "KUBERNETES_EXEC_INFO=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION=us-west-2",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws eks get-token: %v", err)
	}
	var ec struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal(out, &ec); err != nil || !strings.HasPrefix(ec.Status.Token, token.Prefix) {
		t.Fatalf("aws eks get-token printed no token: %v", err)
	}
	r := e.review(t, ec.Status.Token)
	wantAllowed(t, r)
	if got := r.Status.User.Extra["accessKeyId"]; len(got) != 1 || got[0] != key {
		t.Errorf("extra accessKeyId %v", got)
	}
	if e.double.Calls() != 1 {
		t.Errorf("%d STS calls, want 1", e.double.Calls())
	}
}

// TestLocallyRefusedTokensNeverReachSTS: tokens the server can judge by
// themselves are refused without spending an STS request (no amplification,
// no probing of STS through the server).
func TestLocallyRefusedTokensNeverReachSTS(t *testing.T) {
	e := start(t, envOptions{})
	good := e.sign(t, bobKey, time.Now())
	const host = "sts.us-west-2.amazonaws.com"
	cases := []struct {
		name, tok, reason string
	}{
		{"malformed base64", token.Prefix + "not*base64!", token.ReasonBadEncoding},
		{"other prefix", "k8s-aws-v2." + strings.TrimPrefix(good, token.Prefix), token.ReasonBadPrefix},
		{"foreign host", editURL(t, good, func(u string) string {
			return strings.Replace(u, host, host+".evil.example", 1)
		}), token.ReasonBadHost},
		{"duplicate credential (CVE-2022-2385)", editURL(t, good, func(u string) string {
			return u + "&x-amz-credential=AKIAVICTIMVICTIM0000%2F20260101%2Fus-west-2%2Fsts%2Faws4_request"
		}), token.ReasonDuplicateParam},
		{"oversized", good + strings.Repeat("A", token.MaxTokenBytes), token.ReasonTooLarge},
		{"future-dated", e.sign(t, bobKey, time.Now().Add(10*time.Minute)), token.ReasonFutureDate},
		{"expired", e.sign(t, bobKey, time.Now().Add(-16*time.Minute)), token.ReasonExpired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.double.Calls()
			r := e.review(t, tc.tok)
			if r.HTTPStatus != http.StatusForbidden || r.Status.Authenticated || r.Status.Error != "invalid token" {
				t.Fatalf("HTTP %d %+v", r.HTTPStatus, r.Status)
			}
			if n := e.double.Calls() - before; n != 0 {
				t.Fatalf("%d STS calls for a token refused locally", n)
			}
			e.wantReason(t, tc.tok, tc.reason)
		})
	}
	// The untouched token still works: the cases above failed for their edit.
	wantAllowed(t, e.review(t, good))
}
