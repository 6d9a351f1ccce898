package ststest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testARN    = "arn:aws:iam::111122223333:user/alice"
)

var testID = Identity{Arn: testARN, Account: "111122223333", UserId: "AIDAEXAMPLEALICE"}

// sdkPresign signs a GetCallerIdentity URL with the SDK's signer, which is
// independent of the double's own SigV4 code.
func sdkPresign(t *testing.T, host, region, cluster string, creds aws.Credentials, at time.Time) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+host+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-k8s-aws-id", cluster)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptyPayloadSHA256, "sts", region, at)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type answer struct {
	status int
	code   string
	arn    string
	body   string
}

// get performs the server-side GET through the double's transport.
func get(t *testing.T, s *Server, u, cluster, accept string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-k8s-aws-id", cluster)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := (&http.Client{Transport: s.Transport(), Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var j struct {
			Error struct{ Code string }
			R     struct {
				Res struct{ Arn string } `json:"GetCallerIdentityResult"`
			} `json:"GetCallerIdentityResponse"`
		}
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("bad JSON %q: %v", b, err)
		}
		a.code, a.arn = j.Error.Code, j.R.Res.Arn
	} else {
		var x struct {
			Code string `xml:"Error>Code"`
			Arn  string `xml:"GetCallerIdentityResult>Arn"`
		}
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Fatalf("bad XML %q: %v", b, err)
		}
		a.code, a.arn = x.Code, x.Arn
	}
	return a
}

func newDouble(t *testing.T, now time.Time) *Server {
	s := Start(t, WithClock(func() time.Time { return now }))
	s.AddKey(testAKID, testSecret, "", testID)
	return s
}

func TestDoubleAcceptsSDKSignedRequest(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := newDouble(t, now)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	for _, tc := range []struct{ host, region string }{
		{"sts.us-west-2.amazonaws.com", "us-west-2"},
		{"sts.amazonaws.com", "us-east-1"},
		{"sts-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
		{"sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	} {
		u := sdkPresign(t, tc.host, tc.region, "cluster-a", creds, now.Add(-time.Minute))
		if a := get(t, s, u, "cluster-a", "application/json"); a.status != 200 || a.arn != testARN {
			t.Fatalf("%s: got %+v", tc.host, a)
		}
		if a := get(t, s, u, "cluster-a", ""); a.status != 200 || a.arn != testARN || !strings.Contains(a.body, "<GetCallerIdentityResponse") {
			t.Fatalf("%s XML: got %+v", tc.host, a)
		}
	}
	if s.Calls() != 8 || s.CallsTo("sts.amazonaws.com") != 2 {
		t.Fatalf("calls %d, global %d", s.Calls(), s.CallsTo("sts.amazonaws.com"))
	}
	s.ResetCalls()
	if s.Calls() != 0 {
		t.Fatal("reset")
	}
}

func TestDoubleRejects(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s := newDouble(t, now)
	s.AddKey("ASIATEMPORARYKEY0001", "tmpsecret", "session-token-1", Identity{Arn: "arn:aws:sts::111122223333:assumed-role/R/s", Account: "111122223333", UserId: "AROAEXAMPLE:s"})
	const host = "sts.us-west-2.amazonaws.com"
	good := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	sign := func(c aws.Credentials, at time.Duration) string {
		return sdkPresign(t, host, "us-west-2", "cluster-a", c, now.Add(at))
	}
	u := sign(good, -time.Minute)
	cases := []struct {
		name, url, cluster string
		status             int
		code               string
	}{
		{"wrong cluster header", u, "cluster-b", 403, "SignatureDoesNotMatch"},
		{"missing cluster header", u, "", 403, "SignatureDoesNotMatch"},
		{"wrong secret", sign(aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "nope"}, -time.Minute), "cluster-a", 403, "SignatureDoesNotMatch"},
		{"unknown key", sign(aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: "x"}, 0), "cluster-a", 403, "InvalidClientTokenId"},
		{"older than 15 min", sign(good, -15*time.Minute-time.Second), "cluster-a", 403, "SignatureDoesNotMatch"},
		{"15 min in the future", sign(good, 15*time.Minute+time.Second), "cluster-a", 403, "SignatureDoesNotMatch"},
		{"added parameter", u + "&Foo=bar", "cluster-a", 403, "SignatureDoesNotMatch"},
		{"changed action", strings.Replace(u, "GetCallerIdentity", "GetSessionToken", 1), "cluster-a", 403, "SignatureDoesNotMatch"},
		{"duplicated credential", u + "&x-amz-credential=AKIAVICTIM", "cluster-a", 403, "SignatureDoesNotMatch"},
		{"other host", strings.Replace(u, host, "sts.us-east-2.amazonaws.com", 1), "cluster-a", 403, "SignatureDoesNotMatch"},
		{"no auth", "https://" + host + "/?Action=GetCallerIdentity&Version=2011-06-15", "cluster-a", 403, "MissingAuthenticationToken"},
		{"session token missing", sign(aws.Credentials{AccessKeyID: "ASIATEMPORARYKEY0001", SecretAccessKey: "tmpsecret"}, 0), "cluster-a", 403, "InvalidClientTokenId"},
		{"session token wrong", sign(aws.Credentials{AccessKeyID: "ASIATEMPORARYKEY0001", SecretAccessKey: "tmpsecret", SessionToken: "other"}, 0), "cluster-a", 403, "InvalidClientTokenId"},
		{"session token on long-term key", sign(aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: "x"}, 0), "cluster-a", 403, "InvalidClientTokenId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := get(t, s, tc.url, tc.cluster, "application/json")
			if a.status != tc.status || a.code != tc.code {
				t.Fatalf("got %d %s, want %d %s", a.status, a.code, tc.status, tc.code)
			}
		})
	}
	// The right session token passes; X-Amz-Expires is ignored like STS does.
	tmp := sign(aws.Credentials{AccessKeyID: "ASIATEMPORARYKEY0001", SecretAccessKey: "tmpsecret", SessionToken: "session-token-1"}, -14*time.Minute)
	if a := get(t, s, tmp, "cluster-a", "application/json"); a.status != 200 {
		t.Fatalf("temporary key 14 min old with X-Amz-Expires=60: %+v", a)
	}
	s.ExpireKey("ASIATEMPORARYKEY0001")
	if a := get(t, s, tmp, "cluster-a", ""); a.status != 403 || a.code != "ExpiredToken" {
		t.Fatalf("expired key: %+v", a)
	}
	// A deleted key is unknown to STS from then on.
	if a := get(t, s, u, "cluster-a", "application/json"); a.status != 200 {
		t.Fatalf("before removal: %+v", a)
	}
	s.RemoveKey(testAKID)
	if a := get(t, s, u, "cluster-a", "application/json"); a.status != 403 || a.code != "InvalidClientTokenId" {
		t.Fatalf("removed key: %+v", a)
	}
}

func TestDoublePeakConcurrency(t *testing.T) {
	now := time.Now()
	s := newDouble(t, now)
	u := sdkPresign(t, "sts.us-west-2.amazonaws.com", "us-west-2", "c", aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, now)
	s.SetLatency(200 * time.Millisecond)
	done := make(chan error, 3)
	client := &http.Client{Transport: s.Transport(), Timeout: 10 * time.Second}
	for range 3 {
		go func() { // no t.Fatal off the test goroutine
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Header.Set("x-k8s-aws-id", "c")
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = errors.New(resp.Status)
				}
			}
			done <- err
		}()
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if p := s.PeakConcurrency(); p != 3 {
		t.Fatalf("peak %d, want 3", p)
	}
	s.ResetCalls()
	s.SetLatency(0)
	_ = get(t, s, u, "c", "")
	if p := s.PeakConcurrency(); p != 1 {
		t.Fatalf("peak after reset %d, want 1", p)
	}
}

func TestDoubleFaults(t *testing.T) {
	now := time.Now()
	s := newDouble(t, now)
	u := sdkPresign(t, "sts.us-west-2.amazonaws.com", "us-west-2", "c", aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, now)
	s.ThrottleNext(2)
	s.FailNext(1)
	s.FailNextWith(1, 503, "ServiceUnavailable", "down")
	for _, want := range []struct {
		status int
		code   string
	}{{400, "Throttling"}, {400, "Throttling"}, {500, "InternalFailure"}, {503, "ServiceUnavailable"}, {200, ""}} {
		if a := get(t, s, u, "c", ""); a.status != want.status || a.code != want.code {
			t.Fatalf("got %d %q, want %+v", a.status, a.code, want)
		}
	}
	s.SetLatency(150 * time.Millisecond)
	start := time.Now()
	if a := get(t, s, u, "c", "application/json"); a.status != 200 {
		t.Fatalf("%+v", a)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	if s.Calls() != 6 {
		t.Fatalf("calls = %d", s.Calls())
	}
}

func TestDoubleTransport(t *testing.T) {
	s := Start(t)
	if _, err := (&http.Client{Transport: s.Transport()}).Get("https://sts.amazonaws.com:8443/"); err == nil || !strings.Contains(err.Error(), "only port 443") {
		t.Fatalf("non-443 dial: %v", err)
	}
	// A client that does not trust the double's CA must fail verification.
	plain := &http.Transport{DialContext: s.Transport().DialContext}
	if _, err := (&http.Client{Transport: plain}).Get("https://sts.amazonaws.com/"); err == nil {
		t.Fatal("untrusted CA accepted")
	}
	if !strings.Contains(string(s.CACertPEM()), "BEGIN CERTIFICATE") || s.CertPool() == nil {
		t.Fatal("CA accessors")
	}
	creds, err := s.Credentials("AKIANOTREGISTERED000").Retrieve(context.Background())
	if err == nil {
		t.Fatalf("unknown key gave %v", creds.AccessKeyID)
	}
	s.AddKey(testAKID, testSecret, "st", testID)
	creds, err = s.Credentials(testAKID).Retrieve(context.Background())
	if err != nil || creds.SecretAccessKey != testSecret || creds.SessionToken != "st" {
		t.Fatalf("credentials: %v %+v", err, creds)
	}
}

// TestDoubleVerifiesAWSCLIToken checks the double against botocore's signer:
// a token from `aws eks get-token` verifies for its cluster, and the same
// token presented for another cluster fails like STS fails it.
func TestDoubleVerifiesAWSCLIToken(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws-cli not installed; this test needs `aws eks get-token`")
	}
	cmd := exec.Command("aws", "eks", "get-token", "--cluster-name", "test")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+testAKID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws eks get-token: %v", err)
	}
	var ec struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal(out, &ec); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(ec.Status.Token, "k8s-aws-v1."))
	if err != nil {
		t.Fatal(err)
	}
	s := newDouble(t, time.Now())
	if a := get(t, s, string(raw), "test", "application/json"); a.status != 200 || a.arn != testARN {
		t.Fatalf("aws-cli token: %+v", a)
	}
	if a := get(t, s, string(raw), "other", "application/json"); a.status != 403 || a.code != "SignatureDoesNotMatch" {
		t.Fatalf("aws-cli token for another cluster: %+v", a)
	}
}
