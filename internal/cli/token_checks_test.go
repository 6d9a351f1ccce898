package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/tokenflags"
)

// oneErrorLine asserts a failed run printed exactly one line, an error
// containing every want, and nothing on stdout.
func (e *tokenEnvT) oneErrorLine(want ...string) {
	e.t.Helper()
	if e.lastCode == 0 || e.stdout != "" {
		e.t.Fatalf("exit %d, stdout %q", e.lastCode, e.stdout)
	}
	if strings.Count(e.stderr, "\n") != 1 || !strings.HasPrefix(e.stderr, "error: ") {
		e.t.Fatalf("want one error line, stderr %q", e.stderr)
	}
	for _, w := range want {
		if !strings.Contains(e.stderr, w) {
			e.t.Fatalf("stderr lacks %q: %q", w, e.stderr)
		}
	}
}

func TestTokenRefusesExpiringCredentials(t *testing.T) {
	for _, c := range []struct {
		name, word string
		exp        time.Time
	}{
		{"expired", "expired at 2020-01-01T00:00:00Z", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"expires within a minute", "expire at", time.Now().Add(30 * time.Second)},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTokenEnv(t)
			processProfile(t, e, c.exp)
			e.run("token", "-i", "c1", "--profile", "proc")
			e.oneErrorLine(`credentials from credential_process of profile "proc" `+c.word, "fix it to return fresh ones")
			if len(e.tokenFiles()) != 0 {
				t.Fatal("a token signed with stale credentials was cached")
			}
		})
	}
	// Two minutes left is enough to sign; the token's expiry follows them.
	e := newTokenEnv(t)
	exp := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	processProfile(t, e, exp)
	e.mustRun("token", "-i", "c1", "--profile", "proc")
	if got := e.cred().Status.ExpirationTimestamp.Time; !got.Equal(exp) {
		t.Fatalf("expiry %v, want %v", got, exp)
	}
}

func TestTokenRoleARNCheckedLocally(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	// An endpoint nothing listens on: any STS call would fail differently.
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1")
	e.run("token", "-i", "c1", "-r", "not-an-arn")
	e.oneErrorLine(`--role "not-an-arn" is not an IAM role ARN`, "arn:aws:iam::111122223333:role/NAME")
	e.run("token", "-i", "c1", "-r", "arn:aws:iam::111122223333:user/alice")
	e.oneErrorLine("is not an IAM role ARN", "names a user, not a role")
	t.Setenv(tokenflags.DefaultRoleEnv, "arn:aws:iam::1234:role/short-account")
	e.run("token", "-i", "c1")
	e.oneErrorLine(`$DEFAULT_ROLE "arn:aws:iam::1234:role/short-account" is not an IAM role ARN`, "12 digits")
}

func TestTokenUnknownRegionWarns(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	e.mustRun("token", "-i", "c1", "--region", "xx-fake-9")
	if u := decodeTokenURL(t, e.cred().Status.Token); u.Host != "sts.xx-fake-9.amazonaws.com" {
		t.Fatalf("host %q", u.Host)
	}
	if !strings.Contains(e.stderr, `warning: region "xx-fake-9" is not one the AWS SDK knows`) ||
		!strings.Contains(e.stderr, "sts.xx-fake-9.amazonaws.com") || strings.Count(e.stderr, "\n") != 1 {
		t.Fatalf("stderr %q", e.stderr)
	}
	for _, r := range []string{"us-west-2", "cn-north-1", "eusc-de-east-1"} {
		e.mustRun("token", "-i", "c1", "--region", r)
		if e.stderr != "" {
			t.Fatalf("--region %s: stderr %q", r, e.stderr)
		}
	}
}

func TestTokenCredentialErrorsAreOneLine(t *testing.T) {
	t.Run("nothing anywhere", func(t *testing.T) {
		e := newTokenEnv(t)
		t.Setenv("KUBERNETES_EXEC_INFO", "")
		e.run("token", "-i", "c1")
		e.oneErrorLine("no AWS credentials found; tried environment variables", `profile "default"`,
			"EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)", "set AWS_PROFILE", "aws sso login --profile")
		if strings.Contains(e.stderr, "failed to refresh cached credentials") || strings.Contains(e.stderr, "KUBERNETES_EXEC_INFO") {
			t.Fatalf("SDK wrappers or exec-info noise: %q", e.stderr)
		}
	})
	t.Run("missing profile", func(t *testing.T) {
		e := newTokenEnv(t)
		t.Setenv("AWS_CONFIG_FILE", "") // the default ~/.aws/config
		if err := os.MkdirAll(filepath.Join(e.dir, ".aws"), 0o700); err != nil {
			t.Fatal(err)
		}
		cfg := "[default]\nregion = us-west-2\n\n[profile admin]\nregion = eu-west-1\n\n[sso-session corp]\nsso_region = us-east-1\n"
		if err := os.WriteFile(filepath.Join(e.dir, ".aws", "config"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		e.run("token", "-i", "c1", "--profile", "nosuch")
		e.oneErrorLine(`error: profile "nosuch" not found in ~/.aws/config (profiles there: default, admin);`)
		t.Setenv("AWS_PROFILE", "typo")
		e.run("token", "-i", "c1")
		e.oneErrorLine(`profile "typo" not found in ~/.aws/config (profiles there: default, admin); AWS_PROFILE names it`)
	})
	t.Run("SSO not logged in", func(t *testing.T) {
		e := newTokenEnv(t)
		e.writeAWSFiles("[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = dev\nregion = us-west-2\n\n"+
			"[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n", "")
		e.run("token", "-i", "c1", "--profile", "sso")
		e.oneErrorLine(`get AWS credentials from SSO profile "sso"`, `run "aws sso login --profile sso"`)
	})
	t.Run("failing credential_process", func(t *testing.T) {
		e := newTokenEnv(t)
		e.writeAWSFiles("[profile proc]\ncredential_process = /bin/false\n", "")
		e.run("token", "-i", "c1", "--profile", "proc")
		e.oneErrorLine(`get AWS credentials from credential_process of profile "proc"`, "run the command by hand")
	})
}

func TestTokenDebug(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	t.Setenv("AWS_REGION", "eu-west-1")
	e.mustRun("token", "-i", "c1", "--debug")
	tok := e.cred().Status.Token
	sum := sha256.Sum256([]byte(tok))
	hash := hex.EncodeToString(sum[:])[:16]
	files := e.tokenFiles()
	if len(files) != 1 {
		t.Fatalf("token files %v", files)
	}
	for _, want := range []string{
		"debug: cache: miss " + files[0],
		"debug: region eu-west-1, STS host sts.eu-west-1.amazonaws.com",
		"debug: credentials: environment variables (AWS_ACCESS_KEY_ID), profile default, --role (none), access key " + testKeyID,
		"debug: token: tokenHash=" + hash + " ",
	} {
		if !strings.Contains(e.stderr, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, e.stderr)
		}
	}
	if strings.Contains(e.stderr, testSecret) || strings.Contains(e.stderr, tok) {
		t.Fatal("--debug leaks a secret")
	}
	// A hit says so and still names the same hash.
	e.mustRun("token", "-i", "c1", "--debug")
	if !strings.Contains(e.stderr, "debug: cache: hit "+files[0]) || !strings.Contains(e.stderr, "tokenHash="+hash) ||
		e.cred().Status.Token != tok {
		t.Fatalf("hit: stderr %q", e.stderr)
	}
	// Without --debug, nothing.
	e.mustRun("token", "-i", "c1")
	if e.stderr != "" {
		t.Fatalf("stderr without --debug: %q", e.stderr)
	}
}
