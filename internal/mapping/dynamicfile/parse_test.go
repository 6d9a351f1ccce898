package dynamicfile

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
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

// holder is what load builds tables with.
func holder(t *testing.T, o rules.Options) *live.Holder {
	t.Helper()
	h, err := live.New("DynamicFile", o, slog.New(slog.DiscardHandler), nil, ErrNotSynced)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func ofKind(es []mapping.Entry, k mapping.Kind) []mapping.Entry {
	var out []mapping.Entry
	for _, e := range es {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestParseAIAFile(t *testing.T) {
	c, err := parse("DynamicFile", "f", []byte(aiaExample))
	if err != nil {
		t.Fatal(err)
	}
	roles, users, accounts := ofKind(c.entries, mapping.KindRole), ofKind(c.entries, mapping.KindUser), ofKind(c.entries, mapping.KindAccount)
	if len(roles) != 1 || roles[0].Username != "kubernetes-admin" || roles[0].UserID != "AROAEXAMPLE1111" ||
		len(roles[0].Groups) != 1 || roles[0].Groups[0] != "system:masters" {
		t.Errorf("roles = %+v", roles)
	}
	if len(users) != 1 || users[0].Username != "alice" || users[0].UserID != "AIDAEXAMPLE1111" {
		t.Errorf("users = %+v", users)
	}
	if len(accounts) != 1 || accounts[0].Account != "444455556666" {
		t.Errorf("accounts = %v", accounts)
	}
	if c.version != "12" || len(c.problems) != 0 {
		t.Errorf("version %q, skipped %v", c.version, c.problems)
	}
}

func TestParseYAMLAndKeyCase(t *testing.T) {
	for name, doc := range map[string]string{
		"yaml":       "mapRoles:\n- rolearn: arn:aws:iam::111122223333:role/a\n  username: a\nmapAccounts:\n- 444455556666\n",
		"crazy case": `{"MAPROLES": [{"RoleArn": "arn:aws:iam::111122223333:role/a", "UserName": "a"}], "MapAccounts": ["444455556666"]}`,
		"bom":        "\xef\xbb\xbf" + `{"mapRoles": [{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "a"}], "mapAccounts": ["444455556666"]}`,
	} {
		c, err := parse("DynamicFile", "f", []byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if roles := ofKind(c.entries, mapping.KindRole); len(roles) != 1 || roles[0].Username != "a" || len(ofKind(c.entries, mapping.KindAccount)) != 1 {
			t.Errorf("%s: got %+v", name, c)
		}
	}
	c, err := parse("DynamicFile", "f", []byte("{}"))
	if err != nil || len(c.entries) != 0 {
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
		"repeated key":   {`{"mapRoles": [], "MapRoles": []}`, "repeats the key on line 1"}, // the shared awsauth.EachKey's wording
		"duplicate JSON": {`{"mapRoles": [], "mapRoles": []}`, ""},
		"section shape":  {`{"mapRoles": {"rolearn": "x"}}`, "must be a list"},
		"bad template":   {`{"mapRoles": [{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "{{Nope}}"}]}`, "unknown variable"},
		"two documents":  {"mapRoles: []\n---\nmapUsers: []\n", "more than one"},
		"accounts shape": {`{"mapAccounts": "111122223333"}`, "must be a list"},
	} {
		// Fatal entry problems (section shape, templates) refuse the file in load, after parse.
		_, _, err := load(holder(t, rules.Options{}), "f", []byte(tc.doc), false)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, tc.want)
		}
	}
}

func TestParseSkipsBadEntries(t *testing.T) {
	c, err := parse("DynamicFile", "f", []byte(`{"mapRoles": [
		{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "a"},
		{"rolearn": "arn:aws:iam::111122223333:user/b", "username": "b"},
		{"rolearn": "arn:aws:iam::111122223333:role/c"}
	], "mapAccounts": ["1234"]}`))
	if err != nil {
		t.Fatal(err)
	}
	// role/c (no username) stays as a placeholder that shadows its ARN; the
	// user ARN in mapRoles names no role and is only skipped.
	roles := ofKind(c.entries, mapping.KindRole)
	if len(roles) != 2 || roles[0].Refused != nil || roles[1].Refused == nil ||
		len(c.problems) != 3 || len(ofKind(c.entries, mapping.KindAccount)) != 0 {
		t.Errorf("roles %+v, entries %v, skipped %v; want 1 role, 1 placeholder and 3 skipped", roles, c.entries, c.problems)
	}
}

func TestLoadUserIDStrict(t *testing.T) {
	out, c, err := load(holder(t, rules.Options{}), "f", []byte(aiaExample), true)
	if err != nil || len(out.Skipped) != 0 {
		t.Fatalf("strict AIA example: %+v, %v", c, err)
	}
	if r, u, _ := out.Table.Counts(); r != 1 || u != 1 {
		t.Errorf("strict AIA example: %d roles, %d users; want 1 and 1", r, u)
	}
	out, _, err = load(holder(t, rules.Options{}), "f", []byte(`{"mapUsers": [{"userarn": "arn:aws:iam::111122223333:user/a", "username": "a"}],
		"mapGroups": [{"grouparn": "arn:aws:iam::111122223333:group/g", "username": "g"}]}`), true)
	if err != nil {
		t.Fatal(err)
	}
	tb := out.Table
	if _, u, _ := tb.Counts(); u != 0 || tb.GroupCount() != 0 || len(out.Skipped) != 2 || !strings.Contains(out.Skipped[0].Error(), "dynamicfileUserIDStrict") {
		t.Errorf("users %d, groups %d, skipped %v; want both entries without userid skipped", u, tb.GroupCount(), out.Skipped)
	}
}

func TestLoadUsesMappingOptions(t *testing.T) {
	doc := []byte(`{"mapRoles": [{"rolearn": "arn:aws:iam::111122223333:role/a", "username": "aws:a"}]}`)
	out, _, err := load(holder(t, rules.Options{}), "f", doc, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := out.Table.Counts(); r != 0 || len(out.Skipped) != 1 {
		t.Errorf("reserved username loaded by default: %d roles, skipped %v", r, out.Skipped)
	}
	out, _, err = load(holder(t, rules.Options{AllowReserved: []string{"aws:a"}}), "f", doc, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := out.Table.Counts(); r != 1 {
		t.Errorf("allowlisted reserved username not loaded: %d roles", r)
	}
}
