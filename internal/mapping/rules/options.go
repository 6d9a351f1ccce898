package rules

import (
	"context"
	"log/slog"
)

// GroupResolver answers which IAM groups an IAM user belongs to
// (iam:ListGroupsForUser). The Table asks it only for an IAM user that no
// user entry or user pattern maps, and only when the Table holds mapGroups
// entries for the user's account. Implementations cache, rate-limit, count
// and log; the Table treats any error as "no group-derived mapping" (fail
// closed) and never retries.
type GroupResolver interface {
	// GroupsForUser returns the ARNs of the groups userARN (an IAM user ARN
	// as STS reports it, path included) is a member of, in any order.
	GroupsForUser(ctx context.Context, userARN string) ([]string, error)
}

// EC2Resolver finds an instance's private DNS name for the
// {{EC2PrivateDNSName}} template (ec2:DescribeInstances). The Table asks it
// only for sessions named like an instance ID; an error denies the review.
type EC2Resolver interface {
	PrivateDNSName(ctx context.Context, accountID, instanceID string) (string, error)
}

// Options change how a Table matches. The zero value is the conservative
// default NewTable uses: SSO entries and group entries load but never match,
// {{EC2PrivateDNSName}} denies, and only the known-safe reserved names pass.
type Options struct {
	// SSORoleMatch turns on mapRoles `sso` entries. aws-iam-authenticator
	// keeps them behind the SSORoleMatch feature gate, off by default; the
	// server passes config.Gate("SSORoleMatch").
	SSORoleMatch bool
	// Groups resolves IAM group membership for mapGroups entries. Nil means
	// group entries never match.
	Groups GroupResolver
	// EC2 resolves {{EC2PrivateDNSName}}. Nil means such entries deny.
	EC2 EC2Resolver
	// AllowReserved lists usernames and groups, as written in the mapping
	// (template text, compared exactly), that may use a reserved prefix
	// (system:, eks:, aws:, amazon:, iam:) beyond the forms EKS writes.
	AllowReserved []string
	// ReservedUsernamePrefixes are further username prefixes no entry may
	// produce, whatever AllowReserved says: aws-iam-authenticator's
	// reservedPrefixConfig[backend].usernamePrefixReserveList. Note the
	// polarity: that list reserves (forbids); it is not an allowlist.
	ReservedUsernamePrefixes []string
	// Logger receives warnings at build time (entries that cannot match)
	// and at review time (ambiguous matches, resolver failures). Nil means
	// slog.Default().
	Logger *slog.Logger
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}
