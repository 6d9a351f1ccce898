package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/execcred"
	"github.com/iamgate/iamgate/internal/tokencache"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

const fakeToken = "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20v"

// TestServeCached drives the front's decision in-process against a cache
// entry written under the key the core would use.
func TestServeCached(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		tokencache.DirEnv:       dir,
		execcred.EnvExecInfo:    `{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`,
		"AWS_PROFILE":           "dev",
		tokenflags.ClusterIDEnv: "",
	}
	getenv := func(k string) string { return env[k] }
	now := time.Now()
	o := tokenflags.Options{ClusterID: "c1", Region: "us-west-2"}
	exp := now.Add(10 * time.Minute)
	if err := (tokencache.Store{Dir: dir}).WriteToken(o.TokenKey(getenv), tokencache.Entry{Token: fakeToken, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	serve := func(args ...string) (int, bool, string, string) {
		var out, errb bytes.Buffer
		code, ok := serveCached(args, getenv, now, &out, &errb)
		return code, ok, out.String(), errb.String()
	}

	code, ok, out, errs := serve("-i", "c1", "--region=us-west-2")
	if !ok || code != 0 || errs != "" {
		t.Fatalf("hit not served: ok=%v code=%d stderr=%q", ok, code, errs)
	}
	var doc struct {
		APIVersion string
		Status     struct{ Token, ExpirationTimestamp string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.APIVersion != execcred.V1 || doc.Status.Token != fakeToken ||
		doc.Status.ExpirationTimestamp != exp.UTC().Truncate(time.Second).Format(time.RFC3339) {
		t.Fatalf("stdout %q", out)
	}
	if _, ok, out, _ = serve("--cluster-id", "c1", "--region", "us-west-2", "--token-only", "--cache"); !ok || out != fakeToken+"\n" {
		t.Fatalf("--token-only: ok=%v stdout %q", ok, out)
	}
	// Run by hand (no KUBERNETES_EXEC_INFO): v1beta1, and no warning.
	env[execcred.EnvExecInfo] = ""
	if _, ok, out, errs = serve("-i", "c1", "--region", "us-west-2"); !ok || !strings.Contains(out, execcred.V1beta1) || errs != "" {
		t.Fatalf("unset exec info: ok=%v stdout %q stderr %q", ok, out, errs)
	}
	env[execcred.EnvExecInfo] = `{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`

	// Everything the core must handle is declined.
	for _, args := range [][]string{
		{"-i", "c1", "--region", "us-west-2", "--help"},
		{"-i", "c1", "--region", "us-west-2", "-h"},
		{"-i", "c1", "--region", "us-west-2", "--no-cache"},
		{"-i", "c1", "--region", "us-west-2", "--debug"}, // the core explains hits too
		{"-i", "c1", "--region", "us-west-2", "--bogus"},
		{"-i", "c1", "--region", "us-west-2", "extra-arg"},
		{"-i", "c1", "--region", "us-west-2", "--forward-session-name", "-s", "x"},
		{"-i", "c1"},                          // other region: miss
		{"-i", "c2", "--region", "us-west-2"}, // other cluster
		{"--region", "us-west-2"},             // no cluster id
		{"-i", "c1", "--region", "us-west-2", "-r", "arn:aws:iam::1:role/x"},
	} {
		if _, ok, out, _ := serve(args...); ok || out != "" {
			t.Errorf("%v: served from the cache", args)
		}
	}
	env["AWS_PROFILE"] = "prod"
	if _, ok, _, _ := serve("-i", "c1", "--region", "us-west-2"); ok {
		t.Error("served across an AWS_PROFILE change")
	}
	env["AWS_PROFILE"] = "dev"
	if _, ok := serveCached([]string{"-i", "c1", "--region", "us-west-2"}, getenv, exp.Add(-59*time.Second), &bytes.Buffer{}, &bytes.Buffer{}); ok {
		t.Error("served a token with under 60 s left")
	}
	env[tokenflags.ClusterIDEnv] = "c1"
	if _, ok, _, _ := serve("--region", "us-west-2"); !ok {
		t.Error("cluster id from the environment missed")
	}
}

// TestTwoBinaries builds the real front and core. The second call must be
// answered by the front alone: the core is deleted after the first.
func TestTwoBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both binaries")
	}
	bin := t.TempDir()
	for _, name := range []string{"iamgate", "iamgate-core"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(bin, name), "github.com/iamgate/iamgate/cmd/"+name).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	home := t.TempDir()
	empty := filepath.Join(home, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=/usr/bin:/bin", "HOME=" + home, "AWS_CONFIG_FILE=" + empty, "AWS_SHARED_CREDENTIALS_FILE=" + empty,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=us-west-2", "AWS_EC2_METADATA_DISABLED=true",
		execcred.EnvExecInfo + `={"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`,
	}
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(filepath.Join(bin, "iamgate"), args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}

	code, first, errs := run("token", "-i", "c1")
	if code != 0 || !strings.Contains(first, `"token":"k8s-aws-v1.`) {
		t.Fatalf("miss via the core: exit %d stdout %q stderr %q", code, first, errs)
	}
	if _, err := os.Stat(filepath.Join(home, ".kube", "cache", "iamgate")); err != nil {
		t.Fatalf("default cache dir not created: %v", err)
	}
	// aws-iam-authenticator's global flags: -c goes through the core, which
	// takes clusterID from the file (and hits the cache: same document).
	cfg := filepath.Join(home, "aia-config.yaml")
	if err := os.WriteFile(cfg, []byte("clusterID: c1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run("-l", "json", "token", "-c", cfg, "--feature-gates=SSORoleMatch=true"); code != 0 || out != first {
		t.Fatalf("token -c: exit %d stderr %q; same doc: %v", code, errs, out == first)
	}
	missing := filepath.Join(home, "no-such-config.yaml")
	if code, _, errs := run("token", "-c", missing); code == 0 || !strings.Contains(errs, missing) {
		t.Fatalf("token -c missing file: exit %d stderr %q", code, errs)
	}
	if err := os.Remove(filepath.Join(bin, "iamgate-core")); err != nil {
		t.Fatal(err)
	}
	code, second, errs := run("token", "-i", "c1")
	if code != 0 || second != first || errs != "" {
		t.Fatalf("hit without the core: exit %d stderr %q; same doc: %v", code, errs, second == first)
	}
	code, out, errs := run("-l", "json", "token", "-i", "c1", "--token-only")
	if code != 0 || !strings.HasPrefix(out, "k8s-aws-v1.") || !strings.Contains(first, strings.TrimSpace(out)) || errs != "" {
		t.Fatalf("-l json ... --token-only without the core: exit %d stdout %q stderr %q", code, out, errs)
	}
	code, out, errs = run("token", "-i", "c2")
	if code == 0 || out != "" || !strings.Contains(errs, "install both binaries") {
		t.Fatalf("miss without the core: exit %d stdout %q stderr %q", code, out, errs)
	}
	if code, _, errs = run("version"); code == 0 || !strings.Contains(errs, "iamgate-core") {
		t.Fatalf("other commands need the core: exit %d stderr %q", code, errs)
	}
}
