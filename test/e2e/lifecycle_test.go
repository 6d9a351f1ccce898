package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/demo"
)

// TestServerRefusesUnknownConfigKey: a typo in the config file stops the
// server at start, naming file, line and key, instead of being ignored
// (aws-iam-authenticator's viper silently dropped it).
func TestServerRefusesUnknownConfigKey(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := withServerKeys(t, "  prot: 21362\n") // "port" mistyped
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	line := 1 + strings.Count(cfg[:strings.Index(cfg, "  prot:")], "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stderr strings.Builder
	code := cli.Run(ctx, []string{"server", "-c", cfgPath, "--state-dir", filepath.Join(dir, "state"),
		"--generate-kubeconfig", filepath.Join(dir, "kubeconfig.yaml"), "--port", "0", "--health-port", "0"},
		cli.Deps{}, cli.Streams{In: strings.NewReader(""), Out: &stderr, Err: &stderr})
	if ctx.Err() != nil {
		t.Fatal("server ran until the deadline instead of refusing the config")
	}
	msg := stderr.String()
	if code == 0 {
		t.Fatalf("exit code 0; output:\n%s", msg)
	}
	for _, want := range []string{cfgPath, "line " + strconv.Itoa(line), `"server.prot"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %s:\n%s", want, msg)
		}
	}
}

// TestGracefulShutdownFinishesInFlightReview: on SIGTERM (context
// cancelled) a review already waiting on STS still gets its answer; /readyz
// turns 503 meanwhile so load balancers stop sending new reviews; the
// command then exits 0.
func TestGracefulShutdownFinishesInFlightReview(t *testing.T) {
	e := start(t, envOptions{})
	tok := e.sign(t, bobKey, time.Now())
	e.double.SetLatency(1500 * time.Millisecond)
	type answer struct {
		r   *demo.Review
		err error
	}
	got := make(chan answer, 1)
	go func() {
		r, err := e.srv.Review(context.Background(), tok)
		got <- answer{r, err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for e.double.Calls() == 0 { // the review is now waiting on STS
		if time.Now().After(deadline) {
			t.Fatal("review never reached STS")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopped := make(chan int, 1)
	go func() { stopped <- e.srv.Stop() }()

	if code := readyzDuringDrain(e.srv.HealthURL); code != http.StatusServiceUnavailable {
		t.Errorf("readyz while draining: %d, want 503", code)
	}
	a := <-got
	if a.err != nil {
		t.Fatalf("in-flight review was dropped: %v", a.err)
	}
	wantAllowed(t, a.r)
	select {
	case code := <-stopped:
		if code != 0 {
			t.Fatalf("exit code %d after graceful shutdown", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after its last review")
	}
	if _, err := e.srv.Review(context.Background(), tok); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// readyzDuringDrain polls /readyz until it stops answering 200.
func readyzDuringDrain(base string) int {
	hc := &http.Client{Timeout: time.Second}
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		resp, err := hc.Get(base + "/readyz")
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode
		}
	}
	return http.StatusOK
}

// TestDeployableBinariesCannotUseTheDouble: the binaries users deploy link
// neither the STS double nor the demo harness, so no flag or environment
// variable can point them at a fake STS.
func TestDeployableBinariesCannotUseTheDouble(t *testing.T) {
	for _, pkg := range []string{"./cmd/iamgate-core", "./cmd/iamgate"} {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		deps := strings.Fields(string(out))
		for _, banned := range []string{"github.com/iamgate/iamgate/internal/testsupport/ststest", "github.com/iamgate/iamgate/internal/demo"} {
			for _, d := range deps {
				if d == banned {
					t.Errorf("%s links %s", pkg, banned)
				}
			}
		}
		if pkg == "./cmd/iamgate-core" && !strings.Contains(string(out), "github.com/iamgate/iamgate/internal/server\n") {
			t.Errorf("go list output for %s looks wrong: internal/server missing", pkg)
		}
	}
}
