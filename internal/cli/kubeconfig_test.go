package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/iamgate/iamgate/internal/kubeconfig"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

// newKubeconfigEnv is a token env (own HOME, no AWS credentials from the
// machine) with no KUBECONFIG and no EKS endpoint override.
func newKubeconfigEnv(t *testing.T) *tokenEnvT {
	t.Helper()
	e := newTokenEnv(t)
	t.Setenv("KUBECONFIG", "")
	t.Setenv("AWS_ENDPOINT_URL_EKS", "")
	return e
}

func loadKubeconfig(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// selfSignedCA writes a fresh CA certificate to dir/ca.crt.
func selfSignedCA(t *testing.T, dir string) (path string, pemData []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "lab-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemData = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	path = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, pemData
}

// noAWS points every AWS endpoint at a server that fails the test if called.
func noAWS(t *testing.T) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("AWS called: %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_EKS", srv.URL)
}

// createMotoCluster creates an EKS cluster in moto and returns what moto's
// DescribeCluster says about it.
func createMotoCluster(t *testing.T, endpoint, name string) *ekstypes.Cluster {
	t.Helper()
	client := eks.NewFromConfig(aws.Config{
		Region:       "us-west-2",
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		BaseEndpoint: aws.String(endpoint),
	})
	ctx := context.Background()
	_, err := client.CreateCluster(ctx, &eks.CreateClusterInput{
		Name:               aws.String(name),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/eks-cluster"),
		ResourcesVpcConfig: &ekstypes.VpcConfigRequest{SubnetIds: []string{"subnet-1", "subnet-2"}},
	})
	if err != nil {
		t.Fatalf("moto CreateCluster: %v", err)
	}
	out, err := client.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("moto DescribeCluster: %v", err)
	}
	return out.Cluster
}

// TestKubeconfigFromEKS runs the command against moto's EKS: endpoint, CA
// and names come from DescribeCluster, the region from the profile.
func TestKubeconfigFromEKS(t *testing.T) {
	endpoint := moto.Start(t).URL
	e := newKubeconfigEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_EKS", endpoint)
	t.Setenv("AWS_ENDPOINT_URL_STS", endpoint)
	e.writeAWSFiles("[profile dev]\nregion = us-west-2\n",
		"[dev]\naws_access_key_id = "+testKeyID+"\naws_secret_access_key = "+testSecret+"\n")
	want := createMotoCluster(t, endpoint, "demo")

	e.mustRun("kubeconfig", "--cluster", "demo", "--profile", "dev")
	path := filepath.Join(e.dir, ".kube", "config")
	arn := aws.ToString(want.Arn)
	if !strings.Contains(e.stdout, "Added new context "+arn+" to "+path) {
		t.Errorf("stdout = %q", e.stdout)
	}
	// moto's CA is random bytes, not a certificate: written as EKS returned
	// it (as aws-cli does), with a warning.
	if !strings.Contains(e.stderr, "warning: EKS cluster demo") || !strings.Contains(e.stderr, "no PEM certificate") {
		t.Errorf("no warning about the CA: %q", e.stderr)
	}
	cfg := loadKubeconfig(t, path)
	if cfg.CurrentContext != arn {
		t.Errorf("current-context = %q, want the cluster ARN %q", cfg.CurrentContext, arn)
	}
	c := cfg.Clusters[arn]
	wantCA, _ := base64.StdEncoding.DecodeString(aws.ToString(want.CertificateAuthority.Data))
	if c == nil || c.Server != aws.ToString(want.Endpoint) || string(c.CertificateAuthorityData) != string(wantCA) {
		t.Fatalf("cluster entry = %+v, want endpoint %s and moto's CA", c, aws.ToString(want.Endpoint))
	}
	x := cfg.AuthInfos[arn].Exec
	if wantArgs := []string{"token", "--cluster-id", "demo", "--region", "us-west-2"}; !slices.Equal(x.Args, wantArgs) {
		t.Errorf("exec args = %q, want %q", x.Args, wantArgs)
	}
	if len(x.Env) != 1 || x.Env[0].Name != "AWS_PROFILE" || x.Env[0].Value != "dev" {
		t.Errorf("exec env = %+v, want AWS_PROFILE=dev", x.Env)
	}
	if x.APIVersion != kubeconfig.ExecAPIV1Beta1 || x.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode || x.ProvideClusterInfo {
		t.Errorf("exec = %+v", x)
	}
	if m := initPerm(t, path); m != 0o600 {
		t.Errorf("mode = %o, want 600", m)
	}

	// --role is used for DescribeCluster (moto's AssumeRole) and written for
	// every token; --alias names the context and the user.
	role := "arn:aws:iam::123456789012:role/k8s-admin"
	e.staticKeys()
	e.mustRun("kubeconfig", "--cluster", "demo", "--region", "us-west-2", "--role", role, "--alias", "demo-admin")
	cfg = loadKubeconfig(t, path)
	if cfg.CurrentContext != "demo-admin" || cfg.Contexts["demo-admin"].Cluster != arn || cfg.Contexts[arn] == nil {
		t.Errorf("contexts after --alias: current %q, %v", cfg.CurrentContext, cfg.Contexts)
	}
	x = cfg.AuthInfos["demo-admin"].Exec
	if wantArgs := []string{"token", "--cluster-id", "demo", "--region", "us-west-2", "--role", role}; !slices.Equal(x.Args, wantArgs) {
		t.Errorf("exec args = %q, want %q", x.Args, wantArgs)
	}
	if len(x.Env) != 0 {
		t.Errorf("AWS_PROFILE written without --profile: %+v", x.Env)
	}

	// A cluster EKS does not know.
	if code := e.run("kubeconfig", "--cluster", "nope", "--profile", "dev"); code == 0 ||
		!strings.Contains(e.stderr, `no cluster named "nope" in us-west-2`) {
		t.Errorf("missing cluster: exit %d, stderr %q", code, e.stderr)
	}
}

// TestKubeconfigFromFlags never calls AWS and writes a v1 exec entry.
func TestKubeconfigFromFlags(t *testing.T) {
	e := newKubeconfigEnv(t)
	noAWS(t)
	caFile, caPEM := selfSignedCA(t, e.dir)
	path := filepath.Join(e.dir, "kc", "lab.yaml")
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	e.mustRun("kubeconfig", "--cluster", "lab", "--server", "https://10.0.0.10:6443", "--certificate-authority", caFile,
		"--cluster-id", "lab-1", "--exec-api-version", "v1", "--kubeconfig", path, "--profile", "ops")
	cfg := loadKubeconfig(t, path)
	if cfg.CurrentContext != "lab" || cfg.Clusters["lab"].Server != "https://10.0.0.10:6443" ||
		string(cfg.Clusters["lab"].CertificateAuthorityData) != string(caPEM) {
		t.Fatalf("kubeconfig = %+v / %+v", cfg.CurrentContext, cfg.Clusters["lab"])
	}
	x := cfg.AuthInfos["lab"].Exec
	if !slices.Equal(x.Args, []string{"token", "--cluster-id", "lab-1"}) || x.APIVersion != kubeconfig.ExecAPIV1 ||
		x.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode {
		t.Errorf("exec = %+v", x)
	}
	if err := clientcmd.Validate(*cfg); err != nil {
		t.Errorf("kubectl would reject the file: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "interactiveMode: IfAvailable") {
		t.Errorf("file lacks interactiveMode:\n%s", raw)
	}
}

// TestKubeconfigKUBECONFIGRules writes to the first file of $KUBECONFIG and
// leaves the others alone.
func TestKubeconfigKUBECONFIGRules(t *testing.T) {
	e := newKubeconfigEnv(t)
	noAWS(t)
	first, second := filepath.Join(e.dir, "first"), filepath.Join(e.dir, "second")
	if err := os.WriteFile(second, []byte("apiVersion: v1\nkind: Config\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", first+string(filepath.ListSeparator)+second)
	e.mustRun("kubeconfig", "--cluster", "lab", "--server", "https://lab.example.com")
	if cfg := loadKubeconfig(t, first); cfg.Clusters["lab"] == nil {
		t.Error("first file of KUBECONFIG not written")
	}
	if b, _ := os.ReadFile(second); string(b) != "apiVersion: v1\nkind: Config\n" {
		t.Error("second file of KUBECONFIG changed")
	}
	if _, err := os.Stat(filepath.Join(e.dir, ".kube", "config")); !os.IsNotExist(err) {
		t.Error("~/.kube/config written although KUBECONFIG is set")
	}
}

// TestKubeconfigDryRun prints the merged file and writes nothing.
func TestKubeconfigDryRun(t *testing.T) {
	e := newKubeconfigEnv(t)
	noAWS(t)
	path := filepath.Join(e.dir, "config")
	const before = `apiVersion: v1
kind: Config
clusters:
- name: keep
  cluster:
    server: https://keep.example.com
contexts:
- name: keep
  context:
    cluster: keep
    user: ""
current-context: keep
`
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("kubeconfig", "--cluster", "lab", "--server", "https://lab.example.com", "--kubeconfig", path, "--dry-run")
	if b, _ := os.ReadFile(path); string(b) != before {
		t.Fatalf("--dry-run changed the file:\n%s", b)
	}
	if m := initPerm(t, path); m != 0o644 {
		t.Errorf("--dry-run changed the mode to %o", m)
	}
	printed, err := clientcmd.Load([]byte(e.stdout))
	if err != nil {
		t.Fatalf("stdout is not a kubeconfig: %v\n%s", err, e.stdout)
	}
	if printed.CurrentContext != "lab" || printed.Clusters["keep"] == nil || printed.AuthInfos["lab"] == nil {
		t.Errorf("printed kubeconfig is not the merge: %+v", printed)
	}
	missing := filepath.Join(e.dir, "none", "config")
	e.mustRun("kubeconfig", "--cluster", "lab", "--server", "https://lab.example.com", "--kubeconfig", missing, "--dry-run")
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Error("--dry-run created a directory")
	}
}

// TestKubeconfigMissingDirectory: an explicit --kubeconfig in a directory
// that does not exist is an error that creates nothing; the default
// location's own directory is created on first use.
func TestKubeconfigMissingDirectory(t *testing.T) {
	e := newKubeconfigEnv(t)
	noAWS(t)
	path := filepath.Join(e.dir, "nonexistent", "dir", "cfg")
	if e.run("kubeconfig", "--cluster", "lab", "--server", "https://lab.example.com", "--kubeconfig", path) == 0 {
		t.Fatal("wrote into a directory that does not exist")
	}
	if !strings.Contains(e.stderr, "kubeconfig directory "+filepath.Dir(path)+" does not exist") || strings.Count(e.stderr, "\n") != 1 {
		t.Fatalf("stderr %q", e.stderr)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "nonexistent")); !os.IsNotExist(err) {
		t.Fatalf("directory created: %v", err)
	}
	def := filepath.Join(e.dir, ".kube", "config")
	if _, err := os.Stat(filepath.Dir(def)); !os.IsNotExist(err) {
		t.Fatalf("test needs ~/.kube absent: %v", err)
	}
	e.mustRun("kubeconfig", "--cluster", "lab", "--server", "https://lab.example.com")
	if cfg := loadKubeconfig(t, def); cfg.Clusters["lab"] == nil {
		t.Fatal("default kubeconfig not written")
	}
	assertMode(t, filepath.Dir(def), 0o700)
}

func TestKubeconfigBadInvocations(t *testing.T) {
	e := newKubeconfigEnv(t)
	noAWS(t)
	notPEM := filepath.Join(e.dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(e.dir, "config")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--server", "https://x"}, "--cluster NAME is required"},
		{[]string{"--cluster", "c", "--certificate-authority", notPEM}, "needs --server"},
		{[]string{"--cluster", "c", "--server", "https://x", "--exec-api-version", "v2"}, "want v1beta1 or v1"},
		{[]string{"--cluster", "c", "--server", "http://x"}, "not an https:// URL"},
		{[]string{"--cluster", "c", "--server", "https://x", "--certificate-authority", notPEM}, "no PEM certificate"},
		{[]string{"--cluster", "c", "--server", "https://x", "--certificate-authority", notPEM + ".missing"}, "no such file"},
	} {
		args := append([]string{"kubeconfig", "--kubeconfig", kc}, tc.args...)
		if code := e.run(args...); code == 0 || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, e.stderr, tc.want)
		}
		if _, err := os.Stat(kc); !os.IsNotExist(err) {
			t.Fatalf("%v: wrote the kubeconfig", tc.args)
		}
	}
}
