// Command metricnames starts a real "iamgate server" (the command, through
// internal/demo, against the STS double, with the MountedFile and
// DynamicFile backends), sends reviews that touch every STS outcome (an
// allow, an invalid token, a throttled call, a 5xx, a timeout) and prints
// the metric families its /metrics then exports, one "name type" per line;
// with -exposition it prints the /metrics text itself.
// test/monitoring compares them with the names the alert rules and the
// dashboard use, so neither can name a metric the server does not export.
//
//	go run ./hack/metricnames [-exposition]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/iamgate/iamgate/internal/demo"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

const (
	akid   = "AKIAMETRICNAMES00001"
	config = `clusterID: demo-cluster
server:
  backendMode: [MountedFile, DynamicFile]
  dynamicfilepath: %s
  stsTimeout: 300ms
  mapUsers:
  - userARN: arn:aws:iam::111122223333:user/alice
    username: alice
    groups: [dev]
`
)

func main() {
	exposition := flag.Bool("exposition", false, "print the /metrics text instead of the family names")
	flag.Parse()
	if err := run(context.Background(), *exposition); err != nil {
		fmt.Fprintln(os.Stderr, "metricnames:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, exposition bool) error {
	dir, err := os.MkdirTemp("", "iamgate-metricnames-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dyn := filepath.Join(dir, "dynamic.json")
	if err := os.WriteFile(dyn, []byte(`{"mapRoles":[],"mapUsers":[]}`), 0o600); err != nil {
		return err
	}
	double, err := ststest.New()
	if err != nil {
		return err
	}
	defer double.Close()
	double.AddKey(akid, "metricnames-secret", "", ststest.Identity{
		Arn: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserId: "AIDAMETRICNAMES"})
	srv, err := demo.StartServer(ctx, demo.ServerOptions{Dir: dir, Config: fmt.Appendf(nil, config, dyn), STSTransport: double.Transport()})
	if err != nil {
		return err
	}
	defer srv.Stop()

	// Distinct signing times make distinct tokens, so none is answered
	// from the cache.
	at := time.Now().Add(-time.Minute)
	review := func(fault func()) error {
		at = at.Add(time.Second)
		tok, err := demo.Sign(ctx, double, akid, "", at)
		if err != nil {
			return err
		}
		fault()
		_, err = srv.Review(ctx, tok)
		return err
	}
	for _, fault := range []func(){
		func() {},
		func() { double.ThrottleNext(1) },
		func() { double.FailNext(1) },
		func() { double.SetLatency(time.Second) },
	} {
		if err := review(fault); err != nil {
			return err
		}
		double.SetLatency(0)
	}
	if _, err := srv.Review(ctx, "k8s-aws-v1.not-a-token"); err != nil {
		return err
	}

	resp, err := http.Get(srv.HealthURL + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if exposition {
		_, err := io.Copy(os.Stdout, resp.Body)
		return err
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		// "# TYPE name kind" names every exported family once.
		if f := strings.Fields(sc.Text()); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			lines = append(lines, f[2]+" "+f[3])
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}
