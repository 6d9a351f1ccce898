// Package certs creates the webhook's serving certificates and the kubeconfig
// kube-apiserver uses to reach it.
//
// Unlike AIA's single self-signed certificate, iamgate writes a small CA and a
// leaf it signs: the webhook kubeconfig pins the CA, so the leaf can be renewed
// (and is hot-reloaded by the server) without touching kube-apiserver.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names inside the state dir. cert.pem/key.pem are AIA's names.
const (
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem"
	CertFile  = "cert.pem"
	KeyFile   = "key.pem"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is how close to expiry Ensure renews the leaf.
	renewBefore = 30 * 24 * time.Hour
)

// Options says what to create.
type Options struct {
	StateDir  string
	Hostnames []string // DNS SANs
	IPs       []net.IP // IP SANs
	Force     bool     // replace existing keys
	Now       func() time.Time
}

// Result tells what Ensure did.
type Result struct {
	CreatedCA   bool
	CreatedLeaf bool
	// Adopted is set when the state dir held aws-iam-authenticator's
	// self-signed cert.pem/key.pem and no ca.pem: the pair is kept as it is
	// and cert.pem itself is the pinned CA (CAPEM), as AIA pinned it.
	Adopted bool
	// Missing lists requested names an adopted cert.pem does not cover.
	Missing []string
	CAPEM   []byte
}

// Ensure makes sure the state dir holds a CA and a valid leaf for the given
// names. Existing keys are kept unless Force; a leaf that is missing, expiring
// within 30 days, or lacking a requested name is re-issued from the CA for the
// same key. A serving pair with no CA beside it (aws-iam-authenticator's) is
// adopted as it is; see Result.Adopted.
func Ensure(o Options) (Result, error) {
	var res Result
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return res, fmt.Errorf("create state dir: %w", err)
	}
	path := func(n string) string { return filepath.Join(o.StateDir, n) }

	caCert, caKey, err := loadPair(path(CAFile), path(CAKeyFile))
	switch {
	case err == nil && !o.Force:
	case err != nil && !o.Force && (exists(path(CAFile)) || exists(path(CAKeyFile))):
		return res, fmt.Errorf("load CA (use --force to replace it): %w", err)
	case !o.Force && (exists(path(CertFile)) || exists(path(KeyFile))):
		// No CA but a serving pair: an aws-iam-authenticator state dir (or a
		// pair made elsewhere). kube-apiserver pins that cert.pem, so keep it.
		return adopt(path(CertFile), path(KeyFile), o, now())
	default:
		caCert, caKey, err = newCA(now())
		if err != nil {
			return res, err
		}
		if err := writePair(path(CAFile), path(CAKeyFile), caCert, caKey); err != nil {
			return res, err
		}
		res.CreatedCA = true
	}
	res.CAPEM = pemCert(caCert)

	leaf, leafKey, err := loadPair(path(CertFile), path(KeyFile))
	if err != nil && !o.Force && (exists(path(CertFile)) || exists(path(KeyFile))) {
		return res, fmt.Errorf("load serving certificate (use --force to replace it): %w", err)
	}
	need := err != nil || res.CreatedCA || o.Force ||
		now().Add(renewBefore).After(leaf.NotAfter) ||
		leaf.CheckSignatureFrom(caCert) != nil || !covers(leaf, o.Hostnames, o.IPs)
	if need {
		// Renewing or adding a name keeps key.pem: keys change only with
		// --force (or when there was none).
		keep := err == nil && !o.Force && !res.CreatedCA
		if !keep {
			leafKey = nil
		}
		leaf, leafKey, err := newLeaf(caCert, caKey, leafKey, o.Hostnames, o.IPs, now())
		if err != nil {
			return res, err
		}
		if keep {
			err = WriteFileAtomic(path(CertFile), pemCert(leaf), 0o644)
		} else {
			err = writePair(path(CertFile), path(KeyFile), leaf, leafKey)
		}
		if err != nil {
			return res, err
		}
		res.CreatedLeaf = true
	}
	return res, nil
}

// adopt keeps a serving pair that has no iamgate CA beside it, such as
// aws-iam-authenticator's self-signed RSA cert.pem/key.pem. Replacing it would
// break the kube-apiserver that pins it, so only --force does.
func adopt(certPath, keyPath string, o Options, now time.Time) (Result, error) {
	res := Result{Adopted: true}
	leaf, err := loadAnyPair(certPath, keyPath, &res.CAPEM)
	if err != nil {
		return res, fmt.Errorf("load serving certificate (there is no %s; use --force to replace %s and %s): %w",
			CAFile, filepath.Base(certPath), filepath.Base(keyPath), err)
	}
	if now.After(leaf.NotAfter) {
		return res, fmt.Errorf("%s expired on %s (there is no %s; use --force to replace it with a CA-signed pair)",
			certPath, leaf.NotAfter.Format(time.DateOnly), CAFile)
	}
	for _, n := range o.Hostnames {
		if leaf.VerifyHostname(n) != nil {
			res.Missing = append(res.Missing, n)
		}
	}
	for _, ip := range o.IPs {
		if leaf.VerifyHostname(ip.String()) != nil {
			res.Missing = append(res.Missing, ip.String())
		}
	}
	return res, nil
}

// loadAnyPair loads a PEM pair with any key type crypto/tls accepts and
// appends the certificates, re-encoded, to chainPEM.
func loadAnyPair(certPath, keyPath string, chainPEM *[]byte) (*x509.Certificate, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(cb, kb)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", certPath, keyPath, err)
	}
	for _, der := range pair.Certificate {
		*chainPEM = append(*chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return x509.ParseCertificate(pair.Certificate[0])
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func covers(c *x509.Certificate, names []string, ips []net.IP) bool {
	for _, n := range names {
		if c.VerifyHostname(n) != nil {
			return false
		}
	}
	for _, ip := range ips {
		if c.VerifyHostname(ip.String()) != nil {
			return false
		}
	}
	return true
}

func newKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

func newCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "iamgate webhook CA"},
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}

// newLeaf issues a serving certificate for key, or for a new key when key is nil.
func newLeaf(ca *x509.Certificate, caKey, key *ecdsa.PrivateKey, names []string, ips []net.IP, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	var err error
	if key == nil {
		if key, err = newKey(); err != nil {
			return nil, nil, err
		}
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	cn := "iamgate"
	if len(names) > 0 {
		cn = names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: sn,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-5 * time.Minute),
		NotAfter:     now.Add(leafValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("create serving certificate: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func loadPair(certPath, keyPath string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	cb, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	cblk, _ := pem.Decode(cb)
	if cblk == nil || cblk.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", certPath)
	}
	c, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certPath, err)
	}
	kblk, _ := pem.Decode(kb)
	if kblk == nil {
		return nil, nil, fmt.Errorf("%s: no PEM key", keyPath)
	}
	k, err := x509.ParseECPrivateKey(kblk.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyPath, err)
	}
	if !k.PublicKey.Equal(c.PublicKey) {
		return nil, nil, fmt.Errorf("%s does not match %s", keyPath, certPath)
	}
	return c, k, nil
}

// writePair writes the key before the certificate, each atomically, so a
// watcher that reloads on the certificate's change sees a matching key.
func writePair(certPath, keyPath string, c *x509.Certificate, k *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := WriteFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return WriteFileAtomic(certPath, pemCert(c), 0o644)
}

// WriteFileAtomic writes through a temp file and rename.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
