package kube_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

// TestAssetsDirNamesTheBuildCommand: a machine without the binaries must
// fail with the command that builds them, never skip.
func TestAssetsDirNamesTheBuildCommand(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	_, err := kube.AssetsDir()
	if err == nil || !strings.Contains(err.Error(), "run make controlplane") {
		t.Fatalf("AssetsDir() error = %v, want one saying \"run make controlplane\"", err)
	}
}

// webhook is a minimal TokenReview endpoint: it accepts one token and
// records the apiVersion kube-apiserver sent.
type webhook struct {
	mu          sync.Mutex
	apiVersions []string
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var tr authnv1.TokenReview
	if err := json.NewDecoder(r.Body).Decode(&tr); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.apiVersions = append(w.apiVersions, tr.APIVersion)
	w.mu.Unlock()
	tr.Status = authnv1.TokenReviewStatus{}
	if tr.Spec.Token == "good-token" {
		tr.Status.Authenticated = true
		tr.Status.User = authnv1.UserInfo{Username: "webhook-user", Groups: []string{"webhook-group"}}
	}
	tr.Spec = authnv1.TokenReviewSpec{}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(&tr)
}

func (w *webhook) versions() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.apiVersions...)
}

// writeWebhookConfig writes the kubeconfig kube-apiserver reads with
// --authentication-token-webhook-config-file.
func writeWebhookConfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["webhook"] = &clientcmdapi.Cluster{Server: srv.URL + "/authenticate", CertificateAuthorityData: ca}
	cfg.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "webhook", AuthInfo: "apiserver"}
	cfg.CurrentContext = "webhook"
	path := filepath.Join(t.TempDir(), "webhook.yaml")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"), "HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestAPIServerStart checks every promise of Start against one real apiserver: the
// version built, the admin kubeconfig working with the installed kubectl,
// RBAC deciding (not AlwaysAllow), and bearer tokens going to the webhook as
// v1 TokenReviews.
func TestAPIServerStart(t *testing.T) {
	wh := &webhook{}
	srv := httptest.NewTLSServer(wh)
	t.Cleanup(srv.Close)
	env := kube.Start(t, kube.Options{WebhookConfigFile: writeWebhookConfig(t, srv)})

	v, err := env.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("server version: %v", err)
	}
	if v.GitVersion != kube.Version {
		t.Errorf("apiserver reports %q, want %q (version ldflags missing?)", v.GitVersion, kube.Version)
	}
	if _, err := env.Client.CoreV1().Namespaces().Get(context.Background(), metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
		t.Errorf("admin client: get namespace default: %v", err)
	}

	out, err := kubectl(t, "--kubeconfig", env.Kubeconfig, "auth", "whoami", "-o", "jsonpath={.status.userInfo.groups}")
	if err != nil || !strings.Contains(out, "system:masters") {
		t.Errorf("kubectl whoami with admin kubeconfig: %v\n%s", err, out)
	}
	out, err = kubectl(t, "--kubeconfig", env.Kubeconfig, "auth", "can-i", "list", "secrets", "--as", "nobody")
	if err == nil || strings.TrimSpace(out) != "no" {
		t.Errorf("can-i list secrets as an unbound user = %q (err %v), want \"no\": RBAC is not deciding", out, err)
	}

	asToken := func(tok string) []string {
		return []string{"--server", env.Host, "--certificate-authority", env.CAFile, "--token", tok}
	}
	out, err = kubectl(t, append(asToken("good-token"), "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")...)
	if err != nil || out != "webhook-user" {
		t.Errorf("whoami with a token the webhook accepts = %q (err %v), want webhook-user", out, err)
	}
	out, err = kubectl(t, append(asToken("bad-token"), "auth", "whoami")...)
	if err == nil || !strings.Contains(out, "Unauthorized") {
		t.Errorf("whoami with a token the webhook refuses = %q (err %v), want Unauthorized", out, err)
	}
	vs := wh.versions()
	if len(vs) == 0 {
		t.Fatal("the webhook was never called")
	}
	for _, v := range vs {
		if v != "authentication.k8s.io/v1" {
			t.Errorf("webhook got TokenReview apiVersion %q, want authentication.k8s.io/v1", v)
		}
	}
}
