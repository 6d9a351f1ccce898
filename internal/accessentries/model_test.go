package accessentries

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// python3 with botocore, as aws-cli installs it; CI has both.
func needBotocore(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import botocore").Run()
	}
	if err != nil {
		t.Skipf("SKIPPED: python3 with botocore (comes with aws-cli) is not installed: %v", err)
	}
	return py
}

// writeDocs writes each document of p to dir, by command.
func writeDocs(t *testing.T, p *Plan, dir string) map[string][]string {
	t.Helper()
	files := map[string][]string{}
	for i, d := range p.Documents() {
		b, err := json.Marshal(d.Input)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%02d-%s.json", i, d.Command))
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		files[d.Command] = append(files[d.Command], path)
	}
	return files
}

var operations = map[string]string{"create-access-entry": "CreateAccessEntry", "associate-access-policy": "AssociateAccessPolicy"}

func validate(t *testing.T, py, op string, files ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(py, append([]string{filepath.Join("testdata", "validate.py"), op}, files...)...).CombinedOutput()
	return string(out), err
}

// TestDocumentsMatchTheEKSModel validates every document the seed plans
// produce against the installed botocore's EKS service model: required
// members, types, lengths, enums and patterns, the way the EKS API
// defines its requests.
func TestDocumentsMatchTheEKSModel(t *testing.T) {
	py := needBotocore(t)
	p := plan(t, Options{Cluster: "prod-1"}, source(t, "EKSConfigMap", offlineAWSAuth))
	files := writeDocs(t, p, t.TempDir())
	if len(files["create-access-entry"]) < 5 || len(files["associate-access-policy"]) != 1 {
		t.Fatalf("documents = %v", files)
	}
	for cmd, fs := range files {
		out, err := validate(t, py, operations[cmd], fs...)
		if err != nil {
			t.Errorf("%s documents do not match the EKS model: %v\n%s", cmd, err, out)
		}
		t.Logf("%s: %d documents valid; %s", cmd, len(fs), strings.TrimSpace(out))
	}
}

// TestModelValidatorCatchesBadDocuments keeps the check above honest: a
// document missing a required member, with an unknown member, or with an
// access scope outside the model's enum fails.
func TestModelValidatorCatchesBadDocuments(t *testing.T) {
	py := needBotocore(t)
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"missing.json": `{"clusterName":"c","policyArn":"arn:aws:eks::aws:cluster-access-policy/X","accessScope":{"type":"cluster"}}`,
		"unknown.json": `{"clusterName":"c","principalArn":"a","policyArn":"p","accessScope":{"type":"cluster"},"extra":1}`,
		"enum.json":    `{"clusterName":"c","principalArn":"a","policyArn":"p","accessScope":{"type":"everywhere"}}`,
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := validate(t, py, "AssociateAccessPolicy", path); err == nil || !strings.Contains(out, "problem:") {
			t.Errorf("%s passed validation: %s", name, out)
		}
	}
}

// TestAWSCLIAcceptsDocuments hands every document to aws-cli itself with
// --cli-input-json, pointed at a port where nothing listens: aws-cli
// checks the parameters before it sends anything, so a connection error
// (and not "Parameter validation failed") means it took the document.
// moto does not serve EKS access entries, so no call can succeed here.
func TestAWSCLIAcceptsDocuments(t *testing.T) {
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("SKIPPED: aws-cli is not installed")
	}
	endpoint := moto.ClosedURL(t)
	dir := t.TempDir()
	env := []string{"AWS_ACCESS_KEY_ID=" + moto.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + moto.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + moto.Region, "AWS_CONFIG_FILE=" + dir + "/config", "AWS_SHARED_CREDENTIALS_FILE=" + dir + "/credentials",
		"AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	p := plan(t, Options{Cluster: "prod-1"}, source(t, "EKSConfigMap", offlineAWSAuth))
	files := writeDocs(t, p, t.TempDir())
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"clusterName":"prod-1","kubernetesGroups":"ops"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(cmd, file string) string {
		c := exec.Command(awsBin, "eks", cmd, "--cli-input-json", "file://"+file, "--endpoint-url", endpoint,
			"--cli-connect-timeout", "2")
		c.Env = env
		out, _ := c.CombinedOutput()
		return string(out)
	}
	if out := run("create-access-entry", bad); !strings.Contains(out, "Parameter validation failed") {
		t.Fatalf("aws-cli did not reject a bad document, so this test proves nothing: %s", out)
	}
	for cmd, fs := range files {
		for _, f := range fs {
			out := run(cmd, f)
			if strings.Contains(out, "validation") || !strings.Contains(out, "Could not connect to the endpoint URL") {
				doc, _ := os.ReadFile(f)
				t.Errorf("aws eks %s --cli-input-json %s:\n%s\n%s", cmd, doc, out, "want a connection error only")
			}
		}
	}
}
