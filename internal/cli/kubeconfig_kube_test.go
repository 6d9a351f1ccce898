package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// buildIamgate builds the two client binaries into a fresh directory.
func buildIamgate(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iamgate", "iamgate-core"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

// kubectlWith runs the installed kubectl on one kubeconfig.
func kubectlWith(t *testing.T, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	bin, lookErr := exec.LookPath("kubectl")
	if lookErr != nil {
		t.Fatalf("kubectl not installed: %v", lookErr)
	}
	cmd := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// TestAPIServerKubeconfigWithKubectl writes a kubeconfig for a real
// kube-apiserver with --server/--certificate-authority, then has kubectl read
// it, run "iamgate token" and send the token. The apiserver has no token
// webhook, so it answers 401 ("You must be logged in to the server"): proof
// that kubectl accepted the file, trusted the CA, ran the plugin and reached
// the server with a bearer token (without one it would answer 403 for
// system:anonymous).
func TestAPIServerKubeconfigWithKubectl(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	bin := buildIamgate(t)
	e := newKubeconfigEnv(t)
	e.staticKeys()
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	path := filepath.Join(e.dir, "kubeconfig")

	e.mustRun("kubeconfig", "--cluster", "lab", "--server", env.Host, "--certificate-authority", env.CAFile,
		"--region", "us-west-2", "--kubeconfig", path)
	e.mustRun("kubeconfig", "--cluster", "lab", "--server", env.Host, "--certificate-authority", env.CAFile,
		"--region", "us-west-2", "--kubeconfig", path, "--exec-api-version", "v1", "--alias", "lab-v1")

	// kubectl reads the file: the minified view is the current context's.
	out, errOut, err := kubectlWith(t, path, "config", "view", "--minify", "-o", "json")
	if err != nil {
		t.Fatalf("kubectl config view --minify: %v\n%s", err, errOut)
	}
	var view struct {
		CurrentContext string `json:"current-context"`
		Clusters       []struct {
			Cluster struct{ Server string } `json:"cluster"`
		} `json:"clusters"`
		Users []struct {
			Name string
			User struct {
				Exec struct {
					APIVersion      string `json:"apiVersion"`
					Command         string `json:"command"`
					Args            []string
					InteractiveMode string `json:"interactiveMode"`
				} `json:"exec"`
			} `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(out), &view); err != nil {
		t.Fatalf("config view output: %v\n%s", err, out)
	}
	if view.CurrentContext != "lab-v1" || len(view.Clusters) != 1 || view.Clusters[0].Cluster.Server != env.Host ||
		len(view.Users) != 1 || view.Users[0].User.Exec.Command != "iamgate" ||
		view.Users[0].User.Exec.APIVersion != "client.authentication.k8s.io/v1" || view.Users[0].User.Exec.InteractiveMode != "IfAvailable" {
		t.Errorf("kubectl config view --minify:\n%s", out)
	}

	// Both exec API versions reach the server with a token.
	for _, ctx := range []string{"lab", "lab-v1"} {
		_, errOut, err := kubectlWith(t, path, "--context", ctx, "get", "namespaces")
		if err == nil {
			t.Fatalf("%s: request succeeded without a webhook", ctx)
		}
		// kubectl's wording for a 401.
		if !strings.Contains(errOut, "You must be logged in to the server") || strings.Contains(errOut, "getting credentials") ||
			strings.Contains(errOut, "certificate") || strings.Contains(errOut, "connection refused") {
			t.Errorf("%s: want a 401 from the apiserver, got: %s", ctx, errOut)
		}
	}

	// The plugin ran: its token is in the cache (both entries run the same
	// command line, so they share one).
	if files := e.tokenFiles(); len(files) != 1 {
		t.Errorf("token cache holds %d tokens, want 1 (did kubectl run iamgate token?)", len(files))
	}

	// The check above is meaningful: kubectl refuses a v1 exec entry once
	// interactiveMode is gone, before contacting anyone.
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos["lab-v1"].Exec.InteractiveMode = ""
	broken := filepath.Join(e.dir, "broken")
	if err := clientcmd.WriteToFile(*cfg, broken); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := kubectlWith(t, broken, "--context", "lab-v1", "get", "namespaces"); err == nil ||
		!strings.Contains(errOut, "interactiveMode must be specified") {
		t.Errorf("kubectl accepted a v1 entry without interactiveMode: %v %s", err, errOut)
	}
}
