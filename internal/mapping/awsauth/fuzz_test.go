package awsauth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// FuzzParseData feeds arbitrary text to the three aws-auth sections an
// editor writes most. The parser must not panic, must answer the same twice
// (a relist compares tables), and everything it returns must be placed: an
// entry or problem without its section and index cannot be shown to the
// person who has to fix it, and an entry of the wrong kind for its section
// would grant through a rule nobody wrote.
func FuzzParseData(f *testing.F) {
	seeds := [][3]string{
		{"- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: [system:masters]\n", "", ""},
		{"- rolearn: arn:aws:iam::111122223333:role/N\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n",
			"- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n", "- \"111122223333\"\n"},
		{"- &a {rolearn: 'arn:aws:iam::111122223333:role/*', username: x}\n- <<: *a\n  username: y\n", "[]", "[111122223333, 444455556666]"},
		{"- rolearn: arn:aws:iam::111122223333:role/A\n  RoleARN: arn:aws:iam::111122223333:role/B\n", "- {userarn: 1}", "{"},
		{`[{"rolearn":"arn:aws:iam::111122223333:role/J","username":"{{SessionName}}","userid":"AROA1"}]`, "null", "- 12"},
		{"- ssoPermissionSet: {permissionSetName: Admin, accountID: '111122223333'}\n  username: sso-{{SessionName}}\n", "", ""},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	src := awsauth.Source{Backend: "EKSConfigMap", Object: "kube-system/aws-auth"}
	f.Fuzz(func(t *testing.T, roles, users, accounts string) {
		data := map[string]string{mapping.SectionRoles: roles, mapping.SectionUsers: users, mapping.SectionAccounts: accounts}
		es, ps, ignored := awsauth.ParseData(data, src)
		es2, ps2, _ := awsauth.ParseData(data, src)
		if !reflect.DeepEqual(es, es2) || len(ps) != len(ps2) {
			t.Fatalf("two parses of the same data differ")
		}
		for i := range ps {
			if ps[i].Error() != ps2[i].Error() {
				t.Fatalf("problem %d differs between parses: %q vs %q", i, ps[i].Error(), ps2[i].Error())
			}
		}
		if len(ignored) != 0 {
			t.Fatalf("ignored keys %q: only known sections were given", ignored)
		}
		for _, e := range es {
			checkPlaced(t, e.Origin)
			want := map[string][]mapping.Kind{
				mapping.SectionRoles:    {mapping.KindRole, mapping.KindSSO},
				mapping.SectionUsers:    {mapping.KindUser},
				mapping.SectionAccounts: {mapping.KindAccount},
			}[e.Origin.Section]
			if !containsKind(want, e.Kind) {
				t.Fatalf("%s entry from section %s", e.Kind, e.Origin.Section)
			}
		}
		for _, p := range ps {
			checkPlaced(t, p.Origin)
			if p.Err == nil || strings.TrimSpace(p.Error()) == "" {
				t.Fatalf("problem without a message at %v", p.Origin)
			}
		}
		// The engine must take whatever the parser returns.
		_, _ = rules.Build("EKSConfigMap", es, rules.Options{})
	})
}

// FuzzParseSectionYAML reads one arbitrary section under each section
// name: no panic, no entry of another section's kind, every problem placed.
func FuzzParseSectionYAML(f *testing.F) {
	f.Add("- groupARN: arn:aws:iam::111122223333:group/Ops\n  username: ops-{{SessionName}}\n  groups: [ops]\n")
	f.Add("- rolearn: arn:aws:iam::111122223333:role/A\n  username: a\n")
	f.Add("- 111122223333\n- '444455556666'\n")
	f.Add("a: &a [*a, *a]\n")
	f.Add("- {userarn: 'arn:aws:iam::111122223333:root', username: root, groups: [a, b, c]}")
	f.Fuzz(func(t *testing.T, text string) {
		for _, section := range awsauth.Sections {
			es, ps := awsauth.ParseSectionYAML(section, []byte(text), awsauth.Source{File: "aws-auth.yaml", LineOffset: 3})
			for _, e := range es {
				if e.Origin.Section != section {
					t.Fatalf("entry of section %q read as %q", e.Origin.Section, section)
				}
				if e.Origin.Line != 0 && e.Origin.Line <= 3 {
					t.Fatalf("line %d ignores the offset", e.Origin.Line)
				}
			}
			for _, p := range ps {
				if p.Origin.Section != section || p.Err == nil {
					t.Fatalf("problem %q placed in %q, read as %q", p.Error(), p.Origin.Section, section)
				}
			}
		}
	})
}

func checkPlaced(t *testing.T, o mapping.Origin) {
	t.Helper()
	if o.Backend != "EKSConfigMap" || o.Object != "kube-system/aws-auth" || o.Index < -1 {
		t.Fatalf("misplaced: %+v", o)
	}
	switch o.Section {
	case mapping.SectionRoles, mapping.SectionUsers, mapping.SectionAccounts:
	default:
		t.Fatalf("section %q was not given", o.Section)
	}
}

func containsKind(ks []mapping.Kind, k mapping.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}
