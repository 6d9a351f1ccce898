package kube_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// IAM group entries and {{EC2PrivateDNSName}} through a real
// kube-apiserver, with the server's IAM and EC2 calls going to moto (set up
// through the AWS SDK's own environment variables, as an operator would
// point the server at an endpoint). One control plane and one iamgate
// server for both; moto is stopped halfway to make IAM and EC2 unreachable.

// m4MotoAccount is the account moto answers for: the IAM users and the EC2
// instances below live there.
const m4MotoAccount = "123456789012"

const m4LookupsConfig = `clusterID: e2e-cluster
server:
  backendMode: [MountedFile]
  ec2DescribeInstancesRegion: us-east-1
  iamGroupsAccountID: "123456789012"
  mapRoles:
  - rolearn: arn:aws:iam::123456789012:role/eks-node
    username: system:node:{{EC2PrivateDNSName}}
    groups: [system:bootstrappers, system:nodes]
  mapUsers:
  - userarn: arn:aws:iam::123456789012:user/dev-direct
    username: direct
    groups: [m4-direct]
  mapGroups:
  - grouparn: arn:aws:iam::123456789012:group/devs
    username: dev:{{AccessKeyID}}
    groups: [m4-devs]
`

// m4MotoUser is an IAM user of the moto account, as STS reports it.
func m4MotoUser(akid, name, uid string) identity {
	return identity{
		accessKeyID: akid, secret: "secret-" + akid,
		sts: ststest.Identity{Arn: "arn:aws:iam::" + m4MotoAccount + ":user/" + name, Account: m4MotoAccount, UserId: uid},
	}
}

// m4Node is a node's session: its role, the instance id as session name.
func m4Node(akid, instanceID string) identity {
	return identity{
		accessKeyID: akid, secret: "secret-" + akid, sessionToken: "token-" + akid,
		sts: ststest.Identity{
			Arn:     "arn:aws:sts::" + m4MotoAccount + ":assumed-role/eks-node/" + instanceID,
			Account: m4MotoAccount, UserId: "AROAE2EEKSNODE000001:" + instanceID,
		},
	}
}

func TestAPIServerRulesAWSLookups(t *testing.T) {
	mt := moto.Start(t)
	ctx := context.Background()
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTESTING", "secret", ""),
		BaseEndpoint:     aws.String(mt.URL),
		RetryMaxAttempts: 1,
	}

	// IAM: devs has alice and carol; bob is in no group; dev-direct is in
	// devs too but has a mapUsers entry.
	ic := iam.NewFromConfig(cfg)
	if _, err := ic.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}); err != nil {
		t.Fatalf("moto CreateGroup: %v", err)
	}
	for _, u := range []struct {
		name   string
		inDevs bool
	}{{"dev-alice", true}, {"dev-carol", true}, {"dev-direct", true}, {"bob", false}} {
		if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u.name)}); err != nil {
			t.Fatalf("moto CreateUser %s: %v", u.name, err)
		}
		if u.inDevs {
			if _, err := ic.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u.name)}); err != nil {
				t.Fatalf("moto AddUserToGroup %s: %v", u.name, err)
			}
		}
	}
	// EC2: two instances, one looked up while EC2 answers, one after.
	out, err := ec2.NewFromConfig(cfg).RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
	})
	if err != nil || len(out.Instances) != 2 {
		t.Fatalf("moto RunInstances: %v", err)
	}
	inst, inst2 := out.Instances[0], out.Instances[1]
	dnsName := aws.ToString(inst.PrivateDnsName)
	if dnsName == "" {
		t.Fatalf("moto instance %s has no private DNS name", aws.ToString(inst.InstanceId))
	}

	var (
		alice      = m4MotoUser("AKIAM4DEVALICE000001", "dev-alice", "AIDAE2EDEVALICE00001")
		carol      = m4MotoUser("AKIAM4DEVCAROL000001", "dev-carol", "AIDAE2EDEVCAROL00001")
		direct     = m4MotoUser("AKIAM4DEVDIRECT00001", "dev-direct", "AIDAE2EDEVDIRECT0001")
		bob        = m4MotoUser("AKIAM4BOB00000000001", "bob", "AIDAE2EBOB0000000001")
		node       = m4Node("ASIAM4NODE0000000001", aws.ToString(inst.InstanceId))
		node2      = m4Node("ASIAM4NODE0000000002", aws.ToString(inst2.InstanceId))
		ghostNode  = m4Node("ASIAM4GHOSTNODE00001", "i-0123456789abcdef0") // no such instance
		laptopNode = m4Node("ASIAM4LAPTOPNODE0001", "my-laptop")           // not an instance id
	)
	// The server's AWS SDK reads these, as it would in a pod.
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": mt.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKIDTESTING", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": t.TempDir() + "/none", "AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/none",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
	} {
		t.Setenv(k, v)
	}
	c := m4StartCluster(t, m4Setup{
		config: m4LookupsConfig,
		ids:    []identity{alice, carol, direct, bob, node, node2, ghostNode, laptopNode},
	})
	m4PodReaders(t, c, "m4-devs", "m4-direct")

	t.Run("4-IAMGroupMember", func(t *testing.T) {
		m4Allowed(t, c, alice, "dev:"+alice.accessKeyID, "MountedFile mapGroups[arn:aws:iam::123456789012:group/devs]", "m4-devs")
		m4RBACView(t, c, alice)
		// Near miss: a user of the same account in no group.
		m4Unauthorized(t, c, bob, "not_mapped", "")
		// A direct mapping wins over the group.
		m4Allowed(t, c, direct, "direct", "MountedFile mapUsers[arn:aws:iam::123456789012:user/dev-direct]", "m4-direct")
	})
	t.Run("6-EC2PrivateDNSName", func(t *testing.T) {
		m4Allowed(t, c, node, "system:node:"+dnsName, "MountedFile mapRoles[arn:aws:iam::123456789012:role/eks-node]",
			"system:bootstrappers", "system:nodes")
		// Near misses: an instance EC2 does not know, and a session that
		// is not an instance id. Both deny (no fallback).
		m4Unauthorized(t, c, ghostNode, "mapping_error", "EC2 instance not found")
		m4Unauthorized(t, c, laptopNode, "mapping_error", "is not an instance ID")
	})

	// Now IAM and EC2 are unreachable. Answers already cached still count
	// (alice, node); first lookups fail and deny.
	mt.Stop()
	t.Run("4-IAMUnreachable", func(t *testing.T) {
		// carol is in devs, but IAM cannot say so: no group mapping.
		mark := c.log.Len()
		// A failed lookup while mapGroups entries exist for carol's account now denies (no later tier may grant).
		m4Unauthorized(t, c, carol, "group_lookup_failed", "IAM group lookup failed")
		m4LogHas(t, c, mark, "IAM group lookup failed", "dev-carol")
	})
	t.Run("6-EC2Unreachable", func(t *testing.T) {
		// node2 is a real instance, but EC2 cannot be asked: denied, and
		// never by falling through to another tier.
		m4Unauthorized(t, c, node2, "mapping_error", "DescribeInstances in account 123456789012")
	})
}
