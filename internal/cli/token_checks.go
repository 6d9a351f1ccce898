package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/awscreds"
	"github.com/iamgate/iamgate/internal/token"
	"github.com/iamgate/iamgate/internal/token/presign"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

// debugf returns the --debug printer: one "debug:" line on stderr per call,
// or nothing. Callers pass names, hosts, paths and hashes, never secrets.
func debugf(on bool, w io.Writer) func(format string, args ...any) {
	if !on {
		return func(string, ...any) {}
	}
	return func(format string, args ...any) { fmt.Fprintf(w, "debug: "+format+"\n", args...) }
}

// checkRole refuses a --role that is not an IAM role ARN before anything is
// sent to STS, which would answer with a less helpful error (or, for a typo
// in a valid-looking ARN, only after an MFA prompt).
func checkRole(role string, getenv func(string) string) error {
	if role == "" {
		return nil
	}
	from := "--role"
	if getenv(tokenflags.DefaultRoleEnv) == role {
		from = "$" + tokenflags.DefaultRoleEnv
	}
	a, err := arn.Parse(role)
	if err == nil && a.Type != arn.TypeRole {
		err = fmt.Errorf("it names a %s, not a role", a.Type)
	}
	if err != nil {
		return fmt.Errorf("%s %s is not an IAM role ARN (want arn:aws:iam::111122223333:role/NAME): %w",
			from, quoteValue(role), err)
	}
	return nil
}

// quoteValue quotes user input for a one-line message, bounded.
func quoteValue(s string) string {
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// checkSTS resolves the STS host the token will name and warns about the two
// ways a token can be useless on the server: a region the SDK does not know,
// and a custom STS endpoint (used for credentials, never for the token).
func checkSTS(ctx context.Context, cfg aws.Config, warn io.Writer, dbg func(string, ...any)) (string, error) {
	host, signingRegion, err := presign.STSHost(ctx, cfg.Region)
	if err != nil {
		return "", err
	}
	if cfg.Region != "" && !knownRegion(cfg.Region) {
		fmt.Fprintf(warn, "warning: region %q is not one the AWS SDK knows; the token names %s, which servers "+
			"refuse unless configured for it; check --region, AWS_REGION and the profile's region\n", cfg.Region, host)
	}
	if ep := awscreds.STSEndpoint(cfg); ep != "" {
		fmt.Fprintf(warn, "warning: custom STS endpoint %s is used only to get credentials; the token names %s, "+
			"the real STS host servers accept\n", ep, host)
	}
	region := cfg.Region
	if region == "" {
		region = "(none: global endpoint)"
	}
	dbg("region %s, STS host %s (signing region %s)", region, host, signingRegion)
	return host, nil
}

func knownRegion(region string) bool {
	for _, p := range token.Partitions() {
		if token.ListedRegion(p, region) {
			return true
		}
	}
	return false
}

// debugCreds prints where the signing identity came from.
func debugCreds(dbg func(string, ...any), o *awscreds.Options, c aws.Credentials, host string) {
	profile, from := o.ProfileName()
	if from != "" {
		profile += " (from " + from + ")"
	}
	role := o.Role
	if role == "" {
		role = "(none)"
	}
	expiry := "does not expire"
	if c.CanExpire {
		expiry = "expire " + c.Expires.UTC().Format(time.RFC3339)
	}
	dbg("credentials: %s, profile %s, --role %s, access key %s, %s; signing for %s", o.Describe(c.Source), profile, role, c.AccessKeyID, expiry, host)
}
