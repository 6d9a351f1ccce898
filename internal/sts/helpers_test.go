package sts

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
)

const (
	testAKID    = "AKIAIOSFODNN7EXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testCluster = "cluster-a"
	testARN     = "arn:aws:sts::111122223333:assumed-role/Admin/alice"
)

var testStart = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// clock is a settable test clock shared by the double and the cache.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type env struct {
	clk    *clock
	double *ststest.Server
	client *Client
	val    *token.Validator
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	clk := &clock{t: testStart}
	d := ststest.Start(t, ststest.WithClock(clk.now))
	d.AddKey(testAKID, testSecret, "", ststest.Identity{Arn: testARN, Account: "111122223333", UserId: "AROAEXAMPLEADMIN:alice"})
	if o.Transport == nil {
		o.Transport = d.Transport()
	}
	return &env{clk: clk, double: d, client: New(o), val: &token.Validator{Now: clk.now}}
}

// signToken presigns like a client, with the SDK's SigV4 signer (a test-only
// stand-in for the client package's presigner).
func signToken(t *testing.T, host, region, cluster string, at time.Time) string {
	t.Helper()
	return signTokenWith(t, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, host, region, cluster, at)
}

// signTokenWith signs with creds, which the double need not know.
func signTokenWith(t *testing.T, creds aws.Credentials, host, region, cluster string, at time.Time) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(token.ClusterIDHeader, cluster)
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, "sts", region, at)
	if err != nil {
		t.Fatal(err)
	}
	return token.Prefix + base64.RawURLEncoding.EncodeToString([]byte(u))
}

// validToken returns a signed token for cluster-a and its validated request.
func (e *env) validToken(t *testing.T, cluster string) (string, *token.Request) {
	t.Helper()
	tok := signToken(t, "sts.us-west-2.amazonaws.com", "us-west-2", cluster, e.clk.t)
	req, err := e.val.Validate(tok)
	if err != nil {
		t.Fatal(err)
	}
	return tok, req
}

// validate checks tok with the env's validator.
func (e *env) validate(t *testing.T, tok string) *token.Request {
	t.Helper()
	req, err := e.val.Validate(tok)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// roundTripFunc is a canned transport for answers the double cannot give.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
