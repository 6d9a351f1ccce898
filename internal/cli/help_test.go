package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runCLI runs the real command tree in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Deps{}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func helpOf(t *testing.T, path ...string) string {
	t.Helper()
	code, out, errs := runCLI(t, append(path, "--help")...)
	if code != 0 {
		t.Fatalf("%v --help: exit %d stderr %q", path, code, errs)
	}
	return out
}

// commandPaths lists every command in the tree, as argument lists.
func commandPaths() [][]string {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(NewRootCommand(Deps{}, Streams{}), nil)
	return paths
}

// flagLine finds a flag's line in a help text's flag listing.
func flagLine(help, flag string) (string, bool) {
	re := regexp.MustCompile(`(?m)^ {2}(-\w, |    )` + regexp.QuoteMeta(flag) + `([ \[].*)?$`)
	m := re.FindString(help)
	return m, m != ""
}

// TestHelpShowsBooleansPlainly: pflag 1.1 prints a switch as
// "--force[=true|false]"; help reads "--force", as kubectl's does.
func TestHelpShowsBooleansPlainly(t *testing.T) {
	for _, path := range commandPaths() {
		if out := helpOf(t, path...); strings.Contains(out, "[=true|false]") {
			t.Errorf("%v --help shows a boolean with a value:\n%s", path, out)
		}
	}
	for _, tc := range []struct{ cmd, flag string }{
		{"init", "--force"}, {"init", "--kubeconfig-pregenerated"}, {"token", "--token-only"}, {"version", "--short"},
	} {
		line, ok := flagLine(helpOf(t, tc.cmd), tc.flag)
		if !ok || !regexp.MustCompile(regexp.QuoteMeta(tc.flag)+` {3,}\S`).MatchString(line) {
			t.Errorf("%s --help: %s is not listed as a plain switch: %q", tc.cmd, tc.flag, line)
		}
	}
	// Still a boolean: an explicit value parses.
	e := newInitEnv(t)
	if e.run("--force=false", "--kubeconfig-pregenerated=true") != 0 {
		t.Fatalf("--force=false: exit %d stderr %s", e.code, e.stderr)
	}
}

// TestInitHelpLeavesOutServerOnlyFlags: init's help lists what init uses;
// server's lists the rest. init still accepts a server's argument list.
func TestInitHelpLeavesOutServerOnlyFlags(t *testing.T) {
	initHelp, serverHelp := helpOf(t, "init"), helpOf(t, "server")
	for _, f := range []string{"--backend-mode", "--awsiamconfig", "--ec2-describeInstances-qps", "--ec2-describeInstances-burst",
		"--master", "--kubeconfig", "--health-port", "--sts-region", "--partition"} {
		if line, ok := flagLine(initHelp, f); ok {
			t.Errorf("init --help lists %s: %q", f, line)
		}
		if _, ok := flagLine(serverHelp, f); !ok {
			t.Errorf("server --help lacks %s", f)
		}
	}
	for _, f := range []string{"--state-dir", "--generate-kubeconfig", "--kubeconfig-pregenerated", "--hostname", "--address", "--port", "--force", "--cluster-id", "--config"} {
		if _, ok := flagLine(initHelp, f); !ok {
			t.Errorf("init --help lacks %s", f)
		}
	}
	e := newInitEnv(t)
	if e.run("--backend-mode", "MountedFile", "--health-port", "31999", "--master", "https://127.0.0.1:1", "--sts-region", "us-east-1",
		"--kubeconfig", filepath.Join(t.TempDir(), "admin.yaml")) != 0 {
		t.Fatalf("init with server flags: exit %d stderr %s", e.code, e.stderr)
	}
	// Hidden is not ignored: a bad value is still refused.
	if e.run("--backend-mode", "NoSuchBackend") == 0 || !strings.Contains(e.stderr, "NoSuchBackend") {
		t.Fatalf("init --backend-mode NoSuchBackend: exit %d stderr %s", e.code, e.stderr)
	}
}

// TestHelpGroupsAIAGlobalFlags: the root help names aws-iam-authenticator's
// global flags and the commands that take them; each of those commands
// lists them in a section of their own.
func TestHelpGroupsAIAGlobalFlags(t *testing.T) {
	root := helpOf(t)
	for _, want := range []string{"aws-iam-authenticator's global flags", "-c, --config file", "-l, --log-format",
		"--feature-gates gates", "-i, --cluster-id ID", "init, server, token, verify, version", "Examples:", "completion"} {
		if !strings.Contains(root, want) {
			t.Errorf("iamgate --help lacks %q:\n%s", want, root)
		}
	}
	section := regexp.MustCompile(`(?s)\n\nFlags:\n(.*?)\n\naws-iam-authenticator's global flags \(also accepted before "\w+"\):\n(.*)$`)
	for _, name := range aiaCommands {
		m := section.FindStringSubmatch(helpOf(t, name))
		if m == nil {
			t.Errorf("%s --help has no section for aws-iam-authenticator's global flags", name)
			continue
		}
		for _, f := range []string{"--config", "--log-format", "--feature-gates"} {
			if _, own := flagLine(m[1], f); own {
				t.Errorf("%s --help lists %s among its own flags", name, f)
			}
			if _, global := flagLine(m[2], f); !global {
				t.Errorf("%s --help lacks %s among the global flags", name, f)
			}
		}
		if _, own := flagLine(m[1], "--cluster-id"); !own {
			t.Errorf("%s --help: -i belongs with the command's own flags", name)
		}
	}
	if strings.Contains(helpOf(t, "kubeconfig"), "global flags") {
		t.Error("kubeconfig is not an aws-iam-authenticator command; its help must not claim its flags")
	}
}

// TestHelpHasExamples: every command shows an example (verify and cache are
// not covered yet).
func TestHelpHasExamples(t *testing.T) {
	for _, path := range [][]string{{}, {"token"}, {"server"}, {"init"}, {"version"}, {"kubeconfig"},
		{"resolve-ids"}, {"completion"}, {"completion", "bash"}, {"completion", "zsh"}, {"completion", "fish"}} {
		if out := helpOf(t, path...); !strings.Contains(out, "\nExamples:\n  ") {
			t.Errorf("%v --help has no example", path)
		}
	}
}

// TestRootVersionFlag: "iamgate --version" prints the line "iamgate
// version" prints.
func TestRootVersionFlag(t *testing.T) {
	code, flag, errs := runCLI(t, "--version")
	_, cmd, _ := runCLI(t, "version")
	if code != 0 || flag != cmd || !strings.HasPrefix(flag, "iamgate "+Version+" (commit ") {
		t.Fatalf("--version: exit %d stdout %q stderr %q; version prints %q", code, flag, errs, cmd)
	}
	if code, out, _ := runCLI(t); code != 0 || !strings.Contains(out, "Available Commands:") {
		t.Fatalf("no arguments: exit %d, want the help:\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "no-such-command"); code == 0 || !strings.Contains(errs, `unknown command "no-such-command"`) {
		t.Fatalf("unknown command: exit %d stderr %q", code, errs)
	}
}

// TestCompletion: cobra's scripts for each shell, and the value completion
// they ask the binary for.
func TestCompletion(t *testing.T) {
	for sh, want := range map[string]string{"bash": "__start_iamgate", "zsh": "#compdef iamgate", "fish": "complete -c iamgate"} {
		if code, out, errs := runCLI(t, "completion", sh); code != 0 || !strings.Contains(out, want) {
			t.Errorf("completion %s: exit %d stderr %q, no %q in the script", sh, code, errs, want)
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"ver"}, []string{"version"}},
		{[]string{"version", "-o", ""}, []string{"json", "yaml"}},
		{[]string{"server", "--backend-mode", ""}, []string{"MountedFile", "EKSConfigMap", "CRD", "DynamicFile"}},
		{[]string{"token", "-l", ""}, []string{"text", "json"}},
		{[]string{"server", "--partition", ""}, []string{"aws", "aws-cn", "aws-us-gov"}},
	} {
		code, out, errs := runCLI(t, append([]string{"__complete"}, tc.args...)...)
		got := strings.Fields(out)
		for _, w := range tc.want {
			if code != 0 || !slices.Contains(got, w) {
				t.Errorf("__complete %q: exit %d, got %q (stderr %q), want %q", tc.args, code, out, errs, w)
			}
		}
	}
}
