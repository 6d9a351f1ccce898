package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFrontStaysLean pins the front's dependencies: every kubectl call pays
// for the package initialisation of whatever this binary links (the AWS SDK
// and cobra add ~4 ms, client-go and Prometheus ~15 ms more; the budget for a
// cache hit is 5 ms in total).
func TestFrontStaysLean(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	banned := []string{"github.com/aws/", "k8s.io/", "sigs.k8s.io/", "github.com/spf13/cobra", "prometheus", "google.golang.org/", "golang.org/x/"}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if strings.Contains(pkg, b) && !strings.HasPrefix(pkg, "vendor/") {
				bad = append(bad, pkg)
			}
		}
	}
	if len(bad) > 0 {
		t.Fatalf("cmd/iamgate must stay lean, but it links %v", bad)
	}
	if !strings.Contains(string(out), "github.com/spf13/pflag") {
		t.Fatal("go list output looks wrong: pflag missing")
	}
}
