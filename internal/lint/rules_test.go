package lint

import (
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

const nodeRole = `    - rolearn: arn:aws:iam::111122223333:role/eks-node
      username: system:node:{{EC2PrivateDNSName}}
      groups:
        - system:bootstrappers
        - system:nodes
`

// TestRules has one bad document per rule; "# want RULE" marks each line
// a finding must be reported on, and no other finding may appear.
func TestRules(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		o    Options
	}{
		{"yaml-syntax", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/a
      username: a: b # want yaml-syntax
`), Options{}},
		// The YAML parser names the line it gave up on, here the one
		// before the badly indented key.
		{"yaml-syntax-indent", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/a
      username: a # want yaml-syntax
     groups: [x]
`), Options{}},
		{"section-not-list", configMap(`  mapRoles: |
    rolearn: arn:aws:iam::111122223333:role/a # want section-not-list
    username: a
`), Options{}},
		{"unknown-key", configMap(`  mapRoles: |
    - rolearns: arn:aws:iam::111122223333:role/a # want unknown-key
      username: a
    - rolearn: arn:aws:iam::111122223333:role/b
      username: b
      group: [devs] # want unknown-key
`), Options{}},
		{"key-case", configMap(`  mapRoles: |
    - roleArn: arn:aws:iam::111122223333:role/a # want key-case
      UserName: a # want key-case
`), Options{}},
		{"wrong-section-key", configMap(`  mapRoles: |
    - userarn: arn:aws:iam::111122223333:user/a # want wrong-section-key
      username: a
  mapUsers: |
    - rolearn: arn:aws:iam::111122223333:role/b # want wrong-section-key
      username: b
`), Options{}},
		{"role-in-mapusers", configMap(`  mapUsers: |
    - userarn: arn:aws:iam::111122223333:role/a # want role-in-mapusers
      username: a
`), Options{}},
		{"user-in-maproles", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:user/a # want user-in-maproles
      username: a
`), Options{}},
		{"assumed-role-arn", configMap(`  mapRoles: |
    - rolearn: arn:aws:sts::111122223333:assumed-role/Admin/alice # want assumed-role-arn
      username: admin
`), Options{}},
		{"instance-profile-arn", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:instance-profile/eks-node # want instance-profile-arn
      username: system:node:{{EC2PrivateDNSName}}
      groups: [system:bootstrappers, system:nodes]
`), Options{}},
		{"malformed-arn", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam:us-east-1:111122223333:role/a # want malformed-arn
      username: a
`), Options{}},
		{"account-id", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::11112222333:role/a # want account-id
      username: a
  mapAccounts: |
    - "1111222233334" # want account-id
`), Options{}},
		{"placeholder", configMap(`  mapRoles: |
    - rolearn: <role-arn> # want placeholder
      username: a
    - rolearn: arn:aws:iam::ACCOUNT_ID:role/b # want placeholder
      username: b
    - rolearn: arn:aws:iam::XXXXXXXXXXXX:role/c # want placeholder
      username: c
    - rolearn: arn:aws:iam::111122223333:role/d
      username: <username> # want placeholder
    - rolearn: arn:aws:iam::111122223333:role/e
      username: e
      groups: ["{{ .Values.group }}"] # want placeholder
`), Options{}},
		{"example-account", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::123456789012:role/a # want example-account
      username: a
`), Options{}},
		{"role-path", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/teams/dev # want role-path
      username: dev
`), Options{}},
		{"sso-role-arn", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef # want sso-role-arn
      username: admin:{{SessionName}}
`), Options{}},
		{"duplicate-arn", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/dev # want duplicate-arn
      username: dev
    - rolearn: arn:aws:iam::111122223333:role/DEV
      username: dev2
`), Options{}},
		{"overlapping-patterns", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/dev-*
      username: dev
    - rolearn: arn:aws:iam::111122223333:role/dev-*-x # want overlapping-patterns
      username: devx
`), Options{Rules: rules.Options{}}},
		{"reserved-name", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/a
      username: system:admin # want reserved-name
`), Options{}},
		{"template-before-colon", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/a
      username: "{{SessionName}}:admin" # want template-before-colon
`), Options{}},
		{"unknown-template", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/a
      username: "admin:{{Session}}" # want unknown-template
`), Options{}},
		{"node-role-shape", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/eks-node
      username: system:node:{{EC2PrivateDNSName}}
      groups: # want node-role-shape
        - system:nodes
    - rolearn: arn:aws:iam::111122223333:role/eks-node-2
      username: node
      groups: [system:bootstrappers, system:nodes] # want node-role-shape
`), Options{}},
		{"system-masters", configMap(`  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/admin
      username: admin
      groups: [system:masters] # want system-masters
`), Options{}},
		{"map-accounts", configMap(`  mapAccounts: |
    - "111122223333" # want map-accounts
`), Options{}},
		{"access-entries", configMap(`  mapRoles: |
` + nodeRole + `    - rolearn: arn:aws:iam::111122223333:role/ops-* # want access-entries
      username: ops
    - rolearn: arn:aws:iam::111122223333:role/admin # want access-entries
      username: admin
      groups: [system:masters] # want system-masters
  mapGroups: |
    - grouparn: arn:aws:iam::111122223333:group/devs # want access-entries
      username: dev
  mapAccounts: |
    - "444455556666" # want map-accounts access-entries
`), Options{Target: TargetAccessEntries}},
		{"unbound-group", configMap(`  mapRoles: |
` + nodeRole + `    - rolearn: arn:aws:iam::111122223333:role/dev
      username: dev
      groups: [devs, viewers] # want unbound-group
`), Options{BoundGroups: map[string]bool{"viewers": true}}},
		{"unknown-data-key", configMap(`  mapRole: | # want unknown-data-key
    - rolearn: arn:aws:iam::111122223333:role/a
      username: a
  other: x # want unknown-data-key
`), Options{}},
		{"data-not-string", configMap(`  mapRoles:
    - rolearn: arn:aws:iam::111122223333:role/a # want data-not-string
      username: a
`), Options{}},
		{"namespace", `apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: default # want namespace
data:
  mapRoles: |
` + nodeRole, Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkWanted(t, "aws-auth.yaml", c.doc, c.o) })
	}
	// A file with nothing to check names no line.
	fs := File("x.yaml", []byte("kind: Secret\n"), Options{})
	if len(fs) != 1 || fs[0].Rule != "no-mappings" || fs[0].Line != 0 || fs[0].Severity != Error {
		t.Errorf("no-mappings: %v", fs)
	}
}

// TestShadowedByEarlierBackend: an entry an earlier backend already maps
// never applies.
func TestShadowedByEarlierBackend(t *testing.T) {
	first, ps := rules.Build("MountedFile", []mapping.Entry{{Kind: mapping.KindRole,
		ARN: "arn:aws:iam::111122223333:role/admin", Username: "admin"}}, rules.Options{})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	doc := configMap(`  mapRoles: |
` + nodeRole + `    - rolearn: arn:aws:iam::111122223333:role/admin # want shadowed-by-backend
      username: admin2
`)
	checkWanted(t, "aws-auth.yaml", doc, Options{Earlier: []mapping.Mapper{first}})
}
