package kube_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// "iamgate server --awsiamconfig FILE -i ID", with no config
// file at all, serves the roles and users of an EKS Anywhere AWSIamConfig
// document (as seed 002 writes it, inside a cluster spec with other kinds)
// to a real kube-apiserver.

const m4ClusterSpec = `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: Cluster
metadata:
  name: mgmt
spec:
  identityProviderRefs:
    - kind: AWSIamConfig
      name: aws-iam-auth-config
---
apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: aws-iam-auth-config
  namespace: default
spec:
  awsRegion: us-west-2
  backendMode:
    - EKSConfigMap
  mapRoles:
    - roleARN: arn:aws:iam::111122223333:role/KubernetesAdmin
      username: admin:{{AccessKeyID}}:{{SessionName}}
      groups:
        - system:masters
  mapUsers:
    - userARN: arn:aws:iam::111122223333:user/alice
      username: alice
      groups:
        - system:masters
  partition: aws
`

var (
	m4EKSAAdmin  = m4Role("ASIAM4EKSAADMIN00001", "KubernetesAdmin", "jane", "AROAE2EEKSAADMIN0001")
	m4EKSAAdmin2 = m4Role("ASIAM4EKSAADMIN20001", "KubernetesAdmin2", "jane", "AROAE2EEKSAADMIN2001")
	m4Alice      = identity{
		accessKeyID: "AKIAM4ALICE000000001", secret: "secret-alice",
		sts: ststest.Identity{Arn: "arn:aws:iam::" + account + ":user/alice", Account: account, UserId: "AIDAE2EALICE00000001"},
	}
	m4Alicia = identity{
		accessKeyID: "AKIAM4ALICIA00000001", secret: "secret-alicia",
		sts: ststest.Identity{Arn: "arn:aws:iam::" + account + ":user/alicia", Account: account, UserId: "AIDAE2EALICIA0000001"},
	}
)

func TestAPIServerRulesAWSIamConfig(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(doc, []byte(m4ClusterSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	c := m4StartCluster(t, m4Setup{
		flags: []string{"--awsiamconfig", doc, "-i", "e2e-cluster"},
		ids:   []identity{m4EKSAAdmin, m4EKSAAdmin2, m4Alice, m4Alicia},
	})

	t.Run("8-RoleGranted", func(t *testing.T) {
		m4Allowed(t, c, m4EKSAAdmin, "admin:"+m4EKSAAdmin.accessKeyID+":jane",
			"MountedFile mapRoles[arn:aws:iam::111122223333:role/KubernetesAdmin]", "system:masters")
		wantCan(t, c.kubeconfigFor(t, m4EKSAAdmin, c.id), true, "* *", "create clusterrolebindings")
		m4Unauthorized(t, c, m4EKSAAdmin2, "not_mapped", "")
	})
	t.Run("8-UserGranted", func(t *testing.T) {
		m4Allowed(t, c, m4Alice, "alice", "MountedFile mapUsers[arn:aws:iam::111122223333:user/alice]", "system:masters")
		wantCan(t, c.kubeconfigFor(t, m4Alice, c.id), true, "delete nodes")
		m4Unauthorized(t, c, m4Alicia, "not_mapped", "")
	})
	t.Run("8-ClusterIDFromFlag", func(t *testing.T) {
		// The document has no cluster id; -i is the one tokens must name.
		mark := c.log.Len()
		_, errOut, err := kubectl(t, c.kubeconfigFor(t, m4EKSAAdmin, "mgmt"), "auth", "whoami")
		if err == nil {
			t.Fatalf("whoami with a token for cluster %q succeeded; want Unauthorized", "mgmt")
		}
		rs := m4ReviewsSince(c, mark)
		if len(rs) == 0 || rs[0].Reason != "sts_invalid" {
			t.Errorf("reviews = %+v (stderr %q), want deny sts_invalid", rs, errOut)
		}
	})
}
