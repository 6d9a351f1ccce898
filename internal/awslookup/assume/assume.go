// Package assume builds the per-account credentials the AWS lookups use to
// look up accounts other than the server's own: a map of account id → IAM
// role in that account, each role assumed through STS (aws-sdk-go-v2's
// stscreds) with credentials cached and refreshed by aws.CredentialsCache.
//
// A role must be in the account it is listed for. The lookups ask
// account-scoped questions (whose groups, whose instances) of whatever
// account the credentials act in, so a role listed for the wrong account
// would answer for the wrong account. Such a map is refused, never used.
package assume

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamgate/iamgate/internal/arn"
)

// ErrBadConfig is wrapped by every validation error of this package.
var ErrBadConfig = errors.New("invalid account role")

// Options are the AssumeRole parameters shared by every role of one map.
type Options struct {
	// SessionName names the assumed-role sessions (seen in CloudTrail).
	// Required.
	SessionName string
	// ExternalID, when set, is sent with every AssumeRole.
	ExternalID string
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CheckRole checks that role is an IAM role ARN and, when account is set,
// that it is in account (which must then be a 12-digit account id). Its
// errors wrap ErrBadConfig and say what is wrong without naming a config
// key: callers add that.
func CheckRole(account, role string) error {
	if account != "" && !IsAccountID(account) {
		return fmt.Errorf("%w: account id %q is not 12 digits", ErrBadConfig, account)
	}
	a, err := arn.Parse(role)
	if err != nil {
		return fmt.Errorf("%w: role %q: %w", ErrBadConfig, role, err)
	}
	if a.Type != arn.TypeRole {
		return fmt.Errorf("%w: %q is not an IAM role ARN", ErrBadConfig, role)
	}
	if account != "" && a.AccountID != account {
		return fmt.Errorf("%w: role %q is listed for account %s but is in account %s", ErrBadConfig, role, account, a.AccountID)
	}
	return nil
}

// CheckAccountRoles checks every entry of an account id → role map and
// returns one error per bad entry, in account order (nil: all good).
func CheckAccountRoles(roles map[string]string) []error {
	var errs []error
	for _, acct := range slices.Sorted(maps.Keys(roles)) {
		if err := CheckRole(acct, roles[acct]); err != nil {
			errs = append(errs, fmt.Errorf("[%s]: %w", acct, err))
		}
	}
	return errs
}

// Configs validates roles (all problems at once) and returns, for each
// account, a copy of cfg whose credentials come from assuming that
// account's role with cfg's own credentials. Credentials are fetched on
// first use, cached and refreshed before they expire; building the configs
// contacts no endpoint. STS is called in cfg's region, which must be set
// when roles is not empty.
func Configs(cfg aws.Config, roles map[string]string, o Options) (map[string]aws.Config, error) {
	if errs := CheckAccountRoles(roles); len(errs) > 0 {
		return nil, fmt.Errorf("assume: %w", errors.Join(errs...))
	}
	if len(roles) == 0 {
		return map[string]aws.Config{}, nil
	}
	if o.SessionName == "" {
		return nil, fmt.Errorf("assume: %w: no role session name", ErrBadConfig)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("assume: %w: no region for STS AssumeRole (set AWS_REGION)", ErrBadConfig)
	}
	stsClient := sts.NewFromConfig(cfg)
	out := make(map[string]aws.Config, len(roles))
	for acct, role := range roles {
		c := cfg.Copy()
		c.Credentials = Credentials(stsClient, role, o)
		out[acct] = c
	}
	return out, nil
}

// Credentials returns cached, auto-refreshed credentials of role, assumed
// through client.
func Credentials(client stscreds.AssumeRoleAPIClient, role string, o Options) aws.CredentialsProvider {
	return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client, role, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = o.SessionName
		if o.ExternalID != "" {
			ao.ExternalID = aws.String(o.ExternalID)
		}
	}))
}
