package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeExplainConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(`clusterID: prod
server:
  mapRoles:
  - rolearn: arn:aws:iam::444455556666:role/Admin
    username: admin
    groups: [system:masters]
  - rolearn: arn:aws:sts::111122223333:assumed-role/Dev/x
    username: dev
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The near misses name the entry, its line and what to fix.
func TestExplainTextNamesNearMisses(t *testing.T) {
	cfg := writeExplainConfig(t)
	code, out, errs := runCLI(t, "explain", "arn:aws:iam::111122223333:role/platform/Admin", "-c", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"arn:          arn:aws:sts::111122223333:assumed-role/Admin/iamgate-explain",
		"without the path /platform/",
		"account_differs",
		cfg + ":4: mapRoles[0]",
		"this principal is in 111122223333",
		"backend MountedFile: not mapped",
		"authenticated: false (not mapped)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "RBAC") {
		t.Errorf("a denied principal has no RBAC side:\n%s", out)
	}
}

// Bad input: one line saying what is wrong and what to do; nothing on
// stdout; a token never echoed.
func TestExplainBadInput(t *testing.T) {
	cfg := writeExplainConfig(t)
	const secretish = "k8s-aws-v1.aHR0cHM6Ly9ub3QtYS10b2tlbi5leGFtcGxlLmNvbS8_c2VjcmV0"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", "arn:aws:iam::1:role/x", "-c", cfg}, "not a principal ARN"},
		{[]string{"explain", "arn:aws:s3:::bucket", "-c", cfg}, "not a principal ARN"},
		{[]string{"explain", "-c", cfg}, "give the principal's ARN, or --token"},
		{[]string{"explain", "--token", secretish, "-i", "prod", "-c", cfg}, "token does not verify"},
		{[]string{"explain", "--token", secretish, "-c", "/nonexistent.yaml"}, "/nonexistent.yaml"},
		{[]string{"explain", "arn:aws:iam::111122223333:user/bob", "-c", cfg, "--verb", "get"}, "--verb and --resource go together"},
		{[]string{"explain", "arn:aws:iam::111122223333:user/bob", "-c", cfg, "--verb", "get", "--resource", "pods"}, "need a cluster to ask"},
		{[]string{"explain", "arn:aws:iam::111122223333:user/bob", "--session-name", "s", "-c", cfg}, "--session-name applies only to role ARNs"},
		{[]string{"explain", "arn:aws:iam::111122223333:user/bob", "-c", cfg, "-o", "yaml"}, "unsupported output format"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code == 0 || out != "" || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line with %q", tc.args, code, out, errs, tc.want)
		}
		if strings.Contains(errs, secretish[12:]) {
			t.Errorf("%v: the token was echoed: %s", tc.args, errs)
		}
	}
}

func TestExplainHelpHasExample(t *testing.T) {
	h := helpOf(t, "explain")
	for _, want := range []string{"iamgate explain arn:aws:sts::", "--verb", "--token", "diagnostics-clusterrole.yaml", "Exit status"} {
		if !strings.Contains(h, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
