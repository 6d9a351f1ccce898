package config

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary files to the config loader. It must not panic
// (a server that crashes on its own config cannot say which line to fix),
// must read the same file the same way twice, must say where the mapping
// entries it read are written, and Default and Validate must take whatever
// Parse accepted.
func FuzzParse(f *testing.F) {
	f.Add([]byte(aiaConfig))
	f.Add([]byte("clusterID: c\nserver:\n  port: 1\n  stsTimeout: 3s\n  stsCacheTTL: 0s\n  backendMode: [MountedFile, EKSConfigMap]\n"))
	f.Add([]byte("server:\n  mapRoles: &r\n  - rolearn: arn:aws:iam::111122223333:role/A\n    username: a\n  mapUsers: *r\n"))
	f.Add([]byte("featureGates: ConfiguredInitDirectories=true\nserver:\n  reservedPrefixConfig:\n    mapRoles: [\"system:\"]\n"))
	f.Add([]byte("server:\n  port: \"21362\"\n  healthPort: -1\n  scrubbedAccounts: [111122223333]\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("clusterID: a\nClusterID: b\n"))
	const file = "/etc/iamgate/config.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, file)
		c2, err2 := Parse(data, file)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("two parses disagree: %v vs %v", err, err2)
		}
		if err != nil {
			if c != nil {
				t.Fatal("config returned with an error")
			}
			if err.Error() != err2.Error() || strings.TrimSpace(err.Error()) == "" {
				t.Fatalf("unstable or empty error: %q vs %q", err, err2)
			}
			return
		}
		if !reflect.DeepEqual(c.Server.Mappings, c2.Server.Mappings) || c.ClusterID != c2.ClusterID {
			t.Fatal("two parses of one file differ")
		}
		for _, e := range c.Server.Mappings {
			if e.Origin.File != file || e.Origin.Backend != "MountedFile" {
				t.Fatalf("entry placed at %+v, want in %s", e.Origin, file)
			}
		}
		for _, p := range c.Problems {
			if p.Err == nil || !strings.Contains(p.Error(), file) {
				t.Fatalf("problem %q does not name the file", p.Error())
			}
		}
		c.Default()
		_ = c.Validate()
	})
}
