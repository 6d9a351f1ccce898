package lint

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ruleSetRe finds where the package names a rule: Finding{Rule: "x"},
// add(Error, "x", …), and the problemRules table.
var ruleSetRe = regexp.MustCompile(`(?m)(?:Rule: |add\((?:Error|Warning), |^\t\{)"([a-z][a-z0-9-]*)"`)

// TestEveryRuleDocumented: each rule id the package can report has its
// row in docs/lint.md, with a bad and a fixed example.
func TestEveryRuleDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/lint.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.go")
	ids := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		for _, m := range ruleSetRe.FindAllStringSubmatch(string(src), -1) {
			ids[m[1]] = true
		}
	}
	for _, extra := range []string{"no-aws-auth"} { // set by the CLI's --live
		ids[extra] = true
	}
	if len(ids) < 35 {
		t.Fatalf("found only %d rule ids in the source: the scan is broken (%v)", len(ids), ids)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		if m := regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|").FindStringSubmatch(l); m != nil {
			rows[m[1]] = l
		}
	}
	for id := range ids {
		row, ok := rows[id]
		if !ok {
			t.Errorf("rule %q has no row in docs/lint.md", id)
			continue
		}
		if strings.Count(row, "|") < 6 {
			t.Errorf("rule %q: its row needs severity, what, bad and fixed: %s", id, row)
		}
	}
	for id := range rows {
		if !ids[id] {
			t.Errorf("docs/lint.md documents %q, which the package never reports", id)
		}
	}
}
