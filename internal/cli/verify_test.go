package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
	"github.com/iamgate/iamgate/internal/token"
)

const (
	verifyTestAKID   = "ASIAVERIFYTESTKEY001"
	verifyTestSecret = "verify-secret"
	verifyTestSTok   = "verify-session-token"
)

var verifyTestNow = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// verifyTestSign presigns a token like a client would, with the SDK signer
// (test-only; the double checks it with its own SigV4 code).
func verifyTestSign(t *testing.T, cluster string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(token.ClusterIDHeader, cluster)
	creds := aws.Credentials{AccessKeyID: verifyTestAKID, SecretAccessKey: verifyTestSecret, SessionToken: verifyTestSTok}
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sts", "eu-west-1", verifyTestNow.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return token.Prefix + base64.RawURLEncoding.EncodeToString([]byte(u))
}

func verifyTestRun(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	d := ststest.Start(t, ststest.WithClock(func() time.Time { return verifyTestNow }))
	d.AddKey(verifyTestAKID, verifyTestSecret, verifyTestSTok, ststest.Identity{
		Arn: "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com", Account: "111122223333", UserId: "AROAEXAMPLEADMIN:alice@example.com"})
	var out, errb bytes.Buffer
	deps := Deps{Now: func() time.Time { return verifyTestNow }, STSTransport: d.Transport()}
	code = Run(context.Background(), args, deps, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func TestVerifyCommandJSON(t *testing.T) {
	tok := verifyTestSign(t, "prod")
	code, out, errOut := verifyTestRun(t, "", "verify", "-t", tok, "-i", "prod", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got verifyResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	want := verifyResult{
		ARN:          "arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com",
		CanonicalARN: "arn:aws:iam::111122223333:role/Admin",
		AccountID:    "111122223333", UserID: "AROAEXAMPLEADMIN",
		SessionName: "alice@example.com", AccessKeyID: verifyTestAKID,
	}
	if got != want {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for _, key := range []string{`"ARN"`, `"CanonicalARN"`, `"AccountID"`, `"UserID"`, `"SessionName"`, `"AccessKeyID"`} {
		if !strings.Contains(out, key) {
			t.Fatalf("JSON lacks %s: %s", key, out)
		}
	}
}

func TestVerifyCommandTextFromStdin(t *testing.T) {
	tok := verifyTestSign(t, "prod")
	code, out, errOut := verifyTestRun(t, tok+"\n", "verify", "-t", "-", "-i", "prod")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "canonicalArn: arn:aws:iam::111122223333:role/Admin\n") || !strings.Contains(out, "accessKeyID:  "+verifyTestAKID) {
		t.Fatalf("text output %q", out)
	}
}

func TestVerifyCommandFailures(t *testing.T) {
	tok := verifyTestSign(t, "prod")
	raw, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, token.Prefix))
	sig := string(raw[strings.LastIndex(string(raw), "=")+1:])
	cases := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"wrong cluster", "", []string{"verify", "-t", tok, "-i", "staging"}, "sts rejected the token"},
		{"other partition", "", []string{"verify", "-t", tok, "-i", "prod", "--partition", "aws-us-gov"}, "bad_host"},
		{"unknown partition", "", []string{"verify", "-t", tok, "-i", "prod", "--partition", "aws-evil"}, "unknown partition"},
		{"malformed token", "", []string{"verify", "-t", tok + "=", "-i", "prod"}, "bad_encoding"},
		{"no token", "", []string{"verify", "-i", "prod"}, "token not specified"},
		{"empty stdin", "\n", []string{"verify", "-t", "-", "-i", "prod"}, "empty token"},
		{"no cluster", "", []string{"verify", "-t", tok}, "cluster id not specified"},
		{"bad output", "", []string{"verify", "-t", tok, "-i", "prod", "-o", "yaml"}, "unsupported output"},
		{"positional token", "", []string{"verify", "-i", "prod", tok}, "no positional arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := verifyTestRun(t, tc.stdin, tc.args...)
			if code == 0 || out != "" {
				t.Fatalf("exit %d, stdout %q", code, out)
			}
			if !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("stderr %q, want one line with %q", errOut, tc.want)
			}
			if strings.Contains(errOut, tok[len(token.Prefix):len(token.Prefix)+40]) || strings.Contains(errOut, sig) || strings.Contains(errOut, verifyTestSTok) {
				t.Fatalf("stderr echoes the token: %q", errOut)
			}
		})
	}
}

func TestVerifyCommandHelp(t *testing.T) {
	code, out, _ := verifyTestRun(t, "", "verify", "--help")
	if code != 0 || !strings.Contains(out, "iamgate verify -i prod") || !strings.Contains(out, "--sts-region") {
		t.Fatalf("help: %d %q", code, out)
	}
}
