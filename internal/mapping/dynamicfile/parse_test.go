package dynamicfile

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// aiaExample is a dynamic file as aws-iam-authenticator documents it,
// tab-indented JSON with its bookkeeping keys.
const aiaExample = "{\n" +
	"\t\"LastUpdatedDateTime\": \"1698179744\",\n" +
	"\t\"Version\": \"12\",\n" +
	"\t\"mapRoles\": [\n" +
	"\t\t{\n" +
	"\t\t\t\"rolearn\": \"arn:aws:iam::111122223333:role/KubernetesAdmin\",\n" +
	"\t\t\t\"username\": \"kubernetes-admin\",\n" +
	"\t\t\t\"groups\": [\"system:masters\"],\n" +
	"\t\t\t\"userid\": \"AROAEXAMPLE1111\"\n" +
	"\t\t}\n" +
	"\t],\n" +
	"\t\"mapUsers\": [\n" +
	"\t\t{\"userarn\": \"arn:aws:iam::111122223333:user/Alice\", \"username\": \"alice\", \"groups\": [\"devs\"], \"userid\": \"AIDAEXAMPLE1111\"}\n" +
	"\t],\n" +
	"\t\"mapAccounts\": [\"444455556666\"]\n" +
	"}\n"

func TestParseAIAFile(t *testing.T) {
	c, err := parse([]byte(aiaExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.spec.Roles) != 1 || c.spec.Roles[0].Username != "kubernetes-admin" || c.spec.Roles[0].UserID != "AROAEXAMPLE1111" ||
		len(c.spec.Roles[0].Groups) != 1 || c.spec.Roles[0].Groups[0] != "system:masters" {
		t.Errorf("roles = %+v", c.spec.Roles)
	}
	if len(c.spec.Users) != 1 || c.spec.Users[0].Username != "alice" || c.spec.Users[0].UserID != "AIDAEXAMPLE1111" {
		t.Errorf("users = %+v", c.spec.Users)
	}
	if len(c.spec.Accounts) != 1 || c.spec.Accounts[0] != "444455556666" {
		t.Errorf("accounts = %v", c.spec.Accounts)
	}
	if c.version != "12" || len(c.skipped) != 0 {
		t.Errorf("version %q, skipped %v", c.version, c.skipped)
	}
}

func TestParseYAMLAndKeyCase(t *testing.T) {
	for name, doc := range map[string]string{
		"yaml":       "mapRoles:\n- rolearn: arn:aws:iam::111122223333:role/a\n  username: a\nmapAccounts:\n- 444455556666\n",
		"crazy case": `{"MAPROLES": [{"RoleArn": "arn:aws:iam::111122223333:role/a", "UserName": "a"}], "MapAccounts": ["444455556666"]}`,
		"bom":        "\xef\xbb\xbf" + `{"mapRoles": [{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "a"}], "mapAccounts": ["444455556666"]}`,
	} {
		c, err := parse([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(c.spec.Roles) != 1 || c.spec.Roles[0].Username != "a" || len(c.spec.Accounts) != 1 {
			t.Errorf("%s: got %+v", name, c)
		}
	}
	c, err := parse([]byte("{}"))
	if err != nil || len(c.spec.Roles)+len(c.spec.Users)+len(c.spec.Accounts) != 0 {
		t.Errorf("{} = %+v, %v; want no mappings", c, err)
	}
}

func TestParseRejectsWholeFile(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"empty":          {"  \n", "empty"},
		"not JSON":       {`{"mapRoles": [`, "invalid JSON/YAML"},
		"top-level list": {`[]`, "top level must be an object"},
		"null":           {`null`, "top level must be an object"},
		"unknown key":    {`{"mapRole": []}`, `unknown key "mapRole"`},
		"repeated key":   {`{"mapRoles": [], "MapRoles": []}`, "more than once"},
		"duplicate JSON": {`{"mapRoles": [], "mapRoles": []}`, ""},
		"section shape":  {`{"mapRoles": {"rolearn": "x"}}`, "must be a list"},
		"bad template":   {`{"mapRoles": [{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "{{Nope}}"}]}`, "unknown variable"},
		"two documents":  {"mapRoles: []\n---\nmapUsers: []\n", "more than one"},
		"accounts shape": {`{"mapAccounts": "111122223333"}`, "must be a list"},
	} {
		_, err := parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestParseSkipsBadEntries(t *testing.T) {
	c, err := parse([]byte(`{"mapRoles": [
		{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "a"},
		{"rolearn": "arn:aws:iam::111122223333:user/b", "username": "b"},
		{"rolearn": "arn:aws:iam::111122223333:role/c"}
	], "mapAccounts": ["1234"]}`))
	if err != nil {
		t.Fatal(err)
	}
	// role/c (no username) stays as a placeholder that shadows its ARN; the
	// user ARN in mapRoles names no role and is only skipped.
	if len(c.spec.Roles) != 2 || c.spec.Roles[0].Rejected != "" || c.spec.Roles[1].Rejected == "" ||
		len(c.skipped) != 3 || len(c.spec.Accounts) != 0 {
		t.Errorf("roles %+v, accounts %v, skipped %v; want 1 role, 1 placeholder and 3 skipped", c.spec.Roles, c.spec.Accounts, c.skipped)
	}
}

func TestLoadUserIDStrict(t *testing.T) {
	tb, c, err := load("DynamicFile", []byte(aiaExample), true, mapping.Options{})
	if err != nil || len(c.skipped) != 0 {
		t.Fatalf("strict AIA example: %+v, %v", c, err)
	}
	if r, u, _ := tb.Counts(); r != 1 || u != 1 {
		t.Errorf("strict AIA example: %d roles, %d users; want 1 and 1", r, u)
	}
	tb, c, err = load("DynamicFile", []byte(`{"mapUsers": [{"userarn": "arn:aws:iam::111122223333:user/a", "username": "a"}],
		"mapGroups": [{"grouparn": "arn:aws:iam::111122223333:group/g", "username": "g"}]}`), true, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, u, _ := tb.Counts(); u != 0 || tb.GroupCount() != 0 || len(c.skipped) != 2 || !strings.Contains(c.skipped[0].Error(), "dynamicfileUserIDStrict") {
		t.Errorf("users %d, groups %d, skipped %v; want both entries without userid skipped", u, tb.GroupCount(), c.skipped)
	}
}

func TestLoadUsesMappingOptions(t *testing.T) {
	doc := []byte(`{"mapRoles": [{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "aws:a"}]}`)
	tb, c, err := load("DynamicFile", doc, false, mapping.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := tb.Counts(); r != 0 || len(c.skipped) != 1 {
		t.Errorf("reserved username loaded by default: %d roles, skipped %v", r, c.skipped)
	}
	tb, _, err = load("DynamicFile", doc, false, mapping.Options{AllowReserved: []string{"aws:a"}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := tb.Counts(); r != 1 {
		t.Errorf("allowlisted reserved username not loaded: %d roles", r)
	}
}
