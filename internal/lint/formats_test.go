package lint

import (
	"strings"
	"testing"
)

// find returns the findings of rule.
func find(fs []Finding, rule string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// TestLinesInScalarStyles: literal blocks map to exact file lines whatever
// their chomping or indentation indicator; folded and quoted values cannot
// be mapped, and the finding says so on the key's line.
func TestLinesInScalarStyles(t *testing.T) {
	cases := []struct {
		name, doc string
		line      int
		note      bool
	}{
		{"literal", "kind: ConfigMap\nmetadata: {name: aws-auth}\ndata:\n  mapRoles: |\n    - rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n      username: a\n", 5, false},
		{"strip", "kind: ConfigMap\nmetadata: {name: aws-auth}\ndata:\n  mapRoles: |-\n\n    - rolearn: arn:aws:iam::111122223333:role/b\n      username: b\n    - rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n      username: a\n", 8, false},
		{"keep-indent-indicator", "kind: ConfigMap\nmetadata: {name: aws-auth}\ndata:\n  mapRoles: |+2\n      - rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n        username: a\n\n", 5, false},
		{"indicator-on-next-line", "kind: ConfigMap\nmetadata: {name: aws-auth}\ndata:\n  mapRoles:\n    |\n      - rolearn: arn:aws:iam::111122223333:role/b\n        username: b\n      - rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n        username: a\n", 8, false},
		{"folded", "kind: ConfigMap\nmetadata: {name: aws-auth}\ndata:\n  mapRoles: >\n    - rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n\n      username: a\n", 4, true},
		{"json", `{"apiVersion":"v1","kind":"ConfigMap",` + "\n" + `"metadata":{"name":"aws-auth","namespace":"kube-system"},` + "\n" +
			`"data":{"mapRoles":"- rolearn: arn:aws:iam::111122223333:role/b\n  username: b\n- rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n  username: a\n"}}`, 3, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := find(File("cm.yaml", []byte(c.doc), Options{}), "assumed-role-arn")
			if len(fs) != 1 || fs[0].Line != c.line {
				t.Fatalf("want one assumed-role-arn on line %d, got %v", c.line, fs)
			}
			if got := strings.Contains(fs[0].Message, "cannot be mapped"); got != c.note {
				t.Errorf("note about unmapped lines: %v, want %v: %s", got, c.note, fs[0].Message)
			}
		})
	}
}

// TestInputs reads each kind of input iamgate lint accepts and finds the
// same mistake on its exact line.
func TestInputs(t *testing.T) {
	cases := []struct {
		name, doc string
		rule      string
		line      int
	}{
		{"several documents (kustomize output)", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
data:
  mapRoles: "not read"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: aws-auth
  namespace: kube-system
data:
  mapRoles: |
    - rolearn: arn:aws:iam::111122223333:role/a
      usrname: a
`, "unknown-key", 21},
		{"kubectl List", `apiVersion: v1
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: aws-auth
    namespace: kube-system
  data:
    mapUsers: |
      - userarn: arn:aws:iam::111122223333:role/r
        username: r
kind: List
metadata:
  resourceVersion: ""
`, "role-in-mapusers", 10},
		{"config file", `clusterID: prod
server:
  port: 21362
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/a
    username: a
  - rolearn: arn:aws:iam::111122223333:instance-profile/a
    username: b
`, "instance-profile-arn", 7},
		{"config file key", `clusterID: prod
server:
  prot: 21362
`, "config-file", 3},
		{"dynamic file (JSON)", `{
  "mapRoles": [
    {"rolearn": "arn:aws:iam::111122223333:role/a", "username": "a"},
    {"rolearn": "arn:aws:iam::111122223333:role/a", "username": "b"}
  ]
}`, "duplicate-arn", 3},
		{"dynamic file key", `{"mapRole": []}`, "unknown-key", 1},
		{"AWSIamConfig", `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: c
spec:
  awsRegion: us-west-2
  backendMode: [EKSConfigMap]
  mapRoles:
  - roleARN: arn:aws:iam::111122223333:role/a
    username: "{{SessionName}}:a"
`, "template-before-colon", 10},
		{"IAMIdentityMapping", `apiVersion: iamauthenticator.k8s.aws/v1alpha1
kind: IAMIdentityMapping
metadata:
  name: a
spec:
  arn: arn:aws:iam::111122223333:role/a
  username: a
---
apiVersion: iamauthenticator.k8s.aws/v1alpha1
kind: IAMIdentityMapping
metadata:
  name: b
spec:
  arn: arn:aws:iam::111122223333:role/b
  username: b
  userid: AROAEXAMPLE
`, "unknown-key", 16},
		{"IAMIdentityMapping assumed role", `apiVersion: iamauthenticator.k8s.aws/v1alpha1
kind: IAMIdentityMapping
metadata:
  name: a
spec:
  username: a
  arn: arn:aws:sts::111122223333:assumed-role/A/s
`, "assumed-role-arn", 7},
		{"not YAML", "kind: ConfigMap\nmetadata: [\n", "yaml-syntax", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			all := File("f", []byte(c.doc), Options{})
			fs := find(all, c.rule)
			if len(fs) != 1 || fs[0].Line != c.line {
				t.Fatalf("want one %s on line %d, got:\n%s", c.rule, c.line, dump(all))
			}
		})
	}
}

// TestAWSIamConfigSpelling: EKS Anywhere writes roleARN; that is not a
// case mistake there.
func TestAWSIamConfigSpelling(t *testing.T) {
	doc := `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: c
spec:
  awsRegion: us-west-2
  backendMode: [EKSConfigMap]
  mapRoles:
  - roleARN: arn:aws:iam::111122223333:role/a
    username: a
`
	if fs := File("c.yaml", []byte(doc), Options{}); len(fs) != 0 {
		t.Fatalf("want no findings, got\n%s", dump(fs))
	}
}
