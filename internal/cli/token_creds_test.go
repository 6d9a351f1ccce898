package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
	"github.com/iamgate/iamgate/internal/tokencache"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

// processProfile writes a credential_process profile whose helper appends a
// line to a counter file per call and prints credentials expiring at exp.
func processProfile(t *testing.T, e *tokenEnvT, exp time.Time) (counter string) {
	t.Helper()
	counter = filepath.Join(e.dir, "calls")
	script := filepath.Join(e.dir, "creds.sh")
	body := fmt.Sprintf("#!/bin/sh\necho x >> %q\n"+
		`echo '{"Version":1,"AccessKeyId":"ASIAPROCESSEXAMPLE01","SecretAccessKey":"c2VjcmV0","SessionToken":"c2Vzc2lvbg","Expiration":"%s"}'`+"\n",
		counter, exp.UTC().Format(time.RFC3339))
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	e.writeAWSFiles("[profile proc]\nregion = us-west-2\ncredential_process = "+script+"\n", "")
	return counter
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

func TestTokenExpiryFollowsShortCredentials(t *testing.T) {
	e := newTokenEnv(t)
	credExp := time.Now().Add(5 * time.Minute).Truncate(time.Second)
	counter := processProfile(t, e, credExp)

	e.mustRun("token", "-i", "c1", "--profile", "proc")
	got := e.cred().Status.ExpirationTimestamp.Time
	if !got.Equal(credExp) {
		t.Fatalf("expirationTimestamp %v, want the credentials' expiry %v (not now+14m)", got, credExp)
	}
	// Another cluster misses the token cache; credentials with under 15
	// minutes left are not reused from disk, so the process runs again.
	e.mustRun("token", "-i", "c2", "--profile", "proc")
	if n := lines(t, counter); n != 2 {
		t.Fatalf("credential_process ran %d times, want 2 (short-lived credentials refreshed)", n)
	}
}

func TestTokenReusesLongCredentialsAcrossClusters(t *testing.T) {
	e := newTokenEnv(t)
	counter := processProfile(t, e, time.Now().Add(time.Hour))
	e.mustRun("token", "-i", "c1", "--profile", "proc")
	if got := e.cred().Status.ExpirationTimestamp.Time; got.After(time.Now().Add(14 * time.Minute)) {
		t.Fatalf("expiry %v beyond 14 minutes", got)
	}
	e.mustRun("token", "-i", "c2", "--profile", "proc")
	if n := lines(t, counter); n != 1 {
		t.Fatalf("credential_process ran %d times, want 1 (credentials cached on disk)", n)
	}
	creds, _ := filepath.Glob(filepath.Join(e.cache, "creds-*.json"))
	if len(creds) != 1 {
		t.Fatalf("credential files %v", creds)
	}
	assertMode(t, creds[0], 0o600)
	b, _ := os.ReadFile(creds[0])
	if !strings.Contains(string(b), "ASIAPROCESSEXAMPLE01") {
		t.Fatal("credential file does not hold the credentials")
	}
	e.mustRun("token", "-i", "c3", "--profile", "proc", "--no-cache")
	if n := lines(t, counter); n != 2 {
		t.Fatal("--no-cache used the credential cache")
	}
}

// TestTokenIMDSBounded: no credentials anywhere and an instance metadata
// endpoint that accepts connections but never answers. kubectl must get a
// clear error quickly, not a 20 s stall (aws-iam-authenticator#347).
func TestTokenIMDSBounded(t *testing.T) {
	e := newTokenEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	conns := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns <- c // held open, never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+ln.Addr().String())

	if e.run("token", "-i", "c1") == 0 {
		t.Fatal("succeeded without credentials")
	}
	if e.lastDuration > 10*time.Second {
		t.Fatalf("took %s; instance metadata is not bounded", e.lastDuration)
	}
	if accepted.Load() == 0 {
		t.Fatal("the metadata endpoint was never tried; the test proves nothing")
	}
	if !strings.Contains(e.stderr, "no AWS credentials found") || e.stdout != "" {
		t.Fatalf("stderr %q stdout %q", e.stderr, e.stdout)
	}
}

// readSpy fails the test's expectations if anything reads stdin.
type readSpy struct {
	r     io.Reader
	reads atomic.Int32
}

func (s *readSpy) Read(p []byte) (int, error) {
	s.reads.Add(1)
	return s.r.Read(p)
}

func TestTokenMFAPrompt(t *testing.T) {
	endpoint := moto.Start(t).URL
	e := newTokenEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", endpoint)
	e.writeAWSFiles(`[profile mfa]
role_arn = arn:aws:iam::123456789012:role/k8s-admin
source_profile = base
mfa_serial = arn:aws:iam::123456789012:mfa/alice
region = us-west-2

[profile base]
region = us-west-2
`, "[base]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = "+testSecret+"\n")

	// 1. Interactive: the prompt goes to stderr, the code comes from stdin,
	// stdout holds only the ExecCredential.
	spy := &readSpy{r: strings.NewReader("123456\n")}
	e.stdin = spy
	e.mustRun("token", "-i", "c1", "--profile", "mfa")
	cred := e.cred()
	if !strings.Contains(e.stderr, "MFA code for arn:aws:iam::123456789012:mfa/alice") {
		t.Fatalf("no MFA prompt on stderr: %q", e.stderr)
	}
	// The prompt text, not bare "MFA": the base64 token can contain that.
	if strings.Contains(e.stdout, "MFA code") {
		t.Fatal("prompt leaked into stdout")
	}
	u := decodeTokenURL(t, cred.Status.Token)
	if akid := u.Query().Get("X-Amz-Credential"); strings.HasPrefix(akid, testKeyID) || u.Query().Get("X-Amz-Security-Token") == "" {
		t.Fatal("token not signed with the assumed role's credentials")
	}
	if u.Host != "sts.us-west-2.amazonaws.com" {
		t.Fatalf("token host %q: the custom STS endpoint must not leak into the token", u.Host)
	}

	// 2. Token cache gone, credential cache kept: no second prompt.
	for _, f := range e.tokenFiles() {
		os.Remove(f)
	}
	spy = &readSpy{r: strings.NewReader("")}
	e.stdin = spy
	e.mustRun("token", "-i", "c1", "--profile", "mfa")
	e.cred()
	if strings.Contains(e.stderr, "MFA") || spy.reads.Load() != 0 {
		t.Fatalf("prompted again despite cached credentials: %q", e.stderr)
	}

	// 3. Nothing cached and kubectl says non-interactive: fail clearly,
	// without prompting or reading stdin.
	e.mustRun("cache", "clear")
	t.Setenv("KUBERNETES_EXEC_INFO", `{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`)
	spy = &readSpy{r: strings.NewReader("123456\n")}
	e.stdin = spy
	if e.run("token", "-i", "c1", "--profile", "mfa") == 0 {
		t.Fatal("non-interactive call succeeded without an MFA code")
	}
	if spy.reads.Load() != 0 || strings.Contains(e.stderr, "Enter MFA code") || e.stdout != "" {
		t.Fatalf("non-interactive call prompted or read stdin (%d reads); stderr %q", spy.reads.Load(), e.stderr)
	}
	if !strings.Contains(e.stderr, "non-interactively") {
		t.Fatalf("unclear error: %q", e.stderr)
	}
}

// TestTokenRoleFlags covers -r/-e and --forward-session-name against moto.
func TestTokenRoleFlags(t *testing.T) {
	endpoint := moto.Start(t).URL
	e := newTokenEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", endpoint)
	t.Setenv("AWS_REGION", "us-west-2")
	e.writeAWSFiles(`[profile fed]
role_arn = arn:aws:iam::123456789012:role/federated
role_session_name = alice@example.com
source_profile = base

[profile base]
`, "[base]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = "+testSecret+"\n")
	const second = "arn:aws:iam::123456789012:role/second"

	// Session name of the caller's own role session is passed on.
	e.mustRun("token", "-i", "c1", "--profile", "fed", "-r", second, "--forward-session-name")
	e.cred()
	o := tokenflags.Options{ClusterID: "c1", Profile: "fed", Role: second, ForwardSessionName: true}
	arn := callerARN(t, endpoint, filepath.Join(e.cache, tokencache.CredentialsFile(o.CredentialsKey(os.Getenv))))
	if arn != "arn:aws:sts::123456789012:assumed-role/second/alice@example.com" {
		t.Fatalf("--forward-session-name assumed %s", arn)
	}

	// Plain -r with -s and -e.
	e.mustRun("token", "-i", "c1", "-r", second, "-s", "bob", "-e", "ext-1", "--profile", "base")
	o = tokenflags.Options{Profile: "base", Role: second, SessionName: "bob", ExternalID: "ext-1"}
	arn = callerARN(t, endpoint, filepath.Join(e.cache, tokencache.CredentialsFile(o.CredentialsKey(os.Getenv))))
	if arn != "arn:aws:sts::123456789012:assumed-role/second/bob" {
		t.Fatalf("-r -s assumed %s", arn)
	}
}

// callerARN asks moto who the credentials cached in file are.
func callerARN(t *testing.T, endpoint, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("credential cache file: %v", err)
	}
	var c struct{ AccessKeyID, SecretAccessKey, SessionToken string }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	client := sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Arn)
}
