package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/iamgate/iamgate/internal/awslookup/assume"
)

func TestIAMGroupsRoleKeys(t *testing.T) {
	c, err := Parse([]byte(`clusterID: x
server:
  iamGroupsAccountID: "111122223333"
  IAMGroupsRoleARNs:
    "444455556666": arn:aws:iam::444455556666:role/iamgate-iam-groups
    "777788889999": arn:aws:iam::777788889999:role/team/iamgate-iam-groups
  iamGroupsExternalID: ext-42
`), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	g := c.Server.IAMGroups
	want := map[string]string{
		"444455556666": "arn:aws:iam::444455556666:role/iamgate-iam-groups",
		"777788889999": "arn:aws:iam::777788889999:role/team/iamgate-iam-groups",
	}
	if diff := cmp.Diff(want, g.RoleARNs); diff != "" || g.ExternalID != "ext-42" || g.AccountID != "111122223333" {
		t.Errorf("iamGroups = %+v (-want +got roles):\n%s", g, diff)
	}
}

// Every bad role entry, of both lookups, is reported at once, each naming
// its key and account.
func TestLookupRoleErrorsAllAtOnce(t *testing.T) {
	c, err := Parse([]byte(`clusterID: x
server:
  iamGroupsRoleARNs:
    "444455556666": arn:aws:iam::111122223333:role/iamgate-iam-groups
    "12": arn:aws:iam::12:role/r
    "777788889999": arn:aws:iam::777788889999:user/alice
    "222233334444": not-an-arn
  ec2DescribeInstancesRoleARNs:
    "555566667777": arn:aws:iam::111122223333:role/describe
  iamGroupsAccountID: abc
`), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	err = c.Validate()
	if !errors.Is(err, assume.ErrBadConfig) {
		t.Fatalf("err = %v, want assume.ErrBadConfig among the problems", err)
	}
	for _, want := range []string{
		"server.iamGroupsRoleARNs[444455556666]: invalid account role: role \"arn:aws:iam::111122223333:role/iamgate-iam-groups\" is listed for account 444455556666 but is in account 111122223333",
		"server.iamGroupsRoleARNs[12]: invalid account role: account id \"12\" is not 12 digits",
		"server.iamGroupsRoleARNs[777788889999]: invalid account role: \"arn:aws:iam::777788889999:user/alice\" is not an IAM role ARN",
		"server.iamGroupsRoleARNs[222233334444]: invalid account role: role \"not-an-arn\"",
		"server.ec2DescribeInstancesRoleARNs[555566667777]: invalid account role: role \"arn:aws:iam::111122223333:role/describe\" is listed for account 555566667777",
		"server.iamGroupsAccountID: \"abc\" is not a 12-digit account id",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing problem %q in:\n%v", want, err)
		}
	}
}

func TestIAMGroupsRoleARNsMustBeAMapping(t *testing.T) {
	for _, doc := range []string{
		"server:\n  iamGroupsRoleARNs: arn:aws:iam::444455556666:role/r\n",
		"server:\n  iamGroupsRoleARNs:\n    \"444455556666\": [arn:aws:iam::444455556666:role/r]\n",
		"server:\n  iamGroupsExternalID: [a, b]\n",
	} {
		if _, err := Parse([]byte(doc), ""); err == nil || !strings.Contains(strings.ToLower(err.Error()), "server.iamgroups") {
			t.Errorf("Parse(%q) = %v; want an error naming the key", doc, err)
		}
	}
}
