package kubeconfig

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// existing is a kubeconfig a user already has: another cluster, user and
// context, preferences, and a current-context of its own.
const existing = `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster:
    server: https://other.example.com
    insecure-skip-tls-verify: true
users:
- name: other-user
  user:
    token: not-a-real-token
contexts:
- name: other-ctx
  context:
    cluster: other
    user: other-user
    namespace: apps
current-context: other-ctx
preferences:
  colors: true
`

func entry() Entry {
	return Entry{
		ClusterName: "arn:aws:eks:us-west-2:111122223333:cluster/prod",
		Server:      "https://prod.example.com",
		CAData:      []byte("-----BEGIN CERTIFICATE-----\n...\n"),
		ClusterID:   "prod",
		Region:      "us-west-2",
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestUpdateMergesAndKeepsOtherEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, existing, 0o644)

	if _, created, err := Update(path, entry(), false); err != nil || !created {
		t.Fatalf("Update: created=%v err=%v", created, err)
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Clusters["other"] == nil || got.Clusters["other"].Server != "https://other.example.com" || !got.Clusters["other"].InsecureSkipTLSVerify {
		t.Errorf("other cluster lost or changed: %+v", got.Clusters["other"])
	}
	if got.AuthInfos["other-user"] == nil || got.AuthInfos["other-user"].Token != "not-a-real-token" {
		t.Errorf("other user lost or changed: %+v", got.AuthInfos["other-user"])
	}
	if c := got.Contexts["other-ctx"]; c == nil || c.Namespace != "apps" || c.AuthInfo != "other-user" {
		t.Errorf("other context lost or changed: %+v", c)
	}
	if !got.Preferences.Colors {
		t.Error("preferences lost")
	}
	name := entry().ClusterName
	if got.CurrentContext != name {
		t.Errorf("current-context = %q, want %q", got.CurrentContext, name)
	}
	if c := got.Contexts[name]; c == nil || c.Cluster != name || c.AuthInfo != name {
		t.Errorf("new context = %+v", c)
	}
	if c := got.Clusters[name]; c == nil || c.Server != "https://prod.example.com" || string(c.CertificateAuthorityData) != string(entry().CAData) {
		t.Errorf("new cluster = %+v", c)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode = %o, want 600", m)
	}

	// A second run updates in place: same entries, nothing duplicated.
	e := entry()
	e.Server = "https://moved.example.com"
	if _, created, err := Update(path, e, false); err != nil || created {
		t.Fatalf("second Update: created=%v err=%v", created, err)
	}
	got, _ = clientcmd.LoadFromFile(path)
	if len(got.Clusters) != 2 || len(got.AuthInfos) != 2 || len(got.Contexts) != 2 {
		t.Errorf("entries after update: %d clusters, %d users, %d contexts", len(got.Clusters), len(got.AuthInfos), len(got.Contexts))
	}
	if got.Clusters[name].Server != "https://moved.example.com" {
		t.Errorf("server not updated: %s", got.Clusters[name].Server)
	}
}

// TestUpdateMissingDirectory: without createDir nothing is created and the
// error names the directory; with it, only the file's own directory is.
func TestUpdateMissingDirectory(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "nonexistent", "dir", "cfg")
	_, _, err := Update(path, entry(), false)
	if err == nil || !strings.Contains(err.Error(), filepath.Dir(path)+" does not exist") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "nonexistent")); !os.IsNotExist(err) {
		t.Fatalf("a directory was created: %v", err)
	}
	if _, _, err := Update(path, entry(), true); err == nil {
		t.Fatal("createDir made the parents too")
	}
	if _, err := os.Stat(filepath.Join(root, "nonexistent")); !os.IsNotExist(err) {
		t.Fatalf("a parent directory was created: %v", err)
	}
}

func TestUpdateCreatesMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".kube", "config")
	if _, _, err := Update(path, entry(), true); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("mode = %o, want 600", m)
	}
	if m := mode(t, filepath.Dir(path)); m != 0o700 {
		t.Errorf("new directory mode = %o, want 700", m)
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".config.tmp*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestContextNamesAndNamespaceKept(t *testing.T) {
	cfg := clientcmdapi.NewConfig()
	cfg.Contexts["prod-admin"] = &clientcmdapi.Context{Cluster: "x", AuthInfo: "y", Namespace: "team-a"}
	e := entry()
	e.Context = "prod-admin"
	if Apply(cfg, e) {
		t.Error("existing context reported as new")
	}
	c := cfg.Contexts["prod-admin"]
	if c.Namespace != "team-a" || c.Cluster != e.ClusterName || c.AuthInfo != "prod-admin" {
		t.Errorf("context = %+v", c)
	}
	if cfg.AuthInfos["prod-admin"] == nil || cfg.Clusters[e.ClusterName] == nil {
		t.Error("user should be named after the alias, cluster after ClusterName")
	}
	e.UserName = "me"
	Apply(cfg, e)
	if cfg.Contexts["prod-admin"].AuthInfo != "me" || cfg.AuthInfos["me"] == nil {
		t.Errorf("user alias not used: %+v", cfg.Contexts["prod-admin"])
	}
}

func TestExecConfig(t *testing.T) {
	e := entry()
	x := e.ExecConfig()
	if x.Command != "iamgate" || x.APIVersion != ExecAPIV1Beta1 || x.ProvideClusterInfo {
		t.Errorf("exec = %+v", x)
	}
	if want := []string{"token", "--cluster-id", "prod", "--region", "us-west-2"}; !slices.Equal(x.Args, want) {
		t.Errorf("args = %q, want %q", x.Args, want)
	}
	if len(x.Env) != 0 {
		t.Errorf("env without a profile = %+v", x.Env)
	}
	if x.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode {
		t.Errorf("interactiveMode = %q", x.InteractiveMode)
	}

	e.Role, e.Profile, e.Region = "arn:aws:iam::111122223333:role/admin", "dev", ""
	x = e.ExecConfig()
	if want := []string{"token", "--cluster-id", "prod", "--role", "arn:aws:iam::111122223333:role/admin"}; !slices.Equal(x.Args, want) {
		t.Errorf("args = %q, want %q", x.Args, want)
	}
	if len(x.Env) != 1 || x.Env[0] != (clientcmdapi.ExecEnvVar{Name: "AWS_PROFILE", Value: "dev"}) {
		t.Errorf("env = %+v", x.Env)
	}
}

// TestExecV1PassesKubectlValidation encodes a v1 entry and checks it with
// clientcmd's validation, which rejects a v1 exec user that lacks
// interactiveMode (as kubectl does).
func TestExecV1PassesKubectlValidation(t *testing.T) {
	e := entry()
	e.CAData = nil
	e.ExecAPIVersion = ExecAPIV1
	cfg := clientcmdapi.NewConfig()
	Apply(cfg, e)
	data, err := Encode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"apiVersion: " + ExecAPIV1, "interactiveMode: IfAvailable", "provideClusterInfo: false", "command: iamgate"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("encoded kubeconfig lacks %q:\n%s", want, data)
		}
	}
	back, err := clientcmd.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.Validate(*back); err != nil {
		t.Fatalf("kubectl would reject it: %v", err)
	}
	// The check is real: the same entry without interactiveMode fails.
	back.AuthInfos[e.ClusterName].Exec.InteractiveMode = ""
	if err := clientcmd.Validate(*back); err == nil {
		t.Fatal("validation accepts a v1 exec entry without interactiveMode; the test proves nothing")
	}
}

func TestValidate(t *testing.T) {
	for name, mut := range map[string]func(*Entry){
		"no cluster name": func(e *Entry) { e.ClusterName = "" },
		"no cluster id":   func(e *Entry) { e.ClusterID = "" },
		"http server":     func(e *Entry) { e.Server = "http://prod.example.com" },
		"no host":         func(e *Entry) { e.Server = "https://" },
		"bad api version": func(e *Entry) { e.ExecAPIVersion = "client.authentication.k8s.io/v2" },
	} {
		e := entry()
		mut(&e)
		path := filepath.Join(t.TempDir(), "config")
		if _, _, err := Update(path, e, false); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: file written for an invalid entry", name)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	sep := string(filepath.ListSeparator)
	for _, tc := range []struct{ kubeconfig, want string }{
		{"/a/config" + sep + "/b/config", "/a/config"},
		{sep + "/b/config", "/b/config"},
		{"", filepath.Join("/home/u", ".kube", "config")},
	} {
		env := map[string]string{"KUBECONFIG": tc.kubeconfig, "HOME": "/home/u"}
		got, err := DefaultPath(func(k string) string { return env[k] })
		if err != nil || got != tc.want {
			t.Errorf("KUBECONFIG=%q: got %q, %v; want %q", tc.kubeconfig, got, err, tc.want)
		}
	}
}

func TestUpdateFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles-kubeconfig")
	writeFile(t, target, existing, 0o600)
	link := filepath.Join(dir, "config")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if _, _, err := Update(link, entry(), false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced by a file: %v", err)
	}
	got, err := clientcmd.LoadFromFile(target)
	if err != nil || got.Clusters[entry().ClusterName] == nil || got.Clusters["other"] == nil {
		t.Fatalf("target not updated: %v", err)
	}
}

// TestConcurrentUpdates runs many writers at once: with the lock, none of
// their read-modify-write cycles loses another's entry.
func TestConcurrentUpdates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, existing, 0o600)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := entry()
			e.ClusterName = fmt.Sprintf("cluster-%d", i)
			_, _, err := Update(path, e, false)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Contexts) != n+1 {
		t.Errorf("%d contexts after %d concurrent updates, want %d", len(got.Contexts), n, n+1)
	}
}

func TestLockHeldByAnotherWriter(t *testing.T) {
	old := LockTimeout
	LockTimeout = 200 * time.Millisecond
	t.Cleanup(func() { LockTimeout = old })
	path := filepath.Join(t.TempDir(), "config")
	writeFile(t, path, existing, 0o600)
	writeFile(t, path+".lock", "", 0o600) // e.g. kubectl config set, mid-write
	_, _, err := Update(path, entry(), false)
	if err == nil || !strings.Contains(err.Error(), ".lock") {
		t.Fatalf("err = %v, want a lock error naming the file", err)
	}
	if b, _ := os.ReadFile(path); string(b) != existing {
		t.Error("file changed while another writer held the lock")
	}
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Error("someone else's lock file was removed")
	}
}

func TestPreviewWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	cfg, created, err := Preview(path, entry())
	if err != nil || !created || cfg.CurrentContext != entry().ClusterName {
		t.Fatalf("Preview: %v %v %+v", created, err, cfg)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("Preview created the file")
	}
}
