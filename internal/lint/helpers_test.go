package lint

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// wantRe marks an expected finding at the end of a line of a test
// document: "# want rule-id [rule-id…]".
var wantRe = regexp.MustCompile(`#\s*want\s+([a-z0-9 -]+)\s*$`)

// wanted reads the markers of doc: "LINE rule" pairs, sorted.
func wanted(doc string) []string {
	var out []string
	for i, l := range strings.Split(doc, "\n") {
		if m := wantRe.FindStringSubmatch(l); m != nil {
			for _, r := range strings.Fields(m[1]) {
				out = append(out, fmt.Sprintf("%d %s", i+1, r))
			}
		}
	}
	slices.Sort(out)
	return out
}

// got is what fs found, as "LINE rule" pairs, sorted.
func got(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d %s", f.Line, f.Rule))
	}
	slices.Sort(out)
	return out
}

func dump(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

// configMap wraps data lines (already indented by four) in an aws-auth
// manifest; mapRoles' value starts on line 8.
func configMap(body string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: aws-auth\n  namespace: kube-system\ndata:\n" + body
}

func checkWanted(t *testing.T, name, doc string, o Options) {
	t.Helper()
	fs := File(name, []byte(doc), o)
	if w, g := wanted(doc), got(fs); !slices.Equal(w, g) {
		t.Errorf("%s: findings (line rule)\n got %q\nwant %q\n%s", name, g, w, dump(fs))
	}
	for _, f := range fs {
		if f.Message == "" || f.Rule == "" || f.File != name {
			t.Errorf("%s: finding without message, rule or file: %+v", name, f)
		}
	}
}
