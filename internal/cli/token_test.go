package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"

	"github.com/iamgate/iamgate/internal/execcred"
	"github.com/iamgate/iamgate/internal/tokencache"
)

const (
	execInfoV1 = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// tokenEnvT is one isolated client environment: no credential source from
// the machine, its own HOME, AWS files and cache directory.
type tokenEnvT struct {
	t               *testing.T
	dir, cache      string
	configF, credsF string
	now             func() time.Time
	stdin           io.Reader
	stdout, stderr  string
	lastCode        int
	lastDuration    time.Duration
}

func newTokenEnv(t *testing.T) *tokenEnvT {
	t.Helper()
	dir := t.TempDir()
	e := &tokenEnvT{t: t, dir: dir, cache: filepath.Join(dir, "cache"),
		configF: filepath.Join(dir, "aws-config"), credsF: filepath.Join(dir, "aws-credentials")}
	e.writeAWSFiles("", "")
	t.Setenv("HOME", dir)
	t.Setenv("AWS_CONFIG_FILE", e.configF)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", e.credsF)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_STS", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv(tokencache.DirEnv, e.cache)
	t.Setenv(execcred.EnvExecInfo, execInfoV1)
	return e
}

func (e *tokenEnvT) writeAWSFiles(config, creds string) {
	e.t.Helper()
	if err := os.WriteFile(e.configF, []byte(config), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.credsF, []byte(creds), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *tokenEnvT) staticKeys() {
	e.t.Setenv("AWS_ACCESS_KEY_ID", testKeyID)
	e.t.Setenv("AWS_SECRET_ACCESS_KEY", testSecret)
}

// run executes the CLI in-process and records exit code and streams.
func (e *tokenEnvT) run(args ...string) int {
	e.t.Helper()
	var out, errb bytes.Buffer
	var in io.Reader = strings.NewReader("")
	if e.stdin != nil {
		in = e.stdin
	}
	deps := Deps{Now: e.now}
	start := time.Now()
	e.lastCode = Run(context.Background(), args, deps, Streams{In: in, Out: &out, Err: &errb})
	e.lastDuration = time.Since(start)
	e.stdout, e.stderr = out.String(), errb.String()
	return e.lastCode
}

func (e *tokenEnvT) mustRun(args ...string) {
	e.t.Helper()
	if code := e.run(args...); code != 0 {
		e.t.Fatalf("%v: exit %d, stderr:\n%s", args, code, e.stderr)
	}
}

// cred strictly decodes stdout as a v1 ExecCredential.
func (e *tokenEnvT) cred() clientauthv1.ExecCredential {
	e.t.Helper()
	dec := json.NewDecoder(strings.NewReader(e.stdout))
	dec.DisallowUnknownFields()
	var c clientauthv1.ExecCredential
	if err := dec.Decode(&c); err != nil {
		e.t.Fatalf("stdout is not an ExecCredential: %v\n%q", err, e.stdout)
	}
	if dec.More() {
		e.t.Fatalf("stdout holds more than the ExecCredential: %q", e.stdout)
	}
	if c.Status == nil || c.Status.ExpirationTimestamp == nil {
		e.t.Fatalf("no status/expiry: %q", e.stdout)
	}
	return c
}

func (e *tokenEnvT) tokenFiles() []string {
	m, _ := filepath.Glob(filepath.Join(e.cache, "token-*.json"))
	return m
}

func decodeTokenURL(t *testing.T, tok string) *url.URL {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "k8s-aws-v1."))
	if err != nil || !strings.HasPrefix(tok, "k8s-aws-v1.") {
		t.Fatalf("token is not k8s-aws-v1.<base64url>: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTokenShape(t *testing.T) {
	for _, c := range []struct {
		name, envRegion, flagRegion, host, scope string
	}{
		{"AWS_REGION", "us-west-2", "", "sts.us-west-2.amazonaws.com", "us-west-2"},
		{"no region: global endpoint", "", "", "sts.amazonaws.com", "us-east-1"},
		{"--region cn", "us-west-2", "cn-north-1", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newTokenEnv(t)
			e.staticKeys()
			t.Setenv("AWS_REGION", c.envRegion)
			args := []string{"token", "-i", "cluster-a"}
			if c.flagRegion != "" {
				args = append(args, "--region", c.flagRegion)
			}
			before := time.Now()
			e.mustRun(args...)
			cred := e.cred()
			if cred.APIVersion != execcred.V1 || cred.Kind != "ExecCredential" {
				t.Fatalf("type meta %q %q", cred.APIVersion, cred.Kind)
			}
			u := decodeTokenURL(t, cred.Status.Token)
			q := u.Query()
			if u.Host != c.host || q.Get("X-Amz-SignedHeaders") != "host;x-k8s-aws-id" || q.Get("X-Amz-Expires") != "60" ||
				q.Get("Action") != "GetCallerIdentity" || q.Get("Version") != "2011-06-15" ||
				!strings.HasPrefix(q.Get("X-Amz-Credential"), testKeyID+"/") ||
				!strings.Contains(q.Get("X-Amz-Credential"), "/"+c.scope+"/sts/aws4_request") {
				t.Fatalf("token URL %s", u.Redacted())
			}
			exp := cred.Status.ExpirationTimestamp.Time
			if exp.Before(before.Add(14*time.Minute-2*time.Second)) || exp.After(time.Now().Add(14*time.Minute)) {
				t.Fatalf("expiry %v, want now+14m", exp)
			}
			if strings.Contains(e.stderr, testSecret) || strings.Contains(e.stderr, cred.Status.Token) {
				t.Fatal("stderr leaks a secret")
			}
		})
	}
}

func TestTokenExecInfo(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	t.Setenv("AWS_REGION", "us-west-2")
	for _, c := range []struct {
		name, info, version string
		warn                bool
	}{
		{"v1", execInfoV1, execcred.V1, false},
		{"v1beta1", `{"apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`, execcred.V1beta1, false},
		// kubectl always sets it; unset means run by hand: no noise.
		{"unset", "", execcred.V1beta1, false},
		{"malformed", `{"apiVersion":`, execcred.V1beta1, true},
		{"unknown", `{"apiVersion":"client.authentication.k8s.io/v2"}`, execcred.V1beta1, true},
	} {
		for _, cached := range []string{"miss", "hit"} {
			t.Run(c.name+"/"+cached, func(t *testing.T) {
				t.Setenv(execcred.EnvExecInfo, c.info)
				if cached == "miss" {
					e.mustRun("cache", "clear")
				}
				e.mustRun("token", "-i", "c1")
				var doc struct{ APIVersion, Kind string }
				if err := json.Unmarshal([]byte(e.stdout), &doc); err != nil || doc.APIVersion != c.version {
					t.Fatalf("stdout %q, want apiVersion %s", e.stdout, c.version)
				}
				lines := strings.Count(e.stderr, "\n")
				if c.warn && (lines != 1 || !strings.Contains(e.stderr, "warning:")) {
					t.Fatalf("want exactly one warning line, stderr %q", e.stderr)
				}
				if !c.warn && e.stderr != "" {
					t.Fatalf("unexpected stderr %q", e.stderr)
				}
			})
		}
	}
	t.Run("token-only", func(t *testing.T) {
		t.Setenv(execcred.EnvExecInfo, "")
		e.mustRun("token", "-i", "c1", "--token-only")
		if !strings.HasPrefix(e.stdout, "k8s-aws-v1.") || strings.Count(e.stdout, "\n") != 1 || !strings.HasSuffix(e.stdout, "\n") ||
			strings.ContainsAny(strings.TrimSpace(e.stdout), " {}\"") {
			t.Fatalf("--token-only stdout %q", e.stdout)
		}
		if e.stderr != "" {
			t.Fatalf("--token-only warned: %q", e.stderr)
		}
	})
	t.Run("cluster id from env", func(t *testing.T) {
		t.Setenv("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID", "from-env")
		e.mustRun("token", "--no-cache")
		u := decodeTokenURL(t, e.cred().Status.Token)
		if u.Host != "sts.us-west-2.amazonaws.com" {
			t.Fatal(u.Host)
		}
		t.Setenv("KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID", "")
		if e.run("token") == 0 || !strings.Contains(e.stderr, "cluster id") || e.stdout != "" {
			t.Fatalf("no cluster id: exit %d, stderr %q, stdout %q", e.lastCode, e.stderr, e.stdout)
		}
	})
}
