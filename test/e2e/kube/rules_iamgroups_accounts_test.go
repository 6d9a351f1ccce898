package kube_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// mapGroups across accounts (server.iamGroupsRoleARNs) through a real
// kube-apiserver. The server's own credentials are in the moto account; a
// partner account's users are looked up by assuming a role in the partner
// account. Moto lets any caller assume a role of any account, and the
// credentials it returns act in that account, whose IAM has users and
// groups of its own: so the partner's groups can only be seen through the
// role. A third account has a group entry but no role, and the server's
// iamGroupsAccountID refuses it.

const (
	m4xPartner = "210987654321"
	m4xThird   = "333344445555"
	m4xRole    = "arn:aws:iam::" + m4xPartner + ":role/iamgate-iam-groups"
)

const m4xConfig = `clusterID: e2e-cluster
server:
  backendMode: [MountedFile]
  iamGroupsAccountID: "123456789012"
  iamGroupsRoleARNs:
    "210987654321": arn:aws:iam::210987654321:role/iamgate-iam-groups
  iamGroupsExternalID: e2e-external-id
  mapGroups:
  - grouparn: arn:aws:iam::210987654321:group/partners
    username: partner:{{AccessKeyID}}
    groups: [m4x-partners]
  - grouparn: arn:aws:iam::123456789012:group/devs
    username: dev:{{AccessKeyID}}
    groups: [m4x-devs]
  - grouparn: arn:aws:iam::333344445555:group/partners
    username: third:{{AccessKeyID}}
    groups: [m4x-third]
`

// m4xUser is an IAM user of account acct, as STS reports it.
func m4xUser(akid, acct, name, uid string) identity {
	return identity{
		accessKeyID: akid, secret: "secret-" + akid,
		sts: ststest.Identity{Arn: "arn:aws:iam::" + acct + ":user/" + name, Account: acct, UserId: uid},
	}
}

// m4xIAM creates users, each in the listed group or in none, through c.
func m4xIAM(t *testing.T, c *iam.Client, group string, members []string, others ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(group)}); err != nil {
		t.Fatalf("moto CreateGroup %s: %v", group, err)
	}
	for _, u := range append(append([]string{}, members...), others...) {
		if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatalf("moto CreateUser %s: %v", u, err)
		}
	}
	for _, u := range members {
		if _, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(u)}); err != nil {
			t.Fatalf("moto AddUserToGroup %s %s: %v", group, u, err)
		}
	}
}

func TestAPIServerRulesIAMGroupsAccounts(t *testing.T) {
	mt := moto.Start(t)
	ctx := context.Background()
	own := moto.Config(mt.URL, nil)

	// The server's own account: devs has dev-alice. Also a user named like
	// the partner's member, in no group, so a lookup of the partner's
	// erin in the wrong account could not find partners.
	m4xIAM(t, iam.NewFromConfig(own), "devs", []string{"dev-alice"}, "erin")

	// The partner account, reached the way the server reaches it. The role
	// itself is created for realism (moto does not check trust policies).
	out, err := sts.NewFromConfig(own).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + m4xPartner + ":role/e2e-setup"), RoleSessionName: aws.String("setup"),
	})
	if err != nil {
		t.Fatalf("moto AssumeRole into %s: %v", m4xPartner, err)
	}
	partner := moto.Config(mt.URL, nil)
	k := out.Credentials
	partner.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(k.AccessKeyId), aws.ToString(k.SecretAccessKey), aws.ToString(k.SessionToken))
	pc := iam.NewFromConfig(partner)
	if _, err := pc.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("iamgate-iam-groups"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole",` +
			`"Condition":{"StringEquals":{"sts:ExternalId":"e2e-external-id"}}}]}`),
	}); err != nil {
		t.Fatalf("moto CreateRole: %v", err)
	}
	m4xIAM(t, pc, "partners", []string{"erin"}, "frank")
	if g, err := pc.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("partners")}); err != nil ||
		aws.ToString(g.Group.Arn) != "arn:aws:iam::"+m4xPartner+":group/partners" {
		t.Fatalf("moto: the partner group is not in account %s: %v", m4xPartner, err)
	}

	var (
		erin  = m4xUser("AKIAM4XPARTNERERIN01", m4xPartner, "erin", "AIDAE2EPARTNERERIN01")
		frank = m4xUser("AKIAM4XPARTNERFRANK1", m4xPartner, "frank", "AIDAE2EPARTNERFRANK1")
		alice = m4xUser("AKIAM4XOWNDEVALICE01", m4MotoAccount, "dev-alice", "AIDAE2EOWNDEVALICE01")
		gil   = m4xUser("AKIAM4XTHIRDGIL00001", m4xThird, "gil", "AIDAE2ETHIRDGIL00001")
	)
	moto.SetEnv(t, mt.URL) // the server's AWS SDK reads these, as it would in a pod
	c := m4StartCluster(t, m4Setup{config: m4xConfig, ids: []identity{erin, frank, alice, gil}})
	m4PodReaders(t, c, "m4x-partners", "m4x-devs")

	t.Run("PartnerGroupThroughRole", func(t *testing.T) {
		m4Allowed(t, c, erin, "partner:"+erin.accessKeyID,
			"MountedFile mapGroups[arn:aws:iam::"+m4xPartner+":group/partners]", "m4x-partners")
		m4RBACView(t, c, erin)
		// Near miss: a partner user in no group.
		m4Unauthorized(t, c, frank, "not_mapped", "")
	})
	t.Run("OwnAccountStillOwnCredentials", func(t *testing.T) {
		m4Allowed(t, c, alice, "dev:"+alice.accessKeyID,
			"MountedFile mapGroups[arn:aws:iam::"+m4MotoAccount+":group/devs]", "m4x-devs")
	})
	t.Run("AccountWithoutRoleRefused", func(t *testing.T) {
		mark := c.log.Len()
		// A failed lookup while mapGroups entries exist for gil's account now denies (no later tier may grant).
		m4Unauthorized(t, c, gil, "group_lookup_failed", "does not serve")
		m4LogHas(t, c, mark, "IAM group lookup failed", m4xThird, "does not serve")
	})
}
