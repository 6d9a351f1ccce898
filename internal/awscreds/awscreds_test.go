package awscreds

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgate/iamgate/internal/tokencache"
)

type countingProvider struct {
	calls atomic.Int32
	creds aws.Credentials
}

func (p *countingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	p.calls.Add(1)
	return p.creds, nil
}

func TestDiskCacheReusesLongLivedCredentials(t *testing.T) {
	store := tokencache.Store{Dir: filepath.Join(t.TempDir(), "c")}
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	inner := &countingProvider{creds: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t",
		SessionToken: "tok", CanExpire: true, Expires: now.Add(time.Hour)}}
	o := Options{Cache: &store, Now: clock}

	first, err := o.disk(inner, "k1").Retrieve(context.Background())
	if err != nil || first.AccessKeyID != "ASIAEXAMPLE" {
		t.Fatalf("first = %+v, %v", first, err)
	}
	fi, err := os.Stat(filepath.Join(store.Dir, tokencache.CredentialsFile("k1")))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}

	// A new process (new provider) is served from disk.
	second, err := o.disk(inner, "k1").Retrieve(context.Background())
	if err != nil || inner.calls.Load() != 1 {
		t.Fatalf("second call reached the inner provider (%d calls), err %v", inner.calls.Load(), err)
	}
	if second.SecretAccessKey != "s3cr3t" || second.SessionToken != "tok" || !second.CanExpire || !second.Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("served %+v", second)
	}
	// Another key is another identity.
	if _, err := o.disk(inner, "k2").Retrieve(context.Background()); err != nil || inner.calls.Load() != 2 {
		t.Fatalf("other key served from k1's entry")
	}

	// With 15 minutes or less left, the cached set is refreshed.
	now = now.Add(45 * time.Minute)
	if _, err := o.disk(inner, "k1").Retrieve(context.Background()); err != nil || inner.calls.Load() != 3 {
		t.Fatalf("credentials with 15 min left were reused (calls %d)", inner.calls.Load())
	}
}

func TestDiskCacheSkipsShortAndStaticCredentials(t *testing.T) {
	store := tokencache.Store{Dir: filepath.Join(t.TempDir(), "c")}
	now := time.Now()
	o := Options{Cache: &store, Now: func() time.Time { return now }}
	for _, c := range []aws.Credentials{
		{AccessKeyID: "AKIASTATIC", SecretAccessKey: "x"},
		{AccessKeyID: "ASIASHORT", SecretAccessKey: "x", CanExpire: true, Expires: now.Add(5 * time.Minute)},
	} {
		inner := &countingProvider{creds: c}
		for i := 0; i < 2; i++ {
			if _, err := o.disk(inner, "k").Retrieve(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if inner.calls.Load() != 2 {
			t.Fatalf("%s: inner called %d times, want every time", c.AccessKeyID, inner.calls.Load())
		}
	}
	if entries, _ := os.ReadDir(store.Dir); len(entries) > 1 { // at most the dir's lock file
		t.Fatalf("cached what it should not: %v", entries)
	}
}

func TestPromptGoesToStderrAndReadsOneLine(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("123456\nrest")
	p := &mfaPrompter{interactive: true, in: in, out: &out}
	code, err := p.ask("arn:aws:iam::111122223333:mfa/alice")
	if err != nil || code != "123456" {
		t.Fatalf("ask = %q, %v", code, err)
	}
	if !strings.Contains(out.String(), "MFA code for arn:aws:iam::111122223333:mfa/alice") {
		t.Fatalf("prompt %q", out.String())
	}
	if rest := in.Len(); rest != len("rest") {
		t.Fatalf("read past the line: %d bytes left", rest)
	}
}

func TestNonInteractiveNeverReads(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("123456\n")
	p := &mfaPrompter{interactive: false, in: in, out: &out}
	_, err := p.ask("arn:aws:iam::1:mfa/a")
	if !errors.Is(err, ErrNonInteractive) || !strings.Contains(err.Error(), "terminal") {
		t.Fatalf("err = %v", err)
	}
	if out.Len() != 0 || in.Len() != len("123456\n") {
		t.Fatalf("prompted (%q) or read stdin", out.String())
	}
}

// TestIMDSIsBounded points instance metadata at a listener that accepts and
// never answers and checks the chain gives up quickly with a clear error.
func TestIMDSIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	isolateEnv(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://"+ln.Addr().String())

	start := time.Now()
	cfg, err := Load(context.Background(), Options{IMDSTimeout: time.Second})
	if err == nil {
		_, err = cfg.Credentials.Retrieve(context.Background())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("took %s", took)
	}
	if !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("err = %v, want ErrNoCredentials", err)
	}
}

// isolateEnv removes every credential source the test machine might have.
func isolateEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_STS", "AWS_EC2_METADATA_SERVICE_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
