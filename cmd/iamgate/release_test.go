package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMakeBuildStampsBothBinaries builds with the Makefile, as a release
// does: the version, commit and commit time reach "iamgate --version" and
// "version -o json" in both binaries, and the lean front hands --version and
// shell completion to the core.
func TestMakeBuildStampsBothBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries with make")
	}
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = root, append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			t.Skipf("git %v: %v (not a git checkout?)", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	commit := git("rev-parse", "HEAD")
	date := git("log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ")

	bin := t.TempDir()
	mk := exec.Command("make", "-s", "-C", root, "build", "BIN="+bin)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	home := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + home}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}

	for _, name := range []string{"iamgate", "iamgate-core"} {
		line := run(name, "--version")
		if !strings.HasPrefix(line, "iamgate ") || !strings.Contains(line, "(commit "+commit[:12]+", "+date+")") {
			t.Errorf("%s --version = %q, want commit %s and date %s", name, line, commit[:12], date)
		}
		var doc map[string]string
		out := run(name, "version", "-o", "json")
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%s version -o json: %v: %q", name, err, out)
		}
		if doc["Commit"] != commit || doc["Date"] != date || doc["Version"] == "" ||
			!strings.Contains(doc["BuildFlags"], "-trimpath=true") {
			t.Errorf("%s version -o json = %s; want commit %s, date %s and -trimpath", name, out, commit, date)
		}
	}

	if out := run("iamgate", "completion", "bash"); !strings.Contains(out, "__start_iamgate") {
		t.Errorf("completion bash through the front: %.200q", out)
	}
	// What the shell runs on <TAB> after "iamgate token --re".
	if out := run("iamgate", "__complete", "token", "--re"); !strings.Contains(out, "--region") {
		t.Errorf("__complete token through the front: %q", out)
	}
}
