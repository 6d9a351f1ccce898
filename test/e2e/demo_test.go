package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/demo"
)

// TestDemoOutcomes runs exactly what `go run ./cmd/iamgate-demo` runs and
// requires every sample's expected answer, including the reason the audit
// log gives for each refusal and the number of STS calls.
func TestDemoOutcomes(t *testing.T) {
	rep, err := demo.Run(context.Background(), demo.Options{Config: []byte(exampleConfig(t)), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != len(demo.Samples()) {
		t.Fatalf("%d rows for %d samples", len(rep.Rows), len(demo.Samples()))
	}
	allowed := 0
	for _, row := range rep.Rows {
		t.Run(row.Sample.Name, func(t *testing.T) {
			if len(row.Mismatches) > 0 {
				t.Fatalf("unexpected outcome: %s", strings.Join(row.Mismatches, "; "))
			}
		})
		if row.Allowed {
			allowed++
		}
	}
	// Guard the expectations themselves: the demo must show both sides.
	if allowed != 4 || len(rep.Rows)-allowed != 4 {
		t.Errorf("%d allowed, %d denied; the demo should show 4 of each", allowed, len(rep.Rows)-allowed)
	}
	if rep.ExitCode != 0 || rep.Check() != nil {
		t.Errorf("exit code %d, check %v", rep.ExitCode, rep.Check())
	}
	var out strings.Builder
	rep.Print(&out)
	for _, want := range []string{"admin:ASIADEMOADMIN0000001:alice-example.com", "k10:backup@ci", "not_mapped", "sts_invalid", "expired", "{{EC2PrivateDNSName}}", rep.LogPath} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed table lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDemoFailsOnUnexpectedOutcome shows the demo is a check: with bob's
// mapping gone, his row is refused, and the report says so.
func TestDemoFailsOnUnexpectedOutcome(t *testing.T) {
	cfg := strings.Replace(exampleConfig(t), "user/bob", "user/robert", 1)
	rep, err := demo.Run(context.Background(), demo.Options{Config: []byte(cfg), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !errors.Is(rep.Check(), demo.ErrMismatch) {
		t.Fatal("report OK although bob is no longer mapped")
	}
	for _, row := range rep.Rows {
		if bad := len(row.Mismatches) > 0; bad != (row.Sample.Name == "IAM user") {
			t.Errorf("%s: mismatches %q", row.Sample.Name, row.Mismatches)
		}
	}
	var out strings.Builder
	rep.Print(&out)
	if !strings.Contains(out.String(), "UNEXPECTED IAM user") {
		t.Errorf("printed report does not flag the row:\n%s", out.String())
	}
}
