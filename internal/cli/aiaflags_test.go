package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
	"github.com/iamgate/iamgate/internal/tokencache"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

func newServerFlagSet(f *serverFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	f.addFlags(fs)
	return fs
}

func writeAIAConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "aia-config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTokenAcceptsAIAGlobalFlags: aws-iam-authenticator's root flags parse
// on "token", before or after the command name, and change nothing.
func TestTokenAcceptsAIAGlobalFlags(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	t.Setenv("AWS_REGION", "us-west-2")
	cfg := writeAIAConfig(t, "clusterID: other\n")
	for _, args := range [][]string{
		{"-l", "json", "token", "-i", "X", "--token-only"},
		{"token", "-l", "json", "-i", "X", "--token-only"},
		{"--feature-gates=SSORoleMatch=true", "token", "-i", "X", "--token-only"},
		{"token", "-i", "X", "--token-only", "--feature-gates", "SSORoleMatch=true", "--log-format=text", "-c", cfg},
		{"-c", cfg, "-i", "X", "token", "--token-only"},
	} {
		e.mustRun(args...)
		if !strings.HasPrefix(e.stdout, "k8s-aws-v1.") || strings.Count(e.stdout, "\n") != 1 || e.stderr != "" {
			t.Errorf("%v: stdout %q stderr %q", args, e.stdout, e.stderr)
		}
	}
	// One token: all of them were for cluster X (-i beats the file).
	if files := e.tokenFiles(); len(files) != 1 {
		t.Errorf("token files %v, want one (cluster X)", files)
	}
	e.mustRun("-l", "logfmt", "token", "-i", "X", "--token-only")
	if !strings.Contains(e.stderr, `unknown log format "logfmt"`) || !strings.HasPrefix(e.stdout, "k8s-aws-v1.") {
		t.Errorf("-l logfmt: want AIA's warning and a token; stderr %q", e.stderr)
	}
	if e.run("token", "-i", "X", "--feature-gates", "NoSuchGate=true") == 0 || !strings.Contains(e.stderr, "NoSuchGate") {
		t.Errorf("unknown gate: exit %d stderr %q", e.lastCode, e.stderr)
	}
}

// TestTokenClusterIDFromConfigFile: -c supplies clusterID when neither -i nor
// KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID does (viper's flag > env > file).
func TestTokenClusterIDFromConfigFile(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	t.Setenv("AWS_REGION", "us-west-2")
	cfg := writeAIAConfig(t, "clusterID: from-file\nserver:\n  port: 21362\n")
	cached := func(cluster string) bool {
		o := tokenflags.Options{ClusterID: cluster}
		_, err := os.Stat(filepath.Join(e.cache, tokencache.TokenFile(o.TokenKey(os.Getenv))))
		return err == nil
	}
	e.mustRun("token", "-c", cfg)
	e.cred()
	if !cached("from-file") {
		t.Fatal("token -c: not minted for the file's clusterID")
	}
	t.Setenv(clusterIDEnv, "from-env")
	e.mustRun("token", "-c", cfg)
	if !cached("from-env") {
		t.Fatal("the environment variable must beat the file")
	}
	e.mustRun("token", "-c", cfg, "-i", "from-flag")
	if !cached("from-flag") {
		t.Fatal("-i must beat the environment and the file")
	}
	t.Setenv(clusterIDEnv, "")
	if e.run("token", "-c", writeAIAConfig(t, "server:\n  port: 21362\n")) == 0 || !strings.Contains(e.stderr, "cluster id") {
		t.Fatalf("file without clusterID: exit %d stderr %q", e.lastCode, e.stderr)
	}
}

// TestAIAConfigFlagErrorsNameTheFile: a -c file that is missing or does not
// parse stops every command, with the file named, as AIA's start-up does.
func TestAIAConfigFlagErrorsNameTheFile(t *testing.T) {
	e := newTokenEnv(t)
	e.staticKeys()
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	bad := writeAIAConfig(t, "clusterID: c1\nclusterIdd: typo\n")
	broken := writeAIAConfig(t, "clusterID: [c1\n")
	for _, cmd := range [][]string{{"token", "-i", "c1"}, {"verify", "-i", "c1", "-t", "x"}, {"version"},
		{"init", "-i", "c1", "--state-dir", t.TempDir()}, {"server", "-i", "c1"}} {
		for _, file := range []string{missing, bad, broken} {
			args := append([]string{"-c", file}, cmd...)
			if e.run(args...) == 0 || !strings.Contains(e.stderr, file) || e.stdout != "" {
				t.Errorf("%v: exit %d stdout %q stderr %q", args, e.lastCode, e.stdout, e.stderr)
			}
		}
	}
}

// TestAIAGlobalFlagsOnEveryCommand: each command iamgate shares with AIA
// parses all four global flags before and after its name (--help stops
// after parsing, so server and init do not start).
func TestAIAGlobalFlagsOnEveryCommand(t *testing.T) {
	cfg := writeAIAConfig(t, "clusterID: c1\n")
	globals := []string{"-c", cfg, "-l", "json", "-i", "c1", "--feature-gates=SSORoleMatch=true"}
	for _, name := range []string{"token", "verify", "init", "server", "version"} {
		for _, args := range [][]string{
			append(append([]string{name}, globals...), "--help"),
			append(append(append([]string{}, globals...), name), "--help"),
		} {
			var out, errb bytes.Buffer
			code := Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
			if code != 0 || !strings.Contains(out.String(), "--feature-gates") || !strings.Contains(out.String(), "-l, --log-format") {
				t.Errorf("%v: exit %d stderr %q", args, code, errb.String())
			}
		}
		args := []string{name, "--feature-gates", "NoSuchGate=true", "--help"}
		var errb bytes.Buffer
		if Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &errb}) == 0 ||
			!strings.Contains(errb.String(), "NoSuchGate") {
			t.Errorf("%v: unknown gate accepted: %q", args, errb.String())
		}
	}
}

// TestVerifyAIAGlobalFlags: verify runs with the global flags, and takes the
// cluster id from -i, then the variable, then the -c file.
func TestVerifyAIAGlobalFlags(t *testing.T) {
	tok := verifyTestSign(t, "prod")
	prod, staging := writeAIAConfig(t, "clusterID: prod\n"), writeAIAConfig(t, "clusterID: staging\n")
	t.Setenv(clusterIDEnv, "")
	ok := func(args ...string) {
		t.Helper()
		if code, out, errOut := verifyTestRun(t, "", args...); code != 0 || !strings.Contains(out, "accountID:    111122223333") {
			t.Errorf("%v: exit %d stderr %q", args, code, errOut)
		}
	}
	ok("-l", "json", "--feature-gates=SSORoleMatch=true", "verify", "-t", tok, "-i", "prod")
	ok("verify", "-t", tok, "-c", prod)
	ok("verify", "-t", tok, "-c", staging, "-i", "prod")
	t.Setenv(clusterIDEnv, "prod")
	ok("verify", "-t", tok, "-c", staging)
	if code, _, errOut := verifyTestRun(t, "", "verify", "-t", tok, "-i", "staging"); code == 0 || !strings.Contains(errOut, "sts rejected") {
		t.Errorf("-i must beat the variable: exit %d stderr %q", code, errOut)
	}
}

// TestServerClusterIDEnvBeatsConfig follows viper: flag, then
// KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID, then the file.
func TestServerClusterIDEnvBeatsConfig(t *testing.T) {
	cfg := writeServerConfig(t, "clusterID: from-file\n")
	env := func(k string) string {
		if k == clusterIDEnv {
			return "from-env"
		}
		return ""
	}
	for _, tc := range []struct {
		args []string
		want string
		warn bool // the variable silently replacing the file's id is warned about
	}{
		{[]string{"-c", cfg}, "from-env", true},
		{[]string{"-c", cfg, "-i", "from-flag"}, "from-flag", false},
	} {
		var warn bytes.Buffer
		f := &serverFlags{warn: &warn}
		fs := newServerFlagSet(f)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		c, err := f.load(fs, env)
		if err != nil || c.ClusterID != tc.want {
			t.Errorf("%v: %v, cluster id %q, want %q", tc.args, err, c.ClusterID, tc.want)
		}
		got := warn.String()
		if tc.warn != (strings.Contains(got, `"from-env"`) && strings.Contains(got, `"from-file"`) && strings.Contains(got, cfg)) {
			t.Errorf("%v: warning %q, want one naming both ids and the file: %v", tc.args, got, tc.warn)
		}
	}
}

// TestServerUnknownLogFormatWarns: AIA warns and logs text; it does not stop.
func TestServerUnknownLogFormatWarns(t *testing.T) {
	var warn bytes.Buffer
	f := &serverFlags{warn: &warn}
	fs := newServerFlagSet(f)
	if err := fs.Parse([]string{"-i", "c", "-l", "logfmt"}); err != nil {
		t.Fatal(err)
	}
	c, err := f.load(fs, nil)
	if err != nil || c.Server.LogFormat != "text" || !strings.Contains(warn.String(), `unknown log format "logfmt"`) {
		t.Fatalf("err %v, format %q, warning %q", err, c.Server.LogFormat, warn.String())
	}
}

// TestVersionAIAOutput: AIA's -o json, -o yaml and -s documents.
func TestVersionAIAOutput(t *testing.T) {
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader(""), Out: &out, Err: &bytes.Buffer{}})
		return code, out.String()
	}
	code, out := run("version", "-o", "json")
	var doc map[string]string
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || doc["Version"] != Version {
		t.Errorf("-o json: exit %d %q", code, out)
	}
	for _, args := range [][]string{{"version", "-o", "yaml"}, {"version", "-s"}, {"-l", "json", "version", "--short"}} {
		if code, out := run(args...); code != 0 || !strings.Contains(out, "Version: "+Version+"\n") {
			t.Errorf("%v: exit %d %q", args, code, out)
		}
	}
	if code, out := run("version"); code != 0 || !strings.HasPrefix(out, "iamgate "+Version) {
		t.Errorf("plain: exit %d %q", code, out)
	}
	if code, _ := run("version", "-o", "xml"); code == 0 {
		t.Error("-o xml accepted")
	}
}

// TestTokenDefaultRole: AIA binds --role to $DEFAULT_ROLE; -r still wins.
func TestTokenDefaultRole(t *testing.T) {
	endpoint := moto.Start(t).URL
	e := newTokenEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", endpoint)
	t.Setenv("AWS_REGION", "us-west-2")
	e.writeAWSFiles("", "[default]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = "+testSecret+"\n")
	const role = "arn:aws:iam::123456789012:role/from-env"
	t.Setenv(tokenflags.DefaultRoleEnv, role)
	e.mustRun("token", "-i", "c1", "-s", "carol")
	o := tokenflags.Options{Role: role, SessionName: "carol"}
	if arn := callerARN(t, endpoint, filepath.Join(e.cache, tokencache.CredentialsFile(o.CredentialsKey(os.Getenv)))); arn != "arn:aws:sts::123456789012:assumed-role/from-env/carol" {
		t.Fatalf("DEFAULT_ROLE assumed %s", arn)
	}
	const flagRole = "arn:aws:iam::123456789012:role/from-flag"
	e.mustRun("token", "-i", "c1", "-s", "carol", "-r", flagRole)
	o.Role = flagRole
	if arn := callerARN(t, endpoint, filepath.Join(e.cache, tokencache.CredentialsFile(o.CredentialsKey(os.Getenv)))); arn != "arn:aws:sts::123456789012:assumed-role/from-flag/carol" {
		t.Fatalf("-r with DEFAULT_ROLE set assumed %s", arn)
	}
}
