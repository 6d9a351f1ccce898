package iamgroups

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/awslookup/assume"
)

// DefaultRoleSessionName names the sessions of assumed IAM lookup roles, so
// they are easy to find in CloudTrail.
const DefaultRoleSessionName = "iamgate-iam-list-groups"

// ClientConfig says which credentials the IAM lookups use.
type ClientConfig struct {
	// AccountRoleARNs maps an account id to the role assumed to look up its
	// users (server.iamGroupsRoleARNs). Each role must be in the account it
	// is listed for: ListGroupsForUser only sees the users of the account
	// whose credentials make the call. Users of accounts without an entry
	// are looked up with the server's own credentials.
	AccountRoleARNs map[string]string
	// ExternalID (server.iamGroupsExternalID), when set, is sent with every
	// AssumeRole.
	ExternalID string
	// RoleSessionName for AssumeRole; empty means DefaultRoleSessionName.
	RoleSessionName string
}

// NewFromConfig validates cc and returns a resolver with one IAM client for
// the server's own credentials (cfg) and one per account role, each role
// assumed through STS, in cfg's region, with cached, auto-refreshed
// credentials. IAM is global: the region in cfg only picks the partition's
// endpoint. Building contacts no endpoint.
func NewFromConfig(cfg aws.Config, cc ClientConfig, o Options) (*Resolver, error) {
	session := cc.RoleSessionName
	if session == "" {
		session = DefaultRoleSessionName
	}
	cfgs, err := assume.Configs(cfg, cc.AccountRoleARNs, assume.Options{SessionName: session, ExternalID: cc.ExternalID})
	if err != nil {
		return nil, fmt.Errorf("iamgroups: %w", err)
	}
	accounts := make(map[string]IAMAPI, len(cfgs))
	for acct, c := range cfgs {
		accounts[acct] = iam.NewFromConfig(c)
	}
	return NewWithAccounts(iam.NewFromConfig(cfg), accounts, o), nil
}
