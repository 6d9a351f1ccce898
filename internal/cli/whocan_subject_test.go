package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// A templated username is never taken as a user; fixed groups are kept,
// templated ones dropped; {{AccountID}} is filled in when the entry names
// its account.
func TestWhoCanSubjectOfTemplates(t *testing.T) {
	for _, tc := range []struct {
		e        mapping.Entry
		user     string
		groups   []string
		dropped  []string
		could    []string // usernames the template may produce
		couldNot []string
	}{
		{e: mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/a", Username: "alice", Groups: []string{"g"}},
			user: "alice", groups: []string{"g"}},
		{e: mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/a", Username: "ci:{{SessionName}}", Groups: []string{"ci", "team-{{SessionName}}"}},
			groups: []string{"ci"}, dropped: []string{"team-{{SessionName}}"}, could: []string{"ci:job-1", "ci:x.y"}, couldNot: []string{"ci:", "xci:job", "alice"}},
		{e: mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/a", Username: "acct-{{AccountID}}"},
			user: "acct-111122223333"},
		{e: mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/ci-*", Username: "{{AccountID}}:{{SessionName}}"},
			could: []string{"111122223333:s"}, couldNot: []string{"444455556666:s"}},
		{e: mapping.Entry{Kind: mapping.KindAccount, Account: "111122223333"},
			could: []string{"arn:aws:iam::111122223333:user/bob", "arn:aws:sts::111122223333:assumed-role/R/s"}, couldNot: []string{"bob"}},
		{e: mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/Node", Username: "system:node:{{EC2PrivateDNSName}}", Groups: []string{"system:nodes"}},
			groups: []string{"system:nodes"}, could: []string{"system:node:ip-10-0-0-1.ec2.internal"}},
	} {
		s := subjectOf(tc.e)
		if s.sub.User != tc.user || !slices.Equal(s.sub.Groups, tc.groups) || !slices.Equal(s.dropped, tc.dropped) {
			t.Errorf("%+v: subject %+v dropped %v", tc.e, s.sub, s.dropped)
		}
		if (s.userPattern == nil) != (tc.user != "") {
			t.Errorf("%+v: pattern %v with user %q", tc.e, s.userPattern, tc.user)
		}
		for _, u := range tc.could {
			if s.userPattern == nil || !s.userPattern.MatchString(u) {
				t.Errorf("%+v: %q should be a possible username", tc.e, u)
			}
		}
		for _, u := range tc.couldNot {
			if s.userPattern != nil && s.userPattern.MatchString(u) {
				t.Errorf("%+v: %q cannot be produced", tc.e, u)
			}
		}
	}
}

func TestWhoCanBadInput(t *testing.T) {
	dir := t.TempDir()
	closed := filepath.Join(dir, "closed.kubeconfig")
	if err := os.WriteFile(closed, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	bob := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(bob, []byte("server:\n  mapUsers:\n  - userarn: arn:aws:iam::111122223333:user/bob\n    username: bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"who-can", "get"}, "who-can takes VERB and RESOURCE"},
		{[]string{"who-can", "get", "pods"}, "pass --kubeconfig"},
		{[]string{"who-can", "get", "pods", "-o", "yaml", "--kubeconfig", closed}, "unsupported output format"},
		{[]string{"who-can", "get", "a/b/c", "--kubeconfig", closed}, "want RESOURCE[.GROUP][/SUBRESOURCE]"},
		{[]string{"who-can", "get", "pods", "--kubeconfig", closed}, "cluster unreachable"},
		{[]string{"who-can", "get", "pods", "--kubeconfig", filepath.Join(dir, "missing")}, "missing"},
		{[]string{"explain", "arn:aws:iam::111122223333:user/bob", "-c", bob, "--backend-mode", "MountedFile", "--kubeconfig", closed}, "cluster unreachable"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code == 0 || out != "" || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line with %q", tc.args, code, out, errs, tc.want)
		}
	}
}
