package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// nullReview is what every webhook answers for an allowed token, in size and
// shape, so the ceiling writes as many bytes as the servers it bounds.
const nullReview = `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","metadata":{"creationTimestamp":null},` +
	`"spec":{},"status":{"authenticated":true,"user":{"username":"bench:k0","uid":"aws-iam-authenticator:111122223333:AROABENCHEXAMPLE00001",` +
	`"groups":["bench"],"extra":{"accessKeyId":["AKIABENCH00000000"],"arn":["arn:aws:sts::111122223333:assumed-role/bench/k0"],` +
	`"canonicalArn":["arn:aws:iam::111122223333:role/bench"],"principalId":["AROABENCHEXAMPLE00001"],"sessionName":["k0"]}}}}`

// runNull serves the ceiling: TLS like the webhooks (HTTP/2 offered too, as
// Go servers do), one fixed answer, and the request body left unread.
func runNull(args []string) error {
	fs := flag.NewFlagSet("null", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address`")
	_ = fs.Parse(args)
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	body := []byte(nullReview)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Printf("addr=%s\n", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		_ = srv.Close()
	}()
	if err := srv.ServeTLS(ln, "", ""); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "loadgen-null"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
