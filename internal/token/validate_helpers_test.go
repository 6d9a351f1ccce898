package token

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testNow is the validator's clock in these tests; testDate is a signing
// time one minute earlier.
var (
	testNow  = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	testDate = "20261125T085900Z"
	testSig  = strings.Repeat("0123456789abcdef", 4)
	testSTok = "FQoGZXIvYXdzEXAMPLESESSIONTOKEN+/="
)

func testValidator() *Validator {
	return &Validator{Now: func() time.Time { return testNow }}
}

func encodeForTest(u string) string {
	return Prefix + base64.RawURLEncoding.EncodeToString([]byte(u))
}

// param is one raw (already percent-encoded) query parameter.
type param struct{ k, v string }

func credFor(region string) string {
	return "AKIAIOSFODNN7EXAMPLE%2F20261125%2F" + region + "%2Fsts%2Faws4_request"
}

// goodParams is a well-formed query for region, in the order clients emit.
func goodParams(region string) []param {
	return []param{
		{"Action", "GetCallerIdentity"},
		{"Version", "2011-06-15"},
		{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
		{"X-Amz-Credential", credFor(region)},
		{"X-Amz-Date", testDate},
		{"X-Amz-Expires", "60"},
		{"X-Amz-SignedHeaders", "host%3Bx-k8s-aws-id"},
		{"X-Amz-Signature", testSig},
	}
}

func buildURL(host string, ps []param) string {
	var b strings.Builder
	b.WriteString("https://" + host + "/?")
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

// with returns ps with name's value replaced (or appended when absent).
func with(ps []param, name, value string) []param {
	out := append([]param(nil), ps...)
	for i := range out {
		if out[i].k == name {
			out[i].v = value
			return out
		}
	}
	return append(out, param{name, value})
}

func without(ps []param, name string) []param {
	var out []param
	for _, p := range ps {
		if p.k != name {
			out = append(out, p)
		}
	}
	return out
}

// sdkPresign signs like a client with the SDK's own SigV4 signer, so the
// validator is exercised with real client output, not only hand-built URLs.
func sdkPresign(t testing.TB, host, region, cluster, sessionToken string, at time.Time) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(ClusterIDHeader, cluster)
	creds := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "secret", SessionToken: sessionToken}
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, "sts", region, at)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// wantReason asserts err is an *Error with reason, and that its text leaks
// neither the signature nor the session token.
func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	var te *Error
	if !errors.As(err, &te) {
		t.Fatalf("got error %v, want *Error with reason %q", err, reason)
	}
	if te.Reason != reason {
		t.Fatalf("got reason %q (%v), want %q", te.Reason, err, reason)
	}
	for _, secret := range []string{testSig, testSTok, "FQoGZXIvYXdzEXAMPLE"} {
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("error text leaks a secret: %v", err)
		}
	}
}

type rejectCase struct {
	name   string
	tok    string
	reason string
}

func runRejects(t *testing.T, v *Validator, cases []rejectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := v.Validate(tc.tok)
			if err == nil {
				t.Fatalf("accepted %+v", req)
			}
			if req != nil {
				t.Fatalf("non-nil request with error")
			}
			wantReason(t, err, tc.reason)
		})
	}
}
