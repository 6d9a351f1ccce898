// Package kube starts a real kube-apiserver and etcd for tests, so iamgate's
// webhook, backends and manifests are checked against the real thing rather
// than a fake clientset. The binaries are built from source by
// hack/build-control-plane.sh (`make controlplane`); no prebuilt ones can be
// downloaded here. Import it only from _test.go files.
package kube

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Version is the Kubernetes release hack/build-control-plane.sh builds.
const Version = "v1.33.13"

// assetsEnv is the variable envtest itself reads; it wins over the cache dir.
const assetsEnv = "KUBEBUILDER_ASSETS"

// AssetsDir is the directory holding kube-apiserver and etcd: $KUBEBUILDER_ASSETS
// when set, else ${IAMGATE_BUILD_CACHE:-$HOME/.cache/iamgate}/k8s-v1.33.13/bin,
// where hack/build-control-plane.sh puts them. It fails when either binary is
// missing, naming the command that builds them.
func AssetsDir() (string, error) {
	dir := os.Getenv(assetsEnv)
	if dir == "" {
		cache := os.Getenv("IAMGATE_BUILD_CACHE")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("find control plane binaries: no $HOME: %w (run make controlplane)", err)
			}
			cache = filepath.Join(home, ".cache", "iamgate")
		}
		dir = filepath.Join(cache, "k8s-"+Version, "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err == nil && (fi.IsDir() || fi.Mode()&0o111 == 0) {
			err = errors.New("not an executable file")
		}
		if err != nil {
			return "", fmt.Errorf("control plane binary %s: %w (run make controlplane, or hack/build-control-plane.sh)", p, err)
		}
	}
	return dir, nil
}

// Options configure Start.
type Options struct {
	// WebhookConfigFile, when set, is passed as
	// --authentication-token-webhook-config-file (e.g. the kubeconfig that
	// "iamgate init" writes).
	WebhookConfigFile string
	// Args are extra kube-apiserver flags (name without "--" → value); they
	// override the defaults Start sets.
	Args map[string]string
}

// Env is a running control plane.
type Env struct {
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Kubeconfig is a file holding the same admin credentials, for kubectl.
	Kubeconfig string
	// Client is a clientset built from Config.
	Client kubernetes.Interface
	// Host is the apiserver's https URL and CAFile its serving CA, for
	// writing other users' kubeconfigs.
	Host   string
	CAFile string
}

var setLogger sync.Once

// Start runs etcd and kube-apiserver from AssetsDir with RBAC authorization
// and, when o.WebhookConfigFile is set, token webhook authentication (v1
// TokenReviews). It stops both in t.Cleanup. A missing binary fails the test
// instead of skipping it, so CI cannot pass without the control plane.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	dir, err := AssetsDir()
	if err != nil {
		t.Fatalf("kube: %v", err)
	}
	// envtest logs through controller-runtime's logger, which warns loudly
	// (with a stack trace) when nobody set it.
	setLogger.Do(func() { ctrllog.SetLogger(logr.Discard()) })

	tmp := t.TempDir()
	logPath := filepath.Join(tmp, "kube-apiserver.log")
	// Ports are only known free when envtest picks them, and other test
	// processes (moto, iamgate servers) bind ports too; a start that lost
	// its port is retried.
	var te *envtest.Environment
	var cfg *rest.Config
	start := time.Now()
	for attempt := 1; ; attempt++ {
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatalf("kube: create apiserver log: %v", err)
		}
		t.Cleanup(func() { _ = logFile.Close() })
		te = newEnvironment(dir, logFile, o)
		cfg, err = te.Start()
		if err == nil {
			break
		}
		_ = te.Stop()
		log := tail(logPath, 40)
		if attempt < 3 && strings.Contains(log+err.Error(), "address already in use") {
			t.Logf("kube: control plane lost its port, retrying: %v", err)
			continue
		}
		t.Fatalf("kube: start control plane from %s: %v\n%s", dir, err, log)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kube-apiserver log (last lines):\n%s", tail(logPath, 40))
		}
		if err := te.Stop(); err != nil {
			t.Errorf("kube: stop control plane: %v", err)
		}
	})
	t.Logf("kube: kube-apiserver %s ready at %s in %v", Version, cfg.Host, time.Since(start).Round(time.Millisecond))

	kc := filepath.Join(tmp, "admin.kubeconfig")
	if err := os.WriteFile(kc, te.KubeConfig, 0o600); err != nil {
		t.Fatalf("kube: write admin kubeconfig: %v", err)
	}
	ca := filepath.Join(tmp, "apiserver-ca.crt")
	if err := os.WriteFile(ca, cfg.CAData, 0o600); err != nil {
		t.Fatalf("kube: write apiserver CA: %v", err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("kube: clientset: %v", err)
	}
	return &Env{Config: cfg, Kubeconfig: kc, Client: cs, Host: cfg.Host, CAFile: ca}
}

// newEnvironment configures envtest's kube-apiserver: RBAC, loopback only,
// and o's webhook and extra flags; its output goes to log.
func newEnvironment(dir string, log *os.File, o Options) *envtest.Environment {
	te := &envtest.Environment{
		BinaryAssetsDirectory:    dir,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	api := te.ControlPlane.GetAPIServer()
	api.Out, api.Err = log, log
	args := api.Configure()
	args.Set("authorization-mode", "RBAC")
	// Loopback only: without this the apiserver keeps failing to publish its
	// 127.0.0.1 address as the kubernetes Service endpoint.
	args.Set("endpoint-reconciler-type", "none")
	if o.WebhookConfigFile != "" {
		args.Set("authentication-token-webhook-config-file", o.WebhookConfigFile)
		args.Set("authentication-token-webhook-version", "v1")
	}
	for k, v := range o.Args {
		args.Set(k, v)
	}
	return te
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a server that only needs some port and can tolerate a rare clash.
func FreePort(t testing.TB) int {
	t.Helper()
	port, release := ReservePort(t)
	release()
	return port
}

// ReservePort holds a TCP port on 127.0.0.1 until release is called, for
// servers whose port must be known long before they start (the webhook
// kubeconfig names iamgate's port before kube-apiserver starts). Holding it
// keeps kube-apiserver, etcd and envtest from being handed the same port in
// the meantime; call release right before the server binds. Cleanup
// releases it too, so release may be called late or never.
func ReservePort(t testing.TB) (port int, release func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("kube: reserve port: %v", err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = ln.Close() }) }
	t.Cleanup(release)
	return ln.Addr().(*net.TCPAddr).Port, release
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(string(bytes.TrimRight(b, "\n")), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
