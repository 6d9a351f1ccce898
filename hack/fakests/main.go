// Command fakests runs the STS test double (internal/ststest) as a process, so
// the throughput benchmark (hack/bench-server.sh) can point unmodified server
// binaries at an STS that answers at once.
//
// Servers reach it the way they reach real STS through a corporate proxy:
// HTTPS_PROXY names the CONNECT proxy this command starts, and SSL_CERT_FILE
// names the double's CA, which it writes out. Nothing in the servers changes,
// and every STS call still carries a real SigV4 signature that the double
// checks.
//
// Access keys are registered on demand over a plain-HTTP control port, so
// each benchmark round can use keys no earlier round has seen (and no cache
// can answer for):
//
//	POST /keys?prefix=RUNA&n=10000
//
// registers AKIA<prefix><8 digits> for 0 ≤ i < n with the secret
// Secret(akid) and the identity arn:aws:sts::111122223333:assumed-role/bench/k<i>.
//
// This binary is a benchmark tool; it is never part of a release.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

func main() {
	caFile := flag.String("ca", "", "write the double's CA certificate (PEM) to this `file` (required)")
	proxyAddr := flag.String("proxy", "127.0.0.1:0", "CONNECT proxy listen `address`")
	ctlAddr := flag.String("control", "127.0.0.1:0", "control (key registration) listen `address`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: fakests -ca FILE [-proxy ADDR] [-control ADDR]\n\n"+
			"Runs the STS double behind a CONNECT proxy and prints, one per line,\n"+
			"  proxy=ADDR control=ADDR\n"+
			"Example:\n"+
			"  fakests -ca /tmp/sts-ca.pem\n"+
			"  HTTPS_PROXY=http://PROXY SSL_CERT_FILE=/tmp/sts-ca.pem iamgate-core server ...\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *caFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*caFile, *proxyAddr, *ctlAddr); err != nil {
		log.Fatalf("fakests: %v", err)
	}
}

func run(caFile, proxyAddr, ctlAddr string) error {
	sts, err := ststest.New()
	if err != nil {
		return err
	}
	defer sts.Close()
	if err := os.WriteFile(caFile, sts.CACertPEM(), 0o644); err != nil {
		return fmt.Errorf("write ca: %w", err)
	}
	pln, err := net.Listen("tcp", proxyAddr)
	if err != nil {
		return fmt.Errorf("listen proxy: %w", err)
	}
	cln, err := net.Listen("tcp", ctlAddr)
	if err != nil {
		return fmt.Errorf("listen control: %w", err)
	}
	go serveProxy(pln, sts.Addr())
	go func() { _ = http.Serve(cln, controlHandler(sts)) }()
	fmt.Printf("proxy=%s control=%s\n", pln.Addr(), cln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

// Secret is the secret key fakests gives akid; hack/loadgen signs with it.
func Secret(akid string) string { return "bench/" + akid }

func controlHandler(sts *ststest.Server) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/keys" {
			http.Error(w, "POST /keys?prefix=P&n=N", http.StatusNotFound)
			return
		}
		prefix := r.URL.Query().Get("prefix")
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 || n > 1_000_000 || prefix == "" {
			http.Error(w, "prefix must be set and n between 1 and 1000000", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for i := range n {
			akid := fmt.Sprintf("AKIA%s%08d", prefix, i)
			sess := "k" + strconv.Itoa(i)
			sts.AddKey(akid, Secret(akid), "", ststest.Identity{
				Arn:     "arn:aws:sts::111122223333:assumed-role/bench/" + sess,
				Account: "111122223333",
				UserId:  "AROABENCHEXAMPLE00001:" + sess,
			})
		}
		fmt.Fprintf(w, "registered %d keys\n", n)
	})
}

// serveProxy accepts CONNECT for any host on port 443 and tunnels it to the
// double, which serves a certificate for whatever STS name was asked for.
func serveProxy(ln net.Listener, target string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go tunnel(c, target)
	}
}

func tunnel(c net.Conn, target string) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if _, port, err := net.SplitHostPort(req.Host); req.Method != http.MethodConnect || err != nil || port != "443" {
		_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, br); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}
