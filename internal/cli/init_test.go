package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/certs"
)

// initEnv is one isolated `iamgate init` setup: its own state dir and
// webhook kubeconfig path.
type initEnv struct {
	t              *testing.T
	state, kubecfg string
	stdout, stderr string
	code           int
}

func newInitEnv(t *testing.T) *initEnv {
	t.Helper()
	dir := t.TempDir()
	return &initEnv{t: t, state: filepath.Join(dir, "state"), kubecfg: filepath.Join(dir, "etc", "kubeconfig.yaml")}
}

// run executes `iamgate init` in-process with the env's paths plus args.
func (e *initEnv) run(args ...string) int {
	e.t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"init", "-i", "test-cluster", "--state-dir", e.state, "--generate-kubeconfig", e.kubecfg}, args...)
	e.code = Run(context.Background(), full, Deps{}, Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	e.stdout, e.stderr = out.String(), errb.String()
	return e.code
}

func (e *initEnv) mustRun(args ...string) {
	e.t.Helper()
	if code := e.run(args...); code != 0 {
		e.t.Fatalf("init %v: exit %d\nstdout: %s\nstderr: %s", args, code, e.stdout, e.stderr)
	}
}

func (e *initEnv) file(name string) []byte {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.state, name))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *initEnv) snapshot() map[string][]byte {
	m := map[string][]byte{}
	for _, n := range []string{certs.CAFile, certs.CAKeyFile, certs.CertFile, certs.KeyFile} {
		m[n] = e.file(n)
	}
	return m
}

func (e *initEnv) wantOut(substrs ...string) {
	e.t.Helper()
	for _, s := range substrs {
		if !strings.Contains(e.stdout, s) {
			e.t.Errorf("stdout lacks %q:\n%s", s, e.stdout)
		}
	}
}

func initPerm(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func parseCertPEM(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialWithKubeconfig serves the state dir's cert.pem/key.pem on loopback and
// connects with the TLS settings client-go builds from the webhook kubeconfig,
// the way kube-apiserver's webhook client does, to the kubeconfig's host name.
func dialWithKubeconfig(t *testing.T, kubeconfig, certFile, keyFile string) error {
	t.Helper()
	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("client-go cannot load the webhook kubeconfig: %v", err)
	}
	tlsCfg, err := rest.TLSConfigFor(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(restCfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	tlsCfg.ServerName = u.Hostname()
	conn, err := tls.Dial("tcp", ln.Addr().String(), tlsCfg)
	if err != nil {
		return err
	}
	return conn.Close()
}

func TestInitWritesFilesWithModes(t *testing.T) {
	e := newInitEnv(t)
	e.mustRun()
	e.wantOut("wrote "+e.state+"/ca.pem", "wrote "+e.state+"/cert.pem", "wrote "+e.kubecfg)
	for name, want := range map[string]os.FileMode{
		certs.CAFile: 0o644, certs.CAKeyFile: 0o600, certs.CertFile: 0o644, certs.KeyFile: 0o600,
	} {
		if got := initPerm(t, filepath.Join(e.state, name)); got != want {
			t.Errorf("%s mode %v, want %v", name, got, want)
		}
	}
	if got := initPerm(t, e.state); got != 0o700 {
		t.Errorf("state dir mode %v, want 0700", got)
	}
	if got := initPerm(t, e.kubecfg); got&0o022 != 0 {
		t.Errorf("kubeconfig mode %v is group/world writable", got)
	}
	ca, leaf := parseCertPEM(t, e.file(certs.CAFile)), parseCertPEM(t, e.file(certs.CertFile))
	if !ca.IsCA || leaf.IsCA || leaf.CheckSignatureFrom(ca) != nil {
		t.Fatal("cert.pem must be a leaf signed by ca.pem")
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("want ECDSA keys, got CA %v leaf %v", ca.PublicKeyAlgorithm, leaf.PublicKeyAlgorithm)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d < 30*24*time.Hour || d > 2*366*24*time.Hour {
		t.Errorf("leaf validity %v is not sensible", d)
	}
	if !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Error("leaf lacks serverAuth")
	}
}

func TestInitKubeconfigPinsCA(t *testing.T) {
	e := newInitEnv(t)
	e.mustRun()
	cfg, err := clientcmd.LoadFromFile(e.kubecfg)
	if err != nil {
		t.Fatalf("clientcmd cannot load %s: %v", e.kubecfg, err)
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		t.Fatalf("current-context %q missing", cfg.CurrentContext)
	}
	cl := cfg.Clusters[ctx.Cluster]
	if cl == nil || cl.Server != "https://127.0.0.1:21362/authenticate" {
		t.Fatalf("cluster %+v, want server https://127.0.0.1:21362/authenticate", cl)
	}
	if !bytes.Equal(cl.CertificateAuthorityData, e.file(certs.CAFile)) {
		t.Error("kubeconfig must pin ca.pem")
	}
	if cl.InsecureSkipTLSVerify {
		t.Error("kubeconfig skips TLS verification")
	}
	if err := dialWithKubeconfig(t, e.kubecfg, filepath.Join(e.state, certs.CertFile), filepath.Join(e.state, certs.KeyFile)); err != nil {
		t.Fatalf("a client built from the kubeconfig does not trust cert.pem: %v", err)
	}
}

func TestInitRerunKeepsKeys(t *testing.T) {
	e := newInitEnv(t)
	e.mustRun()
	before := e.snapshot()
	e.mustRun()
	e.wantOut("kept "+e.state+"/ca.pem", "kept "+e.state+"/cert.pem")
	if strings.Contains(e.stdout, "wrote "+e.state) {
		t.Errorf("rerun rewrote a state file:\n%s", e.stdout)
	}
	for name, b := range e.snapshot() {
		if !bytes.Equal(b, before[name]) {
			t.Errorf("%s changed on rerun", name)
		}
	}
}

func TestInitForceReplaces(t *testing.T) {
	e := newInitEnv(t)
	e.mustRun()
	before := e.snapshot()
	e.mustRun("--force")
	e.wantOut("wrote "+e.state+"/ca.pem", "wrote "+e.state+"/cert.pem")
	after := e.snapshot()
	for _, name := range []string{certs.CAKeyFile, certs.KeyFile, certs.CAFile, certs.CertFile} {
		if bytes.Equal(after[name], before[name]) {
			t.Errorf("--force kept %s", name)
		}
	}
	cfg, err := clientcmd.LoadFromFile(e.kubecfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].CertificateAuthorityData, after[certs.CAFile]) {
		t.Error("kubeconfig still pins the replaced CA")
	}
}

func TestInitHostnameAddsSAN(t *testing.T) {
	e := newInitEnv(t)
	e.mustRun()
	before := e.snapshot()
	const host = "iamgate.example.internal"
	if err := parseCertPEM(t, before[certs.CertFile]).VerifyHostname(host); err == nil {
		t.Fatal("precondition: the first leaf must not cover the new name")
	}
	e.mustRun("--hostname", host)
	e.wantOut("kept "+e.state+"/ca.pem", "wrote "+e.state+"/cert.pem")
	after := e.snapshot()
	leaf := parseCertPEM(t, after[certs.CertFile])
	for _, n := range []string{host, "localhost", "127.0.0.1"} {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("leaf does not cover %s: %v", n, err)
		}
	}
	for _, name := range []string{certs.CAFile, certs.CAKeyFile, certs.KeyFile} {
		if !bytes.Equal(after[name], before[name]) {
			t.Errorf("adding a name changed %s (keys change only with --force)", name)
		}
	}
	cfg, err := clientcmd.LoadFromFile(e.kubecfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server; got != "https://"+host+":21362/authenticate" {
		t.Errorf("kubeconfig server %q must dial the --hostname", got)
	}
	// An IP --address is a SAN too.
	e.mustRun("--hostname", host, "--address", "10.1.2.3")
	if err := parseCertPEM(t, e.file(certs.CertFile)).VerifyHostname("10.1.2.3"); err != nil {
		t.Errorf("--address IP not in the leaf: %v", err)
	}
}

func TestInitDoesNotReplaceBrokenKeyWithoutForce(t *testing.T) {
	for _, broken := range []string{certs.KeyFile, certs.CAKeyFile} {
		t.Run(broken, func(t *testing.T) {
			e := newInitEnv(t)
			e.mustRun()
			p := filepath.Join(e.state, broken)
			if err := os.WriteFile(p, []byte("not a key\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if code := e.run(); code == 0 {
				t.Fatalf("init accepted a broken %s:\n%s", broken, e.stdout)
			}
			if !strings.Contains(e.stderr, "--force") || !strings.Contains(e.stderr, broken) {
				t.Errorf("error must name %s and --force, got %q", broken, e.stderr)
			}
			if strings.Count(strings.TrimSpace(e.stderr), "\n") != 0 {
				t.Errorf("want a one-line error, got %q", e.stderr)
			}
			if b, _ := os.ReadFile(p); string(b) != "not a key\n" {
				t.Fatalf("%s was replaced without --force", broken)
			}
			e.mustRun("--force")
			if err := dialWithKubeconfig(t, e.kubecfg, filepath.Join(e.state, certs.CertFile), filepath.Join(e.state, certs.KeyFile)); err != nil {
				t.Fatalf("after --force: %v", err)
			}
		})
	}
}

// An aws-iam-authenticator state dir holds only cert.pem/key.pem, which the
// running kube-apiserver pins; init keeps them and pins cert.pem as AIA did.
func TestInitKeepsAIAStateDir(t *testing.T) {
	e := newInitEnv(t)
	// Make an AIA-like pair: a self-signed serving cert with its own key.
	other := newInitEnv(t)
	other.mustRun()
	if err := os.MkdirAll(e.state, 0o700); err != nil {
		t.Fatal(err)
	}
	caPEM, caKey := other.file(certs.CAFile), other.file(certs.CAKeyFile)
	if err := os.WriteFile(filepath.Join(e.state, certs.CertFile), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.state, certs.KeyFile), caKey, 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustRun()
	e.wantOut("kept " + e.state + "/cert.pem")
	if _, err := os.Stat(filepath.Join(e.state, certs.CAFile)); err == nil {
		t.Error("init created ca.pem beside an adopted pair")
	}
	if !bytes.Equal(e.file(certs.KeyFile), caKey) || !bytes.Equal(e.file(certs.CertFile), caPEM) {
		t.Fatal("init replaced the existing pair without --force")
	}
	if !strings.Contains(e.stderr, "does not cover") {
		t.Errorf("want a warning about names the kept cert lacks, got %q", e.stderr)
	}
	cfg, err := clientcmd.LoadFromFile(e.kubecfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].CertificateAuthorityData, caPEM) {
		t.Error("kubeconfig must pin the kept cert.pem")
	}
	e.mustRun("--force")
	e.wantOut("wrote " + e.state + "/ca.pem")
	if bytes.Equal(e.file(certs.KeyFile), caKey) {
		t.Error("--force kept key.pem")
	}
}

func TestInitConfigFileAndErrors(t *testing.T) {
	e := newInitEnv(t)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	body := "clusterID: from-file\nserver:\n  port: 31000\n  hostName: cfg.example\n"
	if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustRun("-c", cfgPath)
	cfg, err := clientcmd.LoadFromFile(e.kubecfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server; got != "https://cfg.example:31000/authenticate" {
		t.Errorf("server %q: config-file hostname/port not used", got)
	}
	if err := os.WriteFile(cfgPath, []byte(body+"  stateDri: /tmp/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := e.run("-c", cfgPath); code == 0 {
		t.Fatal("unknown key accepted")
	}
	line := strings.TrimSpace(e.stderr)
	for _, want := range []string{cfgPath, "line 5", `"server.stateDri"`} {
		if !strings.Contains(line, want) {
			t.Errorf("error %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "\n") {
		t.Errorf("want one line, got %q", line)
	}
}
