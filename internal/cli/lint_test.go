package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/lint"
)

const lintGood = `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/eks-node
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes
`

func runLintCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"lint"}, args...), Deps{}, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLintExitCodes: 0 clean (warnings allowed), 1 errors or, with
// --strict, warnings, 2 unreadable input; text output reads like a
// compiler's.
func TestLintExitCodes(t *testing.T) {
	warn := lintGood + `    - rolearn: arn:aws:iam::111122223333:role/admin
      username: admin
      groups: [system:masters]
`
	bad := lintGood + `    - rolearn: arn:aws:sts::111122223333:assumed-role/Admin/alice
      username: admin
`
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte(lintGood), 0o600)
	w := writeFile(t, "warn.yaml", warn)
	b := writeFile(t, "aws-auth.yaml", bad)

	if code, out, errs := runLintCLI(t, "", good); code != 0 || out != "" {
		t.Errorf("good: exit %d out %q err %q", code, out, errs)
	}
	if code, out, _ := runLintCLI(t, "", w); code != 0 || !strings.Contains(out, "warn.yaml:15: warning: ") || !strings.HasSuffix(strings.TrimSpace(out), "[system-masters]") {
		t.Errorf("warnings only: exit %d out %q", code, out)
	}
	if code, _, _ := runLintCLI(t, "", "--strict", w); code != 1 {
		t.Errorf("--strict with a warning: exit %d, want 1", code)
	}
	code, out, errs := runLintCLI(t, "", b)
	want := b + ":13: error: rolearn is an STS assumed-role ARN, which aws-iam-authenticator never matches; use arn:aws:iam::111122223333:role/Admin [assumed-role-arn]\n"
	if code != 1 || out != want || !strings.Contains(errs, "1 errors, 0 warnings") {
		t.Errorf("error: exit %d\n out %q\nwant %q\n err %q", code, out, want, errs)
	}
	if code, _, errs := runLintCLI(t, "", filepath.Join(dir, "missing.yaml")); code != 2 || !strings.Contains(errs, "missing.yaml") {
		t.Errorf("missing file: exit %d err %q", code, errs)
	}
	if code, _, _ := runLintCLI(t, "", "-o", "xml", good); code != 2 {
		t.Errorf("-o xml: exit %d, want 2", code)
	}
	if code, _, _ := runLintCLI(t, "", "--target", "eks", good); code != 2 {
		t.Errorf("--target eks: exit %d, want 2", code)
	}
}

// TestLintStdinJSON reads standard input ("-" or no argument) and prints
// JSON findings.
func TestLintStdinJSON(t *testing.T) {
	doc := lintGood + `    - rolearn: arn:aws:iam::111122223333:role/ops-*
      username: ops
`
	for _, args := range [][]string{{"-o", "json", "--target", "access-entries"}, {"-o", "json", "--target", "access-entries", "-"}} {
		code, out, _ := runLintCLI(t, doc, args...)
		var fs []lint.Finding
		if err := json.Unmarshal([]byte(out), &fs); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if code != 0 || len(fs) != 1 || fs[0].Rule != "access-entries" || fs[0].Line != 13 || fs[0].File != "<stdin>" || fs[0].Index != 1 || fs[0].Section != "mapRoles" {
			t.Errorf("%v: exit %d findings %+v", args, code, fs)
		}
	}
	if code, out, _ := runLintCLI(t, lintGood, "-o", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("clean JSON: exit %d out %q", code, out)
	}
}
