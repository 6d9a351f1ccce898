package ec2dns

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgate/iamgate/internal/awslookup/assume"
)

// DefaultRoleSessionName names the sessions of assumed EC2 lookup roles, so
// they are easy to find in CloudTrail.
const DefaultRoleSessionName = "iamgate-ec2-describe-instances"

// ErrBadClientConfig is wrapped by every ClientConfig validation error.
var ErrBadClientConfig = errors.New("invalid EC2 lookup configuration")

// ClientConfig says which credentials and region the EC2 lookups use.
type ClientConfig struct {
	// Region for DescribeInstances; empty means the aws.Config's region (the
	// server's own).
	Region string
	// RoleARN (server.ec2DescribeInstancesRoleARN) is assumed for accounts
	// that have no entry in AccountRoleARNs. Empty: those accounts use the
	// server's own credentials, as aws-iam-authenticator does.
	RoleARN string
	// AccountRoleARNs maps an account id to the role assumed to look up its
	// instances (server.ec2DescribeInstancesRoleARNs). Each role must be in
	// the account it is listed for: DescribeInstances only sees the
	// instances of the account whose credentials make the call.
	AccountRoleARNs map[string]string
	// RoleSessionName for AssumeRole; empty means DefaultRoleSessionName.
	RoleSessionName string
	// ExternalID, when set, is sent with every AssumeRole.
	ExternalID string
}

// NewClientFunc validates cc and builds the EC2 clients: one for the
// server's own credentials and one per distinct role, each role assumed
// through STS with cached, auto-refreshed credentials.
func NewClientFunc(cfg aws.Config, cc ClientConfig) (ClientFunc, error) {
	region := cc.Region
	if region == "" {
		region = cfg.Region
	}
	if region == "" {
		return nil, fmt.Errorf("ec2dns: %w: no region (set the EC2 lookup region or the server's region)", ErrBadClientConfig)
	}
	if cc.RoleARN != "" {
		if err := assume.CheckRole("", cc.RoleARN); err != nil {
			return nil, fmt.Errorf("ec2dns: %w: %w", ErrBadClientConfig, err)
		}
	}
	if errs := assume.CheckAccountRoles(cc.AccountRoleARNs); len(errs) > 0 {
		return nil, fmt.Errorf("ec2dns: %w: %w", ErrBadClientConfig, errors.Join(errs...))
	}
	session := cc.RoleSessionName
	if session == "" {
		session = DefaultRoleSessionName
	}
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if o.Region == "" {
			o.Region = region
		}
	})
	inRegion := func(o *ec2.Options) { o.Region = region }
	byRole := map[string]*ec2.Client{}
	for _, role := range append(slices.Collect(maps.Values(cc.AccountRoleARNs)), cc.RoleARN) {
		if role == "" || byRole[role] != nil {
			continue
		}
		c := cfg.Copy()
		c.Credentials = assume.Credentials(stsClient, role, assume.Options{SessionName: session, ExternalID: cc.ExternalID})
		byRole[role] = ec2.NewFromConfig(c, inRegion)
	}
	own := ec2.NewFromConfig(cfg, inRegion)
	accountRoles := maps.Clone(cc.AccountRoleARNs)
	defaultRole := cc.RoleARN
	return func(_ context.Context, accountID string) (EC2API, error) {
		if role, ok := accountRoles[accountID]; ok {
			return byRole[role], nil
		}
		if defaultRole != "" {
			return byRole[defaultRole], nil
		}
		return own, nil
	}, nil
}

// NewFromConfig is New with the clients of NewClientFunc.
func NewFromConfig(cfg aws.Config, cc ClientConfig, o Options) (*Resolver, error) {
	f, err := NewClientFunc(cfg, cc)
	if err != nil {
		return nil, err
	}
	return New(f, o), nil
}
