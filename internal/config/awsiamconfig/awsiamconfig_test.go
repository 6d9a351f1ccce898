package awsiamconfig

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/file"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

var ignoreOrigin = cmpopts.IgnoreFields(mapping.Entry{}, "Origin")

func byKind(es []mapping.Entry, k mapping.Kind) []mapping.Entry {
	var out []mapping.Entry
	for _, e := range es {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// seed is shaped like the AWSIamConfig of seed document 002: an admin role
// and a user, both in system:masters.
const seed = `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: aws-iam-auth-config
  namespace: default
spec:
  awsRegion: us-west-2
  backendMode:
    - EKSConfigMap
  mapRoles:
    - roleARN: arn:aws:iam::111122223333:role/KubernetesAdmin
      username: admin:{{AccessKeyID}}:{{SessionName}}
      groups:
        - system:masters
  mapUsers:
    - userARN: arn:aws:iam::111122223333:user/alice
      username: alice
      groups:
        - system:masters
  partition: aws
`

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSeed(t *testing.T) {
	d, probs, err := Load(write(t, seed))
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	want := &Doc{
		Name: "aws-iam-auth-config", Namespace: "default", Line: 1,
		Region: "us-west-2", BackendMode: []string{"EKSConfigMap"}, Partition: "aws",
		Mappings: []mapping.Entry{
			{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/KubernetesAdmin",
				Username: "admin:{{AccessKeyID}}:{{SessionName}}", Groups: []string{"system:masters"}},
			{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:user/alice",
				Username: "alice", Groups: []string{"system:masters"}},
		},
	}
	if diff := cmp.Diff(want, d, ignoreOrigin); diff != "" {
		t.Fatalf("doc (-want +got):\n%s", diff)
	}

	// The entries serve as a file backend: the admin role's session maps.
	b, err := file.New("MountedFile", d.Mappings, rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Map(context.Background(), mapping.Identity{
		ARN:          "arn:aws:sts::111122223333:assumed-role/KubernetesAdmin/jane",
		CanonicalARN: "arn:aws:iam::111122223333:role/KubernetesAdmin",
		AccountID:    "111122223333", UserID: "AROAEXAMPLE:jane", SessionName: "jane", AccessKeyID: "ASIAEXAMPLE",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Username != "admin:ASIAEXAMPLE:jane" || !cmp.Equal(res.Groups, []string{"system:masters"}) {
		t.Fatalf("mapped to %q %v", res.Username, res.Groups)
	}
}

// An EKS Anywhere cluster spec holds several documents; only the
// AWSIamConfig one counts, wherever it sits.
func TestLoadPicksAWSIamConfigFromClusterSpec(t *testing.T) {
	spec := `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: Cluster
metadata:
  name: mgmt
spec:
  identityProviderRefs:
    - kind: AWSIamConfig
      name: aws-iam-auth-config
  unknownToUs: fine
---
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: VSphereDatacenterConfig
metadata:
  name: dc
spec: {}
---
` + seed + "---\n"
	d, probs, err := Load(write(t, spec))
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	if roles, users := byKind(d.Mappings, mapping.KindRole), byKind(d.Mappings, mapping.KindUser); d.Line != 17 || len(roles) != 1 || len(users) != 1 {
		t.Fatalf("picked doc at line %d with %d roles, %d users", d.Line, len(roles), len(users))
	}
}

// Entries go through awsauth.ParseSection: the result is the one a
// config file with the same entries gives.
func TestEntriesParseLikeConfigFile(t *testing.T) {
	entries := `
    - roleARN: arn:aws:iam::111122223333:role/teams/dev/deployer
      username: deployer
    - rolearn: arn:aws:sts::111122223333:assumed-role/ops/session
      username: ops-{{SessionName}}
      groups: [ops]
    - roleARN: arn:aws:iam::111122223333:role/pinned
      username: pinned
      userid: AROAPINNEDEXAMPLE1234`
	d, probs, err := Parse([]byte(strings.Replace(seed, `  mapRoles:
    - roleARN: arn:aws:iam::111122223333:role/KubernetesAdmin
      username: admin:{{AccessKeyID}}:{{SessionName}}
      groups:
        - system:masters`, "  mapRoles:"+entries, 1)), "")
	if err != nil || len(probs) != 0 {
		t.Fatalf("err %v, problems %v", err, probs)
	}
	want, wantProbs := awsauth.ParseSectionYAML(mapping.SectionRoles, []byte(entries), awsauth.Source{})
	if len(wantProbs) != 0 {
		t.Fatal(wantProbs)
	}
	// Lines differ between the two documents; what each entry says must not.
	if diff := cmp.Diff(want, byKind(d.Mappings, mapping.KindRole), ignoreOrigin); diff != "" {
		t.Fatalf("roles differ from a config file's (-config +awsiamconfig):\n%s", diff)
	}
}

func TestEntryProblems(t *testing.T) {
	doc := `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata: {name: x}
spec:
  awsRegion: cn-north-1
  backendMode: [EKSConfigMap, CRD]
  partition: aws-cn
  mapRoles:
    - rolarn: arn:aws-cn:iam::111122223333:role/typo
      username: typo
    - roleARN: arn:aws:iam::111122223333:role/commercial
      username: wrong-partition
    - roleARN: arn:aws-cn:iam::111122223333:role/good
      username: good
    - roleARN: arn:aws-cn:iam::111122223333:role/badtemplate
      username: "{{Bogus}}"
`
	d, probs, err := Parse([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.Error())
	}
	want := []string{
		`spec.mapRoles[0] (line 9): unknown field "rolarn"`,
		// Problems now name the entry's ARN after its place.
		`spec.mapRoles[1] (line 11) (arn:aws:iam::111122223333:role/commercial): rolearn is in partition "aws" but spec.partition is "aws-cn"`,
		`spec.mapRoles[3] (line 16): `,
	}
	if len(got) != len(want) {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want prefix %q", i, got[i], want[i])
		}
	}
	if !mapping.HasFatal(probs) || !probs[2].Fatal {
		t.Errorf("an unknown template must be fatal: %+v", probs)
	}
	// The entry with a bad template stays as a placeholder (it names its
	// role); "rolarn" names none.
	if roles := byKind(d.Mappings, mapping.KindRole); len(roles) != 2 || roles[0].Username != "good" || roles[1].Refused == nil {
		t.Errorf("roles = %+v, want the good one and a placeholder", roles)
	}
}

func TestErrors(t *testing.T) {
	repl := func(old, new string) string {
		if !strings.Contains(seed, old) {
			t.Fatalf("seed lacks %q", old)
		}
		return strings.Replace(seed, old, new, 1)
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"wrong kind", repl("kind: AWSIamConfig", "kind: OIDCConfig"),
			`no AWSIamConfig document (apiVersion anywhere.eks.amazonaws.com/v1alpha1) found; the file holds: OIDCConfig`},
		{"wrong apiVersion", repl("anywhere.eks.amazonaws.com/v1alpha1", "anywhere.eks.amazonaws.com/v1beta1"),
			`line 1: AWSIamConfig has apiVersion "anywhere.eks.amazonaws.com/v1beta1"`},
		{"unknown spec field", repl("  partition: aws", "  mapRole: []"), `line 20: unknown field "spec.mapRole"`},
		{"unknown top-level field", repl("spec:", "extra: 1\nspec:"), `line 6: unknown field "extra"`},
		{"old clusterID field", repl("  partition: aws", "  clusterID: c1"), `line 20: field "spec.clusterID": is not part of AWSIamConfig`}, // the shared awsauth.EachKey quotes the field
		{"duplicate field", repl("  partition: aws", "  AWSRegion: us-east-1"), `line 20: field "spec.AWSRegion" repeats the field on line 7`},
		{"no region", repl("  awsRegion: us-west-2\n", ""), `spec.awsRegion is required`},
		{"no backend", repl("  backendMode:\n    - EKSConfigMap\n", ""), `spec.backendMode is required`},
		{"mounted file", repl("- EKSConfigMap", "- MountedFile"), `does not support the MountedFile backend`},
		{"unknown backend", repl("- EKSConfigMap", "- ConfigMap"), `unknown backend "ConfigMap"`},
		{"bad partition", repl("partition: aws", "partition: aws-mars"), `unknown partition "aws-mars"`},
		{"region not a string", repl("awsRegion: us-west-2", "awsRegion: [a]"), `field "spec.awsRegion": must be a string`}, // the shared awsauth.EachKey quotes the field
		{"no spec", "apiVersion: anywhere.eks.amazonaws.com/v1alpha1\nkind: AWSIamConfig\n", `has no spec`},
		{"two documents", seed + "---\n" + seed, `2 AWSIamConfig documents (at lines 1, 22); exactly one is required`},
		{"empty", "# nothing\n", `the file is empty`},
		{"not yaml", "kind: [", `parse yaml`},
		{"not a mapping", "- a\n", `must be a mapping`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, tc.doc)
			_, _, err := Load(path)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("error %q; want it to start with the path and contain %q", err, tc.want)
			}
		})
	}
}

// EKS Anywhere's older drafts kept mapRoles as an aws-auth style string; the
// shape is wrong for v1alpha1 as written today and must not load quietly
// empty.
func TestStringMapRolesIsFatal(t *testing.T) {
	doc := strings.Replace(seed, `  mapUsers:
    - userARN: arn:aws:iam::111122223333:user/alice
      username: alice
      groups:
        - system:masters
`, "  mapUsers: |\n    - userarn: arn:aws:iam::111122223333:user/alice\n      username: alice\n", 1)
	_, probs, err := Parse([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	if !mapping.HasFatal(probs) || !strings.HasPrefix(probs[0].Error(), "spec.mapUsers (line 15): must be a list") {
		t.Fatalf("problems %v", probs)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultPartition(t *testing.T) {
	d, _, err := Parse([]byte(strings.Replace(seed, "  partition: aws\n", "", 1)), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Partition != "aws" {
		t.Fatalf("partition %q", d.Partition)
	}
}
