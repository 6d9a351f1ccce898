package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLint: any input gives findings, never a panic, and every finding
// names a rule, a severity and a message, on a line of the input.
func FuzzLint(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(configMap("  mapRoles: |\n" + nodeRole + "    - rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n      username: a\n")))
	f.Add([]byte(`{"mapRoles":[{"rolearn":"arn:aws:iam::111122223333:role/a","username":"a"}],"mapAccounts":["111122223333"]}`))
	f.Add([]byte("kind: List\nitems:\n- kind: ConfigMap\n  metadata: {name: aws-auth}\n  data: {mapRoles: \"- &a {rolearn: x}\\n- *a\\n\"}\n"))
	f.Add([]byte("kind: IAMIdentityMapping\nmetadata: {name: a}\nspec: {arn: 'arn:aws:iam::111122223333:role/*', username: x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, fd := range File("f.yaml", data, Options{Target: TargetAccessEntries, BoundGroups: map[string]bool{}}) {
			if fd.Rule == "" || fd.Message == "" || (fd.Severity != Error && fd.Severity != Warning) {
				t.Fatalf("incomplete finding %+v", fd)
			}
			if fd.Line < 0 || fd.Line > lines {
				t.Fatalf("line %d outside the input's %d lines: %+v", fd.Line, lines, fd)
			}
		}
	})
}
