package awscreds

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// lateEndpoint carries the general custom endpoint (AWS_ENDPOINT_URL, a
// profile's endpoint_url) to the STS clients the SDK builds for the
// credential chain. The SDK builds those clients before it resolves that
// endpoint, so profile roles and web identity would otherwise call the real
// STS host while every other client honours the setting. The STS-specific
// settings (AWS_ENDPOINT_URL_STS, the profile's services section) already
// reach those clients and keep precedence.
type lateEndpoint struct {
	base *string
}

func (l *lateEndpoint) apply(c *sts.Client) func(*sts.Options) {
	return func(o *sts.Options) {
		if o.BaseEndpoint == nil && l.base != nil && c.Options().BaseEndpoint == nil {
			o.BaseEndpoint = l.base
		}
	}
}

type lateAssumeRole struct {
	*sts.Client
	late *lateEndpoint
}

func (c lateAssumeRole) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return c.Client.AssumeRole(ctx, in, append(optFns, c.late.apply(c.Client))...)
}

type lateWebIdentity struct {
	*sts.Client
	late *lateEndpoint
}

func (c lateWebIdentity) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return c.Client.AssumeRoleWithWebIdentity(ctx, in, append(optFns, c.late.apply(c.Client))...)
}

func (l *lateEndpoint) assumeRole(c stscreds.AssumeRoleAPIClient) stscreds.AssumeRoleAPIClient {
	if sc, ok := c.(*sts.Client); ok {
		return lateAssumeRole{Client: sc, late: l}
	}
	return c
}

func (l *lateEndpoint) webIdentity(c stscreds.AssumeRoleWithWebIdentityAPIClient) stscreds.AssumeRoleWithWebIdentityAPIClient {
	if sc, ok := c.(*sts.Client); ok {
		return lateWebIdentity{Client: sc, late: l}
	}
	return c
}

// STSEndpoint is the custom STS endpoint cfg's clients use, or "" for the
// real regional host. iamgate obtains credentials there but never writes it
// into a token: servers accept only real STS hosts.
func STSEndpoint(cfg aws.Config) string {
	return aws.ToString(sts.NewFromConfig(cfg).Options().BaseEndpoint)
}
