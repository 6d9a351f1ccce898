package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// init must refuse, before writing anything, every config file the server
// refuses at start: here entries that only building the MountedFile
// backend finds wrong (a reserved name, overlapping patterns).
func TestInitRefusesWhatServerRefuses(t *testing.T) {
	for name, entries := range map[string]string{
		"reserved name": "  - rolearn: arn:aws:iam::111122223333:role/admin\n    username: system:admin\n",
		"overlap": "  - rolearn: arn:aws:iam::111122223333:role/ci-*\n    username: a\n" +
			"  - rolearn: arn:aws:iam::111122223333:role/ci-*x\n    username: b\n",
		"node username on a pattern": "  - rolearn: arn:aws:iam::111122223333:role/fargate-*\n    username: system:node:{{SessionName}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			e := newInitEnv(t)
			cfg := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(cfg, []byte("clusterID: c\nserver:\n  mapRoles:\n"+entries), 0o600); err != nil {
				t.Fatal(err)
			}
			if code := e.run("-c", cfg); code == 0 {
				t.Fatalf("init accepted a config the server refuses; stdout %s", e.stdout)
			}
			if !strings.Contains(e.stderr, cfg+":") || !strings.Contains(e.stderr, "mapRoles[") {
				t.Errorf("error %q does not name the file, line and entry", e.stderr)
			}
			if _, err := os.Stat(e.state); !os.IsNotExist(err) {
				t.Errorf("state dir written before the config was checked: %v", err)
			}
			if _, err := os.Stat(e.kubecfg); !os.IsNotExist(err) {
				t.Errorf("kubeconfig written before the config was checked: %v", err)
			}
		})
	}
}
