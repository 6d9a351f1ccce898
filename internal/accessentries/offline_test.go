package accessentries

import (
	"slices"
	"strings"
	"testing"
)

// Entries that need no IAM: roles written with their path, users.
var offlineAWSAuth = map[string]string{
	"mapRoles": `- rolearn: arn:aws:iam::111122223333:role/eks/NodeInstanceRole
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes, extra]
- rolearn: arn:aws:iam::111122223333:role/platform/Admin
  username: admin:{{SessionName}}
  groups: [system:masters, ops, ops]
- rolearn: arn:aws:iam::111122223333:role/platform/Win
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes, eks:kube-proxy-windows]
- rolearn: arn:aws:iam::111122223333:role/ci/Deployer
  username: deploy-{{SessionName}}
- rolearn: arn:aws:iam::111122223333:role/ci/Acct
  username: ci:{{AccountID}}:{{SessionNameRaw}}
- rolearn: arn:aws:iam::111122223333:role/eks/Fargate
  username: system:node:{{SessionName}}
  groups: [system:bootstrappers, system:nodes, system:node-proxier]
- rolearn: arn:aws:iam::111122223333:role/team-*
  username: team
- rolearn: arn:aws:iam::111122223333:role/NoPath
  username: nopath
- rolearn: arn:aws:iam::111122223333:role/a/Shadowed
  username: first
- rolearn: arn:aws:iam::111122223333:role/a/Shadowed
  username: second
`,
	"mapUsers": `- userarn: arn:aws:iam::111122223333:user/alice
  username: alice
  groups: [dev, system:node-proxier]
- userarn: arn:aws:iam::111122223333:user/keys
  username: key-{{AccessKeyID}}
- userarn: arn:aws:iam::111122223333:user/sess
  username: u:{{SessionName}}
- userarn: arn:aws:iam::111122223333:root
  username: root
`,
	"mapGroups": `- grouparn: arn:aws:iam::111122223333:group/devs
  username: dev:{{SessionName}}
  groups: [dev]
`,
	"mapAccounts": `- "444455556666"
`,
}

func TestExportWithoutIAM(t *testing.T) {
	p := plan(t, Options{}, source(t, "EKSConfigMap", offlineAWSAuth))

	node := export(p, "arn:aws:iam::111122223333:role/eks/NodeInstanceRole")
	if node == nil || node.Create.Type != TypeEC2Linux || node.Create.Username != "" || node.Create.KubernetesGroups != nil {
		t.Errorf("node entry = %+v", node)
	} else if !slices.ContainsFunc(node.Notes, func(n string) bool { return strings.Contains(n, "extra") }) {
		t.Errorf("node entry's extra group not named: %q", node.Notes)
	}
	if w := export(p, "arn:aws:iam::111122223333:role/platform/Win"); w == nil || w.Create.Type != TypeEC2Windows {
		t.Errorf("windows node entry = %+v", w)
	}
	admin := export(p, "arn:aws:iam::111122223333:role/platform/Admin")
	if admin == nil || admin.Create.Type != TypeStandard || admin.Create.Username != "admin:{{SessionName}}" ||
		!slices.Equal(admin.Create.KubernetesGroups, []string{"ops"}) || len(admin.Associate) != 1 {
		t.Fatalf("admin entry = %+v", admin)
	}
	if a := admin.Associate[0]; a.PolicyArn != "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" ||
		a.AccessScope.Type != "cluster" || a.PrincipalArn != admin.Create.PrincipalArn || a.ClusterName != "lab" {
		t.Errorf("admin policy = %+v", a)
	}
	if u := export(p, "arn:aws:iam::111122223333:role/ci/Acct"); u == nil || u.Create.Username != "ci:111122223333:{{SessionNameRaw}}" {
		t.Errorf("{{AccountID}} entry = %+v", u)
	}
	alice := export(p, "arn:aws:iam::111122223333:user/alice")
	if alice == nil || !slices.Equal(alice.Create.KubernetesGroups, []string{"dev"}) ||
		!slices.ContainsFunc(alice.Notes, func(n string) bool { return strings.Contains(n, "system:node-proxier dropped") }) {
		t.Errorf("alice = %+v", alice)
	}
	if s := export(p, "arn:aws:iam::111122223333:role/a/Shadowed"); s == nil || s.Create.Username != "second" {
		t.Errorf("the later of two entries must be exported, got %+v", s)
	}

	for names, want := range map[string]string{
		"arn:aws:iam::111122223333:role/ci/Deployer": "colon right before {{SessionName}}",
		"arn:aws:iam::111122223333:role/eks/Fargate": "FARGATE_LINUX or HYBRID_LINUX",
		"arn:aws:iam::111122223333:role/team-*":      "pattern",
		"arn:aws:iam::111122223333:role/NoPath":      "without its path and no AWS credentials",
		"arn:aws:iam::111122223333:user/keys":        "{{AccessKeyID}}",
		"arn:aws:iam::111122223333:user/sess":        "only role sessions have",
		"arn:aws:iam::111122223333:root":             "account root",
		"arn:aws:iam::111122223333:group/devs":       "mapGroups has no access-entry equivalent",
		"444455556666":                               "mapAccounts has no access-entry equivalent",
		"arn:aws:iam::111122223333:role/a/Shadowed":  "shadowed",
	} {
		if got := skipped(p, names); !strings.Contains(got, want) {
			t.Errorf("%s: skipped for %q, want it to say %q", names, got, want)
		}
	}
	// Nothing silently dropped: every entry is exported or listed.
	if n := len(p.Exports) + len(p.Skipped); n != 16 {
		t.Errorf("%d exported + %d skipped, want the 16 entries", len(p.Exports), len(p.Skipped))
	}
}

// iamgate refuses these usernames at load unless allowlisted
// (server.allowReserved); an allowlisted one must still not be exported.
func TestExportReservedUsername(t *testing.T) {
	for _, u := range []string{"eks:ops", "system:admin", "AWS:x", "amazon:y", "iam:z"} {
		if _, _, err := username(u, true, "111122223333"); err == nil || !strings.Contains(err.Error(), "EKS refuses") {
			t.Errorf("username(%q) = %v", u, err)
		}
	}
	if got, _, err := username("ops:{{SessionName}}", true, ""); err != nil || got != "ops:{{SessionName}}" {
		t.Errorf("ops:{{SessionName}} = %q, %v", got, err)
	}
}

// TestExportFirstBackendDecides: the server asks backends in order, so a
// principal's first backend's entry is the one exported, and one the
// first backend refuses is not exported from a later backend.
func TestExportFirstBackendDecides(t *testing.T) {
	first := source(t, "MountedFile", map[string]string{"mapRoles": `- rolearn: arn:aws:iam::111122223333:role/p/Dup
  username: from-file
- rolearn: arn:aws:iam::111122223333:role/p/Denied
  username: system:admin
- rolearn: arn:aws:iam::111122223333:role/wide-*
  username: wide
`})
	second := source(t, "EKSConfigMap", map[string]string{"mapRoles": `- rolearn: arn:aws:iam::111122223333:role/Dup
  username: from-cm
- rolearn: arn:aws:iam::111122223333:role/q/Denied
  username: later
- rolearn: arn:aws:iam::111122223333:role/p/wide-1
  username: narrow
`})
	p := plan(t, Options{}, first, second)
	if d := export(p, "arn:aws:iam::111122223333:role/p/Dup"); d == nil || d.Create.Username != "from-file" {
		t.Errorf("Dup = %+v", d)
	}
	if got := skipped(p, "arn:aws:iam::111122223333:role/Dup"); !strings.Contains(got, "already exported from MountedFile") {
		t.Errorf("second Dup: %q", got)
	}
	if export(p, "arn:aws:iam::111122223333:role/q/Denied") != nil {
		t.Error("a principal the first backend refuses (the server denies it) was exported from a later backend")
	}
	if got := skipped(p, "arn:aws:iam::111122223333:role/q/Denied"); !strings.Contains(got, "the server denies this principal") {
		t.Errorf("later Denied: %q", got)
	}
	w := export(p, "arn:aws:iam::111122223333:role/p/wide-1")
	if w == nil || !slices.ContainsFunc(w.Notes, func(n string) bool { return strings.Contains(n, "MountedFile") && strings.Contains(n, "first") }) {
		t.Errorf("entry behind an earlier backend's pattern = %+v", w)
	}
}
