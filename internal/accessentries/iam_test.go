package accessentries

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func createRole(t *testing.T, c *iam.Client, path, name string) (arnOut, id string) {
	t.Helper()
	out, err := c.CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(path),
		AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("create role %s%s: %v", path, name, err)
	}
	return aws.ToString(out.Role.Arn), aws.ToString(out.Role.RoleId)
}

// iamWorld is a moto IAM account with a node role and an admin role under
// paths, an SSO permission set's role, and a group with two users.
type iamWorld struct {
	client                          *iam.Client
	node, admin, sso, pinned, other string
	pinnedID                        string
	carol, dave                     string
}

func newIAMWorld(t *testing.T) *iamWorld {
	t.Helper()
	srv := moto.Start(t)
	c := iam.NewFromConfig(moto.Config(srv.URL, nil))
	w := &iamWorld{client: c}
	w.node, _ = createRole(t, c, "/eks/nodes/", "NodeInstanceRole")
	w.admin, _ = createRole(t, c, "/platform/", "Admin")
	w.sso, _ = createRole(t, c, "/aws-reserved/sso.amazonaws.com/us-east-1/", "AWSReservedSSO_ReadOnly_0123456789abcdef")
	createRole(t, c, "/aws-reserved/sso.amazonaws.com/", "AWSReservedSSO_ReadOnlyPlus_fedcba9876543210")
	w.pinned, w.pinnedID = createRole(t, c, "/", "Pinned")
	w.other, _ = createRole(t, c, "/real/", "Other")
	ctx := context.Background()
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"carol", "dave"} {
		out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u), Path: aws.String("/people/")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
		if u == "carol" {
			w.carol = aws.ToString(out.User.Arn)
		} else {
			w.dave = aws.ToString(out.User.Arn)
		}
	}
	return w
}

func iamAWSAuth(pinnedID string) map[string]string {
	a := moto.AccountID
	return map[string]string{
		"mapRoles": `- rolearn: arn:aws:iam::` + a + `:role/NodeInstanceRole
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:sts::` + a + `:assumed-role/Admin/alice
  username: admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::` + a + `:role/Pinned
  username: pinned
  userid: ` + pinnedID + `
- rolearn: arn:aws:iam::` + a + `:role/Gone
  username: gone
- rolearn: arn:aws:iam::111122223333:role/Elsewhere
  username: elsewhere
- rolearn: arn:aws:iam::` + a + `:role/wrong/Other
  username: wrongpath
`,
		"mapGroups": `- grouparn: arn:aws:iam::` + a + `:group/devs
  username: dev:{{AccountID}}
  groups: [dev]
- grouparn: arn:aws:iam::` + a + `:group/nobody
  username: nobody
`,
	}
}

func ssoSource(t *testing.T) Source {
	return source(t, "CRD", map[string]string{"mapRoles": `- sso:
    permissionSetName: ReadOnly
    accountID: "` + moto.AccountID + `"
  username: ro:{{SessionName}}
  groups: [viewers]
- sso:
    permissionSetName: Missing
    accountID: "` + moto.AccountID + `"
  username: missing:{{SessionName}}
`})
}

// TestExportAsksIAM resolves what aws-auth cannot say against moto's IAM:
// a role's path, the role of an assumed-role ARN, an SSO permission set's
// AWSReservedSSO_ role, an IAM group's members, and a pinned role's id.
func TestExportAsksIAM(t *testing.T) {
	w := newIAMWorld(t)
	p := plan(t, Options{IAM: w.client, ExpandGroups: true},
		source(t, "EKSConfigMap", iamAWSAuth(w.pinnedID)), ssoSource(t))

	if x := export(p, w.node); x == nil || x.Create.Type != TypeEC2Linux || !strings.Contains(strings.Join(x.Notes, ";"), "GetRole") {
		t.Errorf("node role with its path %s = %+v (skipped: %q)", w.node, x, p.Skipped)
	}
	if x := export(p, w.admin); x == nil || len(x.Associate) != 1 || !strings.Contains(strings.Join(x.Notes, ";"), "assumed-role") {
		t.Errorf("admin from an assumed-role ARN = %+v", x)
	}
	if x := export(p, w.pinned); x == nil || x.Create.Username != "pinned" {
		t.Errorf("pinned role whose id matches = %+v", x)
	}
	if x := export(p, w.sso); x == nil || x.Create.Username != "ro:{{SessionName}}" || x.Create.KubernetesGroups[0] != "viewers" {
		t.Errorf("SSO permission set's role %s = %+v", w.sso, x)
	}
	for _, u := range []string{w.carol, w.dave} {
		if x := export(p, u); x == nil || x.Create.Username != "dev:"+moto.AccountID || x.Create.Type != TypeStandard {
			t.Errorf("group member %s = %+v", u, x)
		}
	}
	a := moto.AccountID
	for names, want := range map[string]string{
		"arn:aws:iam::" + a + ":role/Gone":         "GetRole Gone",
		"arn:aws:iam::111122223333:role/Elsewhere": "GetRole Elsewhere",
		"arn:aws:iam::" + a + ":role/wrong/Other":  "written with path /wrong/, but the role in IAM is " + w.other,
		"arn:aws:iam::" + a + ":group/devs":        "its 2 current members are exported",
		"arn:aws:iam::" + a + ":group/nobody":      "GetGroup nobody",
		"sso Missing in " + a:                      "no AWSReservedSSO_Missing_… role in account " + a,
	} {
		if got := skipped(p, names); !strings.Contains(got, want) {
			t.Errorf("%s: skipped for %q, want %q", names, got, want)
		}
	}
}

func TestExportPinnedRoleRecreated(t *testing.T) {
	w := newIAMWorld(t)
	p := plan(t, Options{IAM: w.client}, source(t, "EKSConfigMap", iamAWSAuth("AROAOLDOLDOLDOLDOLDOL")))
	if export(p, w.pinned) != nil {
		t.Error("a role pinned to another id (the server denies it) was exported")
	}
	if got := skipped(p, "arn:aws:iam::"+moto.AccountID+":role/Pinned"); !strings.Contains(got, "id is now "+w.pinnedID) {
		t.Errorf("pinned: %q", got)
	}
	if got := skipped(p, "arn:aws:iam::"+moto.AccountID+":group/devs"); !strings.Contains(got, "--expand-groups") {
		t.Errorf("group without --expand-groups: %q", got)
	}
}
