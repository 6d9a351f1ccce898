package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// sizeBaseline is the stripped size of iamgate-core as `make build` makes it,
// recorded with the Go release below. Shipping size is what operators pull on
// every control-plane node, and it jumps by tens of megabytes whenever one
// dependency switches off the linker's removal of unused methods, so a jump
// must be a decision, not an accident. After a deliberate change re-record
// both values together with the figures in docs/benchmarks.md.
const (
	sizeBaseline   = 89_964_809
	sizeBaselineGo = "go1.26"
	sizeTolerance  = 0.10
)

func TestStrippedSizeWithinBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: links the whole core binary (seconds with a warm build cache, minutes cold)")
	}
	if !strings.HasPrefix(runtime.Version(), sizeBaselineGo) {
		t.Skipf("baseline was recorded with %s; %s links differently, re-record sizeBaseline", sizeBaselineGo, runtime.Version())
	}
	ldflags := makefileLDFlags(t)
	out := filepath.Join(t.TempDir(), "iamgate-core")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	tolerance := sizeTolerance
	limit := int64(float64(sizeBaseline) * (1 + tolerance))
	t.Logf("iamgate-core (-ldflags=%q): %s, baseline %s, limit %s", ldflags, mb(fi.Size()), mb(sizeBaseline), mb(limit))
	if fi.Size() > limit {
		t.Fatalf("iamgate-core is %s stripped, more than %.0f%% over the recorded %s: a new dependency or a reflective "+
			"Method/MethodByName call (text/template, go-cmp, ...) may have switched off unused-method removal; "+
			"find it with `go build -ldflags=-dumpdep ./cmd/iamgate-core 2>&1 | grep ReflectMethod` (see docs/benchmarks.md)",
			mb(fi.Size()), sizeTolerance*100, mb(sizeBaseline))
	}
}

// makefileLDFlags reads LDFLAGS from the Makefile so the test measures the
// binary that `make build` ships, not one built with different flags.
func makefileLDFlags(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatalf("reading the Makefile for LDFLAGS: %v", err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^LDFLAGS\s*\??=\s*(.*)$`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			return strings.TrimSpace(m[1])
		}
	}
	t.Fatal("Makefile: no LDFLAGS line; the size test builds with the Makefile's flags")
	return ""
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
