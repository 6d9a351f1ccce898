package awsauthedit

import (
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Key names the principal an entry maps, so that two entries with one key
// are duplicates (the later wins in the server): a role by its
// lower-cased name and account whatever its path (as the server matches
// it), other ARNs and patterns lower-cased, an sso block by permission
// set, account and partition, an account by its ID.
func Key(e mapping.Entry) string {
	switch {
	case e.Kind == mapping.KindAccount:
		return "account:" + e.Account
	case e.SSO != nil:
		p := e.SSO.Partition
		if p == "" {
			p = rules.DefaultSSOPartition
		}
		return "sso:" + strings.ToLower(p+":"+e.SSO.AccountID+":"+e.SSO.PermissionSetName)
	}
	if a, err := arn.Parse(e.ARN); err == nil {
		if k, ok := a.RoleKey(); ok {
			return "role:" + k
		}
	}
	return e.Kind.String() + ":" + strings.ToLower(e.ARN)
}

// Describe names an entry in one line, for listings and messages.
func Describe(e mapping.Entry) string {
	switch {
	case e.Kind == mapping.KindAccount:
		return "account " + e.Account
	case e.SSO != nil:
		s := "sso permissionSetName=" + e.SSO.PermissionSetName + ",accountID=" + e.SSO.AccountID
		if e.SSO.Partition != "" {
			s += ",partition=" + e.SSO.Partition
		}
		return s
	}
	return e.ARN
}
