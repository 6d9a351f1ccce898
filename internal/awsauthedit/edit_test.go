package awsauthedit

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

var (
	devs = mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/devs",
		Username: "devs:{{SessionName}}", Groups: []string{"k10:basic", "devs"}}
	alice = mapping.Entry{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:user/alice",
		Username: "alice", Groups: []string{"system:masters"}}
	ops = mapping.Entry{Kind: mapping.KindGroup, ARN: "arn:aws:iam::111122223333:group/ops",
		Username: "ops:{{SessionName}}", Groups: []string{"ops"}}
	acct    = mapping.Entry{Kind: mapping.KindAccount, Account: "444455556666"}
	ssoRole = mapping.Entry{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Admin", AccountID: "111122223333"},
		Username: "sso-admin:{{SessionName}}", Groups: []string{"admins"}}
	bare = mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/bare", Username: "{{SessionName}}"}
)

// The seed documents' aws-auth, as a block literal holds it.
const seed = `- rolearn: arn:aws:iam::111122223333:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
# platform admins (ticket OPS-12)
- rolearn: arn:aws:iam::111122223333:role/Admin
  username: admin:{{AccessKeyID}}:{{SessionName}}
  groups:
    - system:masters   # break-glass only

- rolearn: arn:aws:iam::111122223333:role/k10
  username: k10
  groups:
    - k10:basic
`

func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		name, section, in, want string
		e                       mapping.Entry
	}{
		{"seed: after the last entry, indented like it", mapping.SectionRoles, seed, seed +
			"- rolearn: arn:aws:iam::111122223333:role/devs\n  username: devs:{{SessionName}}\n  groups:\n    - k10:basic\n    - devs\n", devs},
		{"empty text: eksctl's style", mapping.SectionRoles, "", "- rolearn: arn:aws:iam::111122223333:role/devs\n  username: devs:{{SessionName}}\n  groups:\n  - k10:basic\n  - devs\n", devs},
		{"only comments: kept, entry after them", mapping.SectionUsers, "# users go here\n", "# users go here\n- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n  - system:masters\n", alice},
		{"no trailing newline", mapping.SectionUsers, "- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob",
			"- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n  - system:masters\n", alice},
		{"kubectl style lists, trailing blank and footer comment stay after", mapping.SectionRoles,
			"- groups:\n  - system:nodes\n  rolearn: arn:aws:iam::1:role/n\n  username: system:node:{{EC2PrivateDNSName}}\n\n# end\n",
			"- groups:\n  - system:nodes\n  rolearn: arn:aws:iam::1:role/n\n  username: system:node:{{EC2PrivateDNSName}}\n- rolearn: arn:aws:iam::111122223333:role/devs\n  username: devs:{{SessionName}}\n  groups:\n  - k10:basic\n  - devs\n\n# end\n", devs},
		{"indented list (a document's mapRoles value)", mapping.SectionRoles,
			"    - rolearn: arn:aws:iam::1:role/a\n      username: a\n",
			"    - rolearn: arn:aws:iam::1:role/a\n      username: a\n    - rolearn: arn:aws:iam::111122223333:role/devs\n      username: devs:{{SessionName}}\n      groups:\n      - k10:basic\n      - devs\n", devs},
		{"double-quoted neighbours: quoted too", mapping.SectionRoles,
			"- rolearn: \"arn:aws:iam::1:role/a\"\n  username: \"a\"\n  groups: [\"x\"]\n",
			"- rolearn: \"arn:aws:iam::1:role/a\"\n  username: \"a\"\n  groups: [\"x\"]\n- rolearn: \"arn:aws:iam::111122223333:role/devs\"\n  username: \"devs:{{SessionName}}\"\n  groups: [\"k10:basic\", \"devs\"]\n", devs},
		{"template first: quoted", mapping.SectionRoles, "", "- rolearn: arn:aws:iam::111122223333:role/bare\n  username: \"{{SessionName}}\"\n", bare},
		{"CRLF kept", mapping.SectionUsers, "- userarn: arn:aws:iam::1:user/bob\r\n  username: bob\r\n",
			"- userarn: arn:aws:iam::1:user/bob\r\n  username: bob\r\n- userarn: arn:aws:iam::111122223333:user/alice\r\n  username: alice\r\n  groups:\r\n  - system:masters\r\n", alice},
		{"JSON one line", mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a","groups":["x"]}]`,
			`[{"rolearn":"arn:aws:iam::1:role/a","username":"a","groups":["x"]},{"rolearn":"arn:aws:iam::111122223333:role/devs","username":"devs:{{SessionName}}","groups":["k10:basic","devs"]}]`, devs},
		{"JSON, spaced separators kept", mapping.SectionRoles, `[{"rolearn": "arn:aws:iam::1:role/a", "username": "a"}, {"rolearn": "arn:aws:iam::1:role/b", "username": "b"}]`,
			`[{"rolearn": "arn:aws:iam::1:role/a", "username": "a"}, {"rolearn": "arn:aws:iam::1:role/b", "username": "b"}, {"rolearn":"arn:aws:iam::111122223333:role/devs","username":"devs:{{SessionName}}","groups":["k10:basic","devs"]}]`, devs},
		{"JSON pretty-printed", mapping.SectionRoles, "[\n  {\n    \"rolearn\": \"arn:aws:iam::1:role/a\",\n    \"username\": \"a\"\n  }\n]\n",
			"[\n  {\n    \"rolearn\": \"arn:aws:iam::1:role/a\",\n    \"username\": \"a\"\n  },\n  {\n    \"rolearn\": \"arn:aws:iam::111122223333:role/devs\",\n    \"username\": \"devs:{{SessionName}}\",\n    \"groups\": [\n      \"k10:basic\",\n      \"devs\"\n    ]\n  }\n]\n", devs},
		{"empty flow list", mapping.SectionRoles, "[]\n", `[{"rolearn":"arn:aws:iam::111122223333:role/devs","username":"devs:{{SessionName}}","groups":["k10:basic","devs"]}]` + "\n", devs},
		{"mapGroups", mapping.SectionGroups, "", "- grouparn: arn:aws:iam::111122223333:group/ops\n  username: ops:{{SessionName}}\n  groups:\n  - ops\n", ops},
		{"mapAccounts block: quoted", mapping.SectionAccounts, "- \"111122223333\"\n", "- \"111122223333\"\n- \"444455556666\"\n", acct},
		{"mapAccounts single-quoted neighbours", mapping.SectionAccounts, "- '111122223333'\n", "- '111122223333'\n- '444455556666'\n", acct},
		{"mapAccounts flow, plain numbers", mapping.SectionAccounts, "[111122223333]", `[111122223333,"444455556666"]`, acct},
		{"sso entry", mapping.SectionRoles, "- rolearn: arn:aws:iam::1:role/a\n  username: a\n",
			"- rolearn: arn:aws:iam::1:role/a\n  username: a\n- sso:\n    permissionSetName: Admin\n    accountID: \"111122223333\"\n  username: sso-admin:{{SessionName}}\n  groups:\n  - admins\n", ssoRole},
		{"sso entry in JSON", mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a"}]`,
			`[{"rolearn":"arn:aws:iam::1:role/a","username":"a"},{"sso":{"permissionSetName":"Admin","accountID":"111122223333"},"username":"sso-admin:{{SessionName}}","groups":["admins"]}]`, ssoRole},
		{"merge keys and anchors left alone", mapping.SectionRoles,
			"- &base\n  rolearn: arn:aws:iam::1:role/a\n  username: a\n  groups: [x]\n- <<: *base\n  rolearn: arn:aws:iam::1:role/b\n",
			"- &base\n  rolearn: arn:aws:iam::1:role/a\n  username: a\n  groups: [x]\n- <<: *base\n  rolearn: arn:aws:iam::1:role/b\n- rolearn: arn:aws:iam::111122223333:role/devs\n  username: devs:{{SessionName}}\n  groups: [k10:basic, devs]\n", devs},
		{"trailing comment on the last line", mapping.SectionUsers, "- userarn: arn:aws:iam::1:user/bob\n  username: bob # the on-call\n",
			"- userarn: arn:aws:iam::1:user/bob\n  username: bob # the on-call\n- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups:\n  - system:masters\n", alice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Add(tc.section, tc.in, tc.e)
			if err != nil {
				t.Fatalf("Add: %v", err)
			}
			if got != tc.want {
				t.Errorf("Add:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestRemove(t *testing.T) {
	for _, tc := range []struct {
		name, section, in, want string
		idx                     []int
	}{
		{"seed: middle entry with its comment; the blank line stays once", mapping.SectionRoles, seed, idx1Removed, []int{1}},
		{"seed: last entry; the blank line before it stays", mapping.SectionRoles, seed, strings.TrimSuffix(seed, "- rolearn: arn:aws:iam::111122223333:role/k10\n  username: k10\n  groups:\n    - k10:basic\n"), []int{2}},
		{"seed: first and last", mapping.SectionRoles, seed, "# platform admins (ticket OPS-12)\n- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin:{{AccessKeyID}}:{{SessionName}}\n  groups:\n    - system:masters   # break-glass only\n\n", []int{0, 2}},
		{"header comment (blank line after it) stays with the first entry gone", mapping.SectionUsers, "# managed by hand\n\n- userarn: arn:aws:iam::1:user/a\n  username: a\n- userarn: arn:aws:iam::1:user/b\n  username: b\n",
			"# managed by hand\n\n- userarn: arn:aws:iam::1:user/b\n  username: b\n", []int{0}},
		{"comment directly above the first entry goes with it", mapping.SectionUsers, "# alice\n- userarn: arn:aws:iam::1:user/a\n  username: a\n- userarn: arn:aws:iam::1:user/b\n  username: b\n",
			"- userarn: arn:aws:iam::1:user/b\n  username: b\n", []int{0}},
		{"only entry", mapping.SectionUsers, "- userarn: arn:aws:iam::1:user/a\n  username: a\n", "", []int{0}},
		{"CRLF", mapping.SectionUsers, "- userarn: arn:aws:iam::1:user/a\r\n  username: a\r\n- userarn: arn:aws:iam::1:user/b\r\n  username: b\r\n", "- userarn: arn:aws:iam::1:user/b\r\n  username: b\r\n", []int{0}},
		{"JSON first", mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a"},{"rolearn":"arn:aws:iam::1:role/b","username":"b"}]`,
			`[{"rolearn":"arn:aws:iam::1:role/b","username":"b"}]`, []int{0}},
		{"JSON last", mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a"}, {"rolearn":"arn:aws:iam::1:role/b","username":"b"}]`,
			`[{"rolearn":"arn:aws:iam::1:role/a","username":"a"}]`, []int{1}},
		{"JSON last two of three", mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a"},{"rolearn":"arn:aws:iam::1:role/b","username":"b"},{"rolearn":"arn:aws:iam::1:role/c","username":"c"}]`,
			`[{"rolearn":"arn:aws:iam::1:role/a","username":"a"}]`, []int{1, 2}},
		{"JSON all", mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a"},{"rolearn":"arn:aws:iam::1:role/b","username":"b"}]`, `[]`, []int{0, 1}},
		{"JSON pretty middle", mapping.SectionAccounts, "[\n  \"111122223333\",\n  \"222233334444\",\n  \"333344445555\"\n]\n", "[\n  \"111122223333\",\n  \"333344445555\"\n]\n", []int{1}},
		{"flow with a brace inside a string", mapping.SectionRoles, `[{rolearn: "arn:aws:iam::1:role/a", username: "x}]"}, {rolearn: arn:aws:iam::1:role/b, username: b}]`,
			`[{rolearn: arn:aws:iam::1:role/b, username: b}]`, []int{0}},
		{"entry using an alias may go", mapping.SectionRoles, "- &base\n  rolearn: arn:aws:iam::1:role/a\n  username: a\n- <<: *base\n  rolearn: arn:aws:iam::1:role/b\n",
			"- &base\n  rolearn: arn:aws:iam::1:role/a\n  username: a\n", []int{1}},
		{"anchor and its only user together", mapping.SectionRoles, "- &base\n  rolearn: arn:aws:iam::1:role/a\n  username: a\n- <<: *base\n  rolearn: arn:aws:iam::1:role/b\n- rolearn: arn:aws:iam::1:role/c\n  username: c\n",
			"- rolearn: arn:aws:iam::1:role/c\n  username: c\n", []int{0, 1}},
		{"item written dash then content", mapping.SectionUsers, "-\n  userarn: arn:aws:iam::1:user/a\n  username: a\n-\n  userarn: arn:aws:iam::1:user/b\n  username: b\n", "-\n  userarn: arn:aws:iam::1:user/b\n  username: b\n", []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Remove(tc.section, tc.in, tc.idx)
			if err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if got != tc.want {
				t.Errorf("Remove:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

const idx1Removed = `- rolearn: arn:aws:iam::111122223333:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes

- rolearn: arn:aws:iam::111122223333:role/k10
  username: k10
  groups:
    - k10:basic
`

func TestReplace(t *testing.T) {
	k10 := mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/Admin", Username: "admin:{{SessionName}}", Groups: []string{"admins"}}
	got, err := Replace(mapping.SectionRoles, seed, 1, k10)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(seed, "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin:{{AccessKeyID}}:{{SessionName}}\n  groups:\n    - system:masters   # break-glass only\n",
		"- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin:{{SessionName}}\n  groups:\n    - admins\n", 1)
	if got != want {
		t.Errorf("Replace:\n got %q\nwant %q", got, want)
	}
	gotJSON, err := Replace(mapping.SectionRoles, `[{"rolearn":"arn:aws:iam::1:role/a","username":"a"},{"rolearn":"arn:aws:iam::1:role/b","username":"b"}]`, 0, devs)
	if err != nil {
		t.Fatal(err)
	}
	if w := `[{"rolearn":"arn:aws:iam::111122223333:role/devs","username":"devs:{{SessionName}}","groups":["k10:basic","devs"]},{"rolearn":"arn:aws:iam::1:role/b","username":"b"}]`; gotJSON != w {
		t.Errorf("Replace JSON:\n got %q\nwant %q", gotJSON, w)
	}
}

func TestRefusals(t *testing.T) {
	anchored := "- &base\n  rolearn: arn:aws:iam::1:role/a\n  username: a\n- <<: *base\n  rolearn: arn:aws:iam::1:role/b\n"
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"remove an anchor another entry aliases", func() error { _, err := Remove(mapping.SectionRoles, anchored, []int{0}); return err },
			"mapRoles[0] (line 1) defines the anchor &base that line 4 uses (*base)"},
		{"replace an anchor another entry aliases", func() error { _, err := Replace(mapping.SectionRoles, anchored, 0, devs); return err }, "defines the anchor &base"},
		{"not a list", func() error { _, err := Add(mapping.SectionRoles, "rolearn: x\nusername: y\n", devs); return err }, "mapRoles is not a list (line 1 holds a mapping)"},
		{"does not parse", func() error { _, err := Add(mapping.SectionRoles, "- rolearn: [\n", devs); return err }, "mapRoles does not parse"},
		{"no such entry", func() error { _, err := Remove(mapping.SectionRoles, seed, []int{3}); return err }, "mapRoles has no entry 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A splice that went wrong never leaves the package: verify compares the
// entries read back.
func TestVerifyRefusesAWrongResult(t *testing.T) {
	before := "- userarn: arn:aws:iam::111122223333:user/a\n  username: a\n- userarn: arn:aws:iam::111122223333:user/b\n  username: b\n"
	if err := verify(mapping.SectionUsers, before, "- userarn: arn:aws:iam::111122223333:user/b\n  username: b\n", []int{1}, nil, -1); err == nil {
		t.Error("verify accepted a result that removed the wrong entry")
	}
	if err := verify(mapping.SectionUsers, before, before+"- userarn: arn:aws:iam::111122223333:user/c\n  username: c\n", nil, &alice, -1); err == nil {
		t.Error("verify accepted a result holding another entry than the one added")
	}
	if err := verify(mapping.SectionUsers, before, "- userarn: arn:aws:iam::111122223333:user/b\n  username: b\n", []int{0}, nil, -1); err != nil {
		t.Errorf("verify refused the right result: %v", err)
	}
}
