package certs

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

func readCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEnsureCreatesCAAndLeafWithSANs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	res, err := Ensure(Options{StateDir: dir, Hostnames: []string{"localhost", "iamgate.kube-system"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.CreatedCA || !res.CreatedLeaf {
		t.Fatalf("want CA and leaf created, got %+v", res)
	}
	ca := readCert(t, filepath.Join(dir, CAFile))
	leaf := readCert(t, filepath.Join(dir, CertFile))
	if !ca.IsCA || leaf.IsCA {
		t.Fatal("CA/leaf roles wrong")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, name := range []string{"localhost", "iamgate.kube-system", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("leaf does not verify for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "evil.example"}); err == nil {
		t.Error("leaf verifies for a name it was not issued for")
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("leaf key %v, want ECDSA", leaf.PublicKeyAlgorithm)
	}
	for _, f := range []string{CAKeyFile, KeyFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
}

func TestEnsureIsIdempotentAndForceReplaces(t *testing.T) {
	dir := t.TempDir()
	o := Options{StateDir: dir, Hostnames: []string{"localhost"}}
	if _, err := Ensure(o); err != nil {
		t.Fatal(err)
	}
	key1, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	ca1, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	res, err := Ensure(o)
	if err != nil {
		t.Fatal(err)
	}
	if res.CreatedCA || res.CreatedLeaf {
		t.Fatalf("second run changed files: %+v", res)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if !bytes.Equal(key1, key2) {
		t.Fatal("key rewritten without --force")
	}
	o.Force = true
	if _, err := Ensure(o); err != nil {
		t.Fatal(err)
	}
	ca3, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	if bytes.Equal(ca1, ca3) {
		t.Fatal("--force kept the CA key")
	}
}

func TestEnsureRenewsLeafFromSameCA(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ensure(Options{StateDir: dir, Hostnames: []string{"localhost"}}); err != nil {
		t.Fatal(err)
	}
	caKey1, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	leaf1 := readCert(t, filepath.Join(dir, CertFile))
	// Eleven months later the leaf is within the renewal window.
	later := func() time.Time { return time.Now().Add(340 * 24 * time.Hour) }
	res, err := Ensure(Options{StateDir: dir, Hostnames: []string{"localhost"}, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if res.CreatedCA || !res.CreatedLeaf {
		t.Fatalf("want leaf renewed from the same CA, got %+v", res)
	}
	caKey2, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
	leaf2 := readCert(t, filepath.Join(dir, CertFile))
	if !bytes.Equal(caKey1, caKey2) || leaf1.SerialNumber.Cmp(leaf2.SerialNumber) == 0 {
		t.Fatal("renewal must keep the CA and issue a new leaf")
	}
	// A new SAN also re-issues the leaf.
	res, err = Ensure(Options{StateDir: dir, Hostnames: []string{"localhost", "new.example"}})
	if err != nil || !res.CreatedLeaf {
		t.Fatalf("new SAN: %+v %v", res, err)
	}
}

func TestEnsureRefusesToReplaceBrokenKeysWithoutForce(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CAFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(Options{StateDir: dir}); err == nil {
		t.Fatal("broken CA was silently replaced")
	}
	b, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if string(b) != "garbage" {
		t.Fatal("file changed")
	}
}

func TestWebhookKubeconfigPinsCA(t *testing.T) {
	dir := t.TempDir()
	res, err := Ensure(Options{StateDir: dir, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "sub", "kubeconfig.yaml")
	if err := WebhookKubeconfig(p, "127.0.0.1", 21362, res.CAPEM); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cl := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]
	if cl.Server != "https://127.0.0.1:21362/authenticate" {
		t.Errorf("server %q", cl.Server)
	}
	if !bytes.Equal(cl.CertificateAuthorityData, res.CAPEM) {
		t.Error("CA not pinned")
	}
}

// writeAIAPair writes what aws-iam-authenticator leaves in its state dir: a
// self-signed RSA certificate (CA:TRUE) and a PKCS#1 "RSA PRIVATE KEY".
func writeAIAPair(t *testing.T, dir string, notAfter time.Time) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "aws-iam-authenticator"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{""},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644))
	must(os.WriteFile(filepath.Join(dir, KeyFile), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600))
}

func TestEnsureAdoptsAIAStateDir(t *testing.T) {
	dir := t.TempDir()
	writeAIAPair(t, dir, time.Now().Add(100*365*24*time.Hour))
	cert1, _ := os.ReadFile(filepath.Join(dir, CertFile))
	key1, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	o := Options{StateDir: dir, Hostnames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}
	res, err := Ensure(o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Adopted || res.CreatedCA || res.CreatedLeaf {
		t.Fatalf("want the AIA pair adopted, got %+v", res)
	}
	if !bytes.Equal(res.CAPEM, cert1) {
		t.Error("the adopted cert.pem must be the pinned CA, as AIA pinned it")
	}
	if len(res.Missing) != 1 || res.Missing[0] != "localhost" {
		t.Errorf("Missing = %v, want [localhost]", res.Missing)
	}
	cert2, _ := os.ReadFile(filepath.Join(dir, CertFile))
	key2, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if !bytes.Equal(cert1, cert2) || !bytes.Equal(key1, key2) || exists(filepath.Join(dir, CAFile)) {
		t.Fatal("AIA's pair was replaced without --force")
	}
	o.Force = true
	if res, err = Ensure(o); err != nil || !res.CreatedCA || !res.CreatedLeaf || res.Adopted {
		t.Fatalf("--force: %+v %v", res, err)
	}
}

func TestEnsureRefusesExpiredOrBrokenForeignPair(t *testing.T) {
	dir := t.TempDir()
	writeAIAPair(t, dir, time.Now().Add(-time.Minute))
	if _, err := Ensure(Options{StateDir: dir}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired AIA pair: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(Options{StateDir: dir}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("broken key without a CA must not be replaced silently: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, KeyFile)); string(b) != "garbage" {
		t.Fatal("key.pem changed")
	}
}

func TestEnsureReissueKeepsLeafKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ensure(Options{StateDir: dir, Hostnames: []string{"localhost"}}); err != nil {
		t.Fatal(err)
	}
	key1, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	res, err := Ensure(Options{StateDir: dir, Hostnames: []string{"localhost", "added.example"}})
	if err != nil || !res.CreatedLeaf {
		t.Fatalf("%+v %v", res, err)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if !bytes.Equal(key1, key2) {
		t.Fatal("adding a name replaced key.pem without --force")
	}
	if err := readCert(t, filepath.Join(dir, CertFile)).VerifyHostname("added.example"); err != nil {
		t.Fatal(err)
	}
}
