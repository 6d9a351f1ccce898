package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// IAM Identity Center names the role it creates for a permission set
// AWSReservedSSO_<permission set name>_<16 lower-case hex digits>, under the
// path /aws-reserved/sso.amazonaws.com/[REGION/].
const (
	ssoRolePrefix = "awsreservedsso_" // lower-cased
	ssoSuffixHex  = 16
	ssoPath       = "/aws-reserved/sso.amazonaws.com/"
	// maxPermissionSetName is IAM Identity Center's limit (32).
	maxPermissionSetName = 32
)

// DefaultSSOPartition is the partition of an sso entry that names none.
const DefaultSSOPartition = "aws"

// ssoTarget validates an sso block. Its key is "partition|account|name",
// lower-cased (role names match ignoring case, like every ARN here).
func ssoTarget(s mapping.SSO) (target, error) {
	if s.PermissionSetName == "" {
		return target{}, errors.New("sso.permissionSetName is empty")
	}
	if err := checkIAMName(s.PermissionSetName, maxPermissionSetName); err != nil {
		return target{}, fmt.Errorf("sso.permissionSetName %q: %w", s.PermissionSetName, err)
	}
	if !arn.IsAccountID(s.AccountID) {
		return target{}, fmt.Errorf("sso.accountID %q is not a 12-digit account ID", s.AccountID)
	}
	part := s.Partition
	if part == "" {
		part = DefaultSSOPartition
	}
	part = strings.ToLower(part)
	if _, err := arn.Parse("arn:" + part + ":iam::" + s.AccountID + ":role/x"); err != nil {
		return target{}, fmt.Errorf("sso.partition %q: %w", s.Partition, err)
	}
	return target{
		kind:  targetSSO,
		key:   part + "|" + s.AccountID + "|" + strings.ToLower(s.PermissionSetName),
		canon: "sso:" + part + ":" + s.AccountID + ":" + s.PermissionSetName,
	}, nil
}

// ssoKeyOf returns the sso key a role (or assumed-role session) would match,
// and false if it is not named like an Identity Center role. The permission
// set name is everything between the fixed prefix and the last
// "_<16 hex>", so "Dev" never matches AWSReservedSSO_Dev_admin_<hex> (whose
// permission set is "Dev_admin"), which aws-iam-authenticator's prefix match
// did.
func ssoKeyOf(p arn.ARN) (string, bool) {
	if p.Type != arn.TypeRole && p.Type != arn.TypeAssumedRole {
		return "", false
	}
	// A role ARN (not a session) shows its path: it must be Identity
	// Center's or none. Sessions carry no path.
	if p.Type == arn.TypeRole && p.Path != "/" && !strings.HasPrefix(strings.ToLower(p.Path), ssoPath) {
		return "", false
	}
	name := strings.ToLower(p.Name)
	if !strings.HasPrefix(name, ssoRolePrefix) {
		return "", false
	}
	rest := name[len(ssoRolePrefix):]
	if len(rest) < ssoSuffixHex+2 || rest[len(rest)-ssoSuffixHex-1] != '_' {
		return "", false
	}
	for _, c := range rest[len(rest)-ssoSuffixHex:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", false
		}
	}
	set := rest[:len(rest)-ssoSuffixHex-1]
	return p.Partition + "|" + p.AccountID + "|" + set, true
}
