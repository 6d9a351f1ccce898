package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping"
)

// An AIA config with an sso entry must not start matching SSO roles under
// iamgate unless the operator turns AIA's SSORoleMatch gate on.
func TestSSOMatchingFollowsAIAFeatureGate(t *testing.T) {
	const cfg = `clusterID: c
server:
  mapRoles:
  - sso:
      permissionSetName: Dev
      accountID: "111122223333"
    username: dev:{{SessionName}}
    groups: [devs]
`
	id := mapping.Identity{
		ARN:          "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice",
		CanonicalARN: "arn:aws:iam::111122223333:role/AWSReservedSSO_Dev_0123456789abcdef",
		AccountID:    "111122223333", UserID: "AROAEXAMPLE:alice", SessionName: "alice", AccessKeyID: "ASIAEXAMPLE",
	}
	for _, gate := range []bool{false, true} {
		c, err := config.Parse([]byte(cfg), "")
		if err != nil {
			t.Fatal(err)
		}
		if gate {
			if err := c.SetFeatureGates("SSORoleMatch=true"); err != nil {
				t.Fatal(err)
			}
		}
		c.Default()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		mappers, err := buildMappers(c)
		if err != nil {
			t.Fatal(err)
		}
		res, err := mappers[0].Map(context.Background(), id)
		switch {
		case !gate && !errors.Is(err, mapping.ErrNotMapped):
			t.Errorf("gate off: want not mapped, got %+v %v", res, err)
		case gate && (err != nil || res.Username != "dev:alice"):
			t.Errorf("gate on: want dev:alice, got %+v %v", res, err)
		}
	}
}

// A reserved-prefix username loads only when the operator allowlists it.
func TestReservedPrefixAllowlist(t *testing.T) {
	const base = `clusterID: c
server:
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/ops
    username: eks:operator:{{SessionName}}
`
	id := mapping.Identity{
		ARN:          "arn:aws:sts::111122223333:assumed-role/ops/alice",
		CanonicalARN: "arn:aws:iam::111122223333:role/ops",
		AccountID:    "111122223333", UserID: "AROAEXAMPLE:alice", SessionName: "alice", AccessKeyID: "ASIAEXAMPLE",
	}
	for _, allow := range []bool{false, true} {
		body := base
		if allow {
			body += "  reservedPrefixAllowlist: [\"eks:operator:{{SessionName}}\"]\n"
		}
		c, err := config.Parse([]byte(body), "")
		if err != nil {
			t.Fatal(err)
		}
		c.Default()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		mappers, err := buildMappers(c)
		if !allow {
			if err == nil {
				res, merr := mappers[0].Map(context.Background(), id)
				if merr == nil {
					t.Fatalf("reserved username granted without allowlist: %+v", res)
				}
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		res, err := mappers[0].Map(context.Background(), id)
		if err != nil || res.Username != "eks:operator:alice" {
			t.Fatalf("allowlisted: %+v %v", res, err)
		}
	}
}
