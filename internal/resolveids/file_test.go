package resolveids

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configFixture creates the principals behind the config file below and
// returns the file's text and the IDs IAM gave.
type configFixture struct {
	*fixture
	text                             string
	adminID, recreatedID, oldID, aID string
	pinnedID                         string
}

func newConfigFixture(t *testing.T) *configFixture {
	f := &configFixture{fixture: newFixture(t)}
	f.adminID = f.role(f.name("admin"), "/teams/")
	f.oldID = f.role(f.name("ci"), "/")
	f.deleteRole(f.name("ci"))
	f.recreatedID = f.role(f.name("ci"), "/") // deleted and re-created: a new ID
	f.pinnedID = f.role(f.name("pinned"), "/")
	f.aID = f.user(f.name("alice"), "/ops/")
	f.user(f.name("bob"), "/eng/")
	r := strings.NewReplacer("SUFFIX", f.suffix, "OLDID", f.oldID, "PINNEDID", f.pinnedID)
	f.text = r.Replace(`# iamgate config for prod
clusterID: prod   # the cluster

server:
  port: 21362

  # Who may get in.
  mapRoles:
  # Admins.
  - rolearn: arn:aws:iam::123456789012:role/teams/admin-SUFFIX   # path kept
    username: "admin:{{SessionName}}"
    groups:
    - system:masters

  - rolearn: arn:aws:iam::123456789012:role/gone-SUFFIX
    username: gone
  - rolearn: arn:aws:iam::123456789012:role/ci-SUFFIX
    username: ci
    userid: "OLDID"     # pinned before the role was re-created
  - rolearn: arn:aws:iam::123456789012:role/pinned-SUFFIX
    username: pinned
    userid: PINNEDID
  - rolearn: arn:aws:iam::444455556666:role/elsewhere
    username: elsewhere
  - rolearn: arn:aws:iam::123456789012:role/dev-*
    username: dev
  - rolarn: arn:aws:iam::123456789012:role/typo
    username: typo
  mapUsers:
    - userarn: arn:aws:iam::123456789012:user/ops/alice-SUFFIX
      username: alice
      # alice runs the on-call rota
    - userarn: arn:aws:iam::123456789012:root
      username: root
    - userarn: arn:aws:iam::123456789012:user/bob-SUFFIX
      username: bob
  mapAccounts:
  - "123456789012"
`)
	return f
}

func statuses(r *Report) map[string]Status {
	m := map[string]Status{}
	for _, c := range r.Changes {
		m[c.Where] = c.Status
	}
	return m
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newConfigFixture(t)
	path := writeFile(t, "config.yaml", f.text)
	r, err := ResolveFile(context.Background(), path, f.lookup, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{
		"server.mapRoles[0]": Filled, "server.mapRoles[1]": NotFound, "server.mapRoles[2]": Differs,
		"server.mapRoles[3]": UpToDate, "server.mapRoles[4]": Skipped, "server.mapRoles[5]": Skipped,
		"server.mapRoles[6]": Skipped,
		"server.mapUsers[0]": Filled, "server.mapUsers[1]": Skipped, "server.mapUsers[2]": NotFound,
	}
	got := statuses(r)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: status %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d entries reported, want %d", len(got), len(want))
	}
	if r.Written || readFile(t, path) != f.text {
		t.Fatal("a dry run wrote the file")
	}
	var out bytes.Buffer
	r.Print(&out, Options{}, false)
	for _, s := range []string{
		"+     userid: " + f.adminID,
		"!     userid: " + f.oldID + ", but IAM's is " + f.recreatedID,
		"?     IAM has no role named \"gone-" + f.suffix + "\"",
		"#     skipped: in account aws:444455556666",
		"#     skipped: a pattern",
		`#     skipped: not used by iamgate: unknown field "rolarn"`,
		"#     skipped: an account root",
		"(another path): this entry never matches it",
		"summary: 2 to fill, 1 up to date, 1 differing from IAM (not changed), 2 not found in IAM, 4 skipped; dry run",
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	if !r.NeedsAttention() || !r.Pending() {
		t.Error("want pending changes and attention")
	}
}

func TestWriteFillsIDsKeepingEverythingElse(t *testing.T) {
	f := newConfigFixture(t)
	path := writeFile(t, "config.yaml", f.text)
	r, err := ResolveFile(context.Background(), path, f.lookup, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Written {
		t.Fatal("not written")
	}
	// Exactly two lines added, at the entries' indentation; every other
	// byte (comments, blank lines, quoting, the differing userid) kept.
	want := strings.Replace(f.text, "    - system:masters\n",
		"    - system:masters\n    userid: "+f.adminID+"\n", 1)
	want = strings.Replace(want, "      username: alice\n",
		"      username: alice\n      userid: "+f.aID+"\n", 1)
	if got := readFile(t, path); got != want {
		t.Fatalf("file after --write:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed: %v %v", fi.Mode(), err)
	}

	// A second run finds nothing more to do.
	r, err = ResolveFile(context.Background(), path, f.lookup, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Pending() || r.Written || r.Count(UpToDate) != 3 {
		t.Fatalf("second run: %+v", statuses(r))
	}
}

func TestOverwriteReplacesDifferingID(t *testing.T) {
	f := newConfigFixture(t)
	path := writeFile(t, "config.yaml", f.text)
	r, err := ResolveFile(context.Background(), path, f.lookup, Options{Write: true, Overwrite: true})
	if err != nil {
		t.Fatal(err)
	}
	if statuses(r)["server.mapRoles[2]"] != Replaced {
		t.Fatalf("statuses %v", statuses(r))
	}
	got := readFile(t, path)
	if !strings.Contains(got, `    userid: "`+f.recreatedID+`"     # pinned before the role was re-created`) ||
		strings.Contains(got, f.oldID) {
		t.Fatalf("userid not replaced in place:\n%s", got)
	}
}

func TestJSONDynamicFileStaysJSON(t *testing.T) {
	f := newFixture(t)
	id := f.role(f.name("app"), "/")
	text := `{
    "clusterID": "prod",
    "version": "7",
    "mapRoles": [
        {"rolearn": "arn:aws:iam::123456789012:role/app-` + f.suffix + `", "username": "app", "groups": ["apps"]}
    ],
    "mapUsers": []
}
`
	path := writeFile(t, "dynamic.json", text)
	if _, err := ResolveFile(context.Background(), path, f.lookup, Options{Write: true}); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, path)
	var doc struct {
		ClusterID string `json:"clusterID"`
		MapRoles  []struct {
			UserID string `json:"userid"`
		} `json:"mapRoles"`
	}
	if err := json.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatalf("not JSON any more: %v\n%s", err, got)
	}
	if doc.ClusterID != "prod" || len(doc.MapRoles) != 1 || doc.MapRoles[0].UserID != id {
		t.Fatalf("file:\n%s", got)
	}
	if !strings.HasPrefix(got, "{\n    \"clusterID\": \"prod\",\n    \"version\": \"7\",\n    \"mapRoles\"") {
		t.Fatalf("order or indentation lost:\n%s", got)
	}
}

func TestConfigMapManifestAndFlowEntries(t *testing.T) {
	f := newFixture(t)
	id := f.role(f.name("node"), "/")
	text := `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  # nodes and admins
  mapRoles: |
    - {rolearn: "arn:aws:iam::123456789012:role/node-` + f.suffix + `", username: "system:node:{{EC2PrivateDNSName}}", groups: [system:nodes]}  # node role
  mapAccounts: |
    - "123456789012"
`
	path := writeFile(t, "aws-auth.yaml", text)
	r, err := ResolveFile(context.Background(), path, f.lookup, Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Changes[0]; c.Where != "data.mapRoles[0]" || c.Line != 9 || c.Status != Filled {
		t.Fatalf("change %+v", c)
	}
	got := readFile(t, path)
	for _, s := range []string{"# nodes and admins", "# node role", "userid: " + id, "mapAccounts: |\n    - \"123456789012\""} {
		if !strings.Contains(got, s) {
			t.Errorf("lacks %q:\n%s", s, got)
		}
	}
}

// failingIAM answers every call with an error other than NoSuchEntity.
func TestFailedLookupWritesNothing(t *testing.T) {
	text := "server:\n  mapRoles:\n  - rolearn: arn:aws:iam::123456789012:role/a\n    username: a\n"
	path := writeFile(t, "config.yaml", text)
	l := NewLookup(&countingIAM{err: errors.New("AccessDenied")}, "aws", acct)
	r, err := ResolveFile(context.Background(), path, l, Options{Write: true})
	if !errors.Is(err, ErrLookupFailed) || r == nil || r.Count(Failed) != 1 {
		t.Fatalf("err %v, report %+v", err, r)
	}
	if readFile(t, path) != text {
		t.Fatal("file changed")
	}
}

func TestUnsupportedDocuments(t *testing.T) {
	l := NewLookup(&countingIAM{}, "aws", acct)
	for _, tc := range []struct{ name, text, want string }{
		{"awsiamconfig", "apiVersion: anywhere.eks.amazonaws.com/v1alpha1\nkind: AWSIamConfig\nspec: {}\n", "use --configmap"},
		{"other kind", "kind: Secret\n", `kind "Secret"`},
		{"no lists", "clusterID: x\nserver:\n  port: 1\n", "no server.mapRoles or server.mapUsers"},
		{"two documents", "mapRoles: []\n---\nmapUsers: []\n", "more than one YAML document"},
		{"not a list", "mapRoles: {a: b}\n", "must be a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "f.yaml", tc.text)
			_, err := ResolveFile(context.Background(), path, l, Options{Write: true})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestWriteAtomicRefusesChangedFileAndFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.yaml")
	link := filepath.Join(dir, "link.yaml")
	if err := os.WriteFile(target, []byte("new content by someone else\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(link, []byte("what we read\n"), []byte("ours\n")); err == nil {
		t.Fatal("overwrote a file that changed since it was read")
	}
	if err := writeAtomic(link, []byte("new content by someone else\n"), []byte("ours\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a file")
	}
	if readFile(t, target) != "ours\n" {
		t.Fatal("target not rewritten")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("temporary files left behind: %v", ents)
	}
}
