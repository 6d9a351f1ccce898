package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exportConfig = `clusterID: lab
server:
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/platform/Admin
    username: admin:{{SessionName}}
    groups: [system:masters, ops]
  - rolearn: arn:aws:iam::111122223333:role/NoPath
    username: nopath
  mapAccounts: ["444455556666"]
`

// TestExportAccessEntriesCommand drives the command in-process: -o json is
// one document per line, what has no equivalent goes to stderr with the
// reason, and the exit status says some entries were not exported.
func TestExportAccessEntriesCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(exportConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "export", "access-entries", "--cluster", "lab", "-c", path, "--no-iam", "-o", "json")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (some entries not exported): %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 documents, got %q", out)
	}
	var create map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &create); err != nil || create["principalArn"] != "arn:aws:iam::111122223333:role/platform/Admin" ||
		create["type"] != "STANDARD" || create["clusterName"] != "lab" {
		t.Errorf("create document %s (%v)", lines[0], err)
	}
	if !strings.Contains(lines[1], `"policyArn":"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"`) {
		t.Errorf("associate document %s", lines[1])
	}
	for _, want := range []string{
		"not exported: MountedFile " + path + ":7: mapRoles[1] (arn:aws:iam::111122223333:role/NoPath): role written without its path",
		"not exported: MountedFile " + path + ":9: mapAccounts[0] (444455556666): mapAccounts has no access-entry equivalent",
		"error: 2 entries have no access-entry equivalent",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	code, script, _ := runCLI(t, "export", "access-entries", "--cluster", "lab", "-c", path, "--no-iam")
	if code != 2 || !strings.Contains(script, "aws eks create-access-entry --cluster-name lab --principal-arn arn:aws:iam::111122223333:role/platform/Admin --type STANDARD --username 'admin:{{SessionName}}' --kubernetes-groups ops\n") ||
		!strings.Contains(script, "#   MountedFile "+path+":9: mapAccounts[0]") {
		t.Errorf("-o cli: exit %d\n%s", code, script)
	}
}

func TestExportAccessEntriesBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--cluster NAME is required"},
		{[]string{"--cluster", "-bad"}, `--cluster "-bad" is not an EKS cluster name`},
		{[]string{"--cluster", "ok", "-o", "yaml"}, `unsupported output format "yaml" (cli or json)`},
	} {
		code, _, errs := runCLI(t, append([]string{"export", "access-entries"}, tc.args...)...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}
