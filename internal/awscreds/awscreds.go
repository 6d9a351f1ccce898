// Package awscreds resolves the AWS credentials "iamgate token" signs with:
// the aws-sdk-go-v2 default chain (environment, shared config and
// credentials files, role_arn/source_profile, SSO, web identity,
// credential_process, container and EC2 instance metadata), optionally an
// extra AssumeRole (--role), with three changes that matter to a kubectl
// plugin:
//
//   - MFA prompts go to stderr, never stdout (kubectl parses stdout), and
//     fail with a clear message instead of prompting when kubectl says there
//     is no terminal;
//   - expiring credentials are cached on disk, so an MFA code is typed once
//     per session rather than on every kubectl call;
//   - EC2 instance metadata is bounded to a few seconds, so a laptop with no
//     credentials fails fast instead of stalling (aws-iam-authenticator#347).
package awscreds

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgate/iamgate/internal/tokencache"
)

// RoleDuration is how long assumed-role sessions are requested for. The SDK
// default (15 minutes) would leave nothing to reuse under the 15-minute
// refresh rule; one hour is allowed for every role, chained or not.
const RoleDuration = time.Hour

// Options selects the identity. The zero value loads the default chain with
// no disk cache and no prompts.
type Options struct {
	Profile            string
	Region             string
	Role               string
	ExternalID         string
	SessionName        string
	ForwardSessionName bool

	// Interactive allows MFA prompts (on Prompt, answers read from In).
	Interactive bool
	In          io.Reader
	Prompt      io.Writer

	// Cache, when set, keeps expiring credentials on disk under
	// CredentialsKey (the final identity) and BaseCredentialsKey (the one a
	// --role is assumed with).
	Cache              *tokencache.Store
	CredentialsKey     string
	BaseCredentialsKey string
	// Warn receives one-line, secret-free notes (cache write failures).
	Warn io.Writer

	// Now defaults to time.Now; it decides whether cached credentials are
	// fresh enough.
	Now func() time.Time
	// IMDSTimeout bounds each EC2 instance metadata call (default 3s).
	IMDSTimeout time.Duration
	// Getenv defaults to os.Getenv; it names the profile in messages.
	Getenv func(string) string
}

func (o *Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Load returns an aws.Config whose Credentials follow the rules above.
// Nothing is fetched yet: credentials are resolved on the first Retrieve, so
// a caller that finds a cached token never touches them.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	prompter := &mfaPrompter{interactive: o.Interactive, in: o.In, out: o.Prompt}
	late := &lateEndpoint{}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithAssumeRoleCredentialOptions(func(ao *stscreds.AssumeRoleOptions) {
			prompter.configure(ao)
			if ao.Duration == 0 {
				ao.Duration = RoleDuration
			}
			ao.Client = late.assumeRole(withRegion(ao.Client))
		}),
		config.WithWebIdentityRoleCredentialOptions(func(wo *stscreds.WebIdentityRoleOptions) {
			wo.Client = late.webIdentity(wo.Client)
		}),
		config.WithEC2RoleCredentialOptions(func(eo *ec2rolecreds.Options) {
			eo.Client = newBoundedIMDS(o.IMDSTimeout)
		}),
	}
	if o.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return aws.Config{}, o.explain(fmt.Errorf("load AWS config: %w", err))
	}
	if cfg.Credentials == nil {
		return aws.Config{}, o.explain(fmt.Errorf("load AWS config: %w", ErrNoCredentials))
	}
	late.base = cfg.BaseEndpoint

	if o.Role == "" {
		cfg.Credentials = o.disk(cfg.Credentials, o.CredentialsKey)
		return cfg, nil
	}
	cfg.Credentials = o.disk(cfg.Credentials, o.BaseCredentialsKey)
	cfg.Credentials = o.disk(aws.NewCredentialsCache(o.roleProvider(cfg)), o.CredentialsKey)
	return cfg, nil
}

// roleProvider assumes --role with the base credentials in cfg.
func (o *Options) roleProvider(cfg aws.Config) aws.CredentialsProvider {
	client := withRegion(sts.NewFromConfig(cfg))
	return aws.CredentialsProviderFunc(func(ctx context.Context) (aws.Credentials, error) {
		session := o.SessionName
		if o.ForwardSessionName {
			name, err := callerSessionName(ctx, client)
			if err != nil {
				return aws.Credentials{}, err
			}
			session = name
		}
		if session == "" {
			session = "iamgate-" + strconv.FormatInt(o.now().Unix(), 10)
		}
		p := stscreds.NewAssumeRoleProvider(client, o.Role, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = session
			ao.Duration = RoleDuration
			if o.ExternalID != "" {
				ao.ExternalID = aws.String(o.ExternalID)
			}
		})
		creds, err := p.Retrieve(ctx)
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("assume role %s: %w", o.Role, err)
		}
		return creds, nil
	})
}

// callerSessionName is what --forward-session-name passes on, as
// aws-iam-authenticator does: the caller's own role session name, the part of
// its STS UserId after the colon ("AROA...:alice@example.com"). Callers that
// are not role sessions (IAM users) have none; the default is used.
func callerSessionName(ctx context.Context, client *sts.Client) (string, error) {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("--forward-session-name: look up caller identity: %w", err)
	}
	id := aws.ToString(out.UserId)
	if _, session, ok := strings.Cut(id, ":"); ok && session != "" {
		return session, nil
	}
	return "", nil
}

// withRegion gives an STS client without a region the global endpoint's
// signing region, so AssumeRole works with no region configured (the token
// itself is then signed for the global endpoint too).
func withRegion[C stscreds.AssumeRoleAPIClient](c C) C {
	sc, ok := any(c).(*sts.Client)
	if !ok || sc.Options().Region != "" {
		return c
	}
	return any(sts.New(sc.Options(), func(so *sts.Options) { so.Region = "us-east-1" })).(C)
}

// disk wraps p with the on-disk credential cache when one is configured.
func (o *Options) disk(p aws.CredentialsProvider, key string) aws.CredentialsProvider {
	if o.Cache == nil || key == "" {
		return p
	}
	return &diskProvider{inner: p, store: *o.Cache, file: tokencache.CredentialsFile(key), now: o.now, warn: o.Warn}
}
