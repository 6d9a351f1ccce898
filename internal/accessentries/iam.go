package accessentries

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// IAMClient is the part of IAM the export reads: a role's path and id,
// the roles IAM Identity Center made, an IAM group's members.
type IAMClient interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, opts ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	iam.ListRolesAPIClient
	iam.GetGroupAPIClient
}

type iamRole struct{ arn, id string }

func (p *planner) getRole(ctx context.Context, name string) (iamRole, error) {
	out, err := p.o.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return iamRole{}, fmt.Errorf("IAM GetRole %s: %w", name, err)
	}
	return iamRole{arn: aws.ToString(out.Role.Arn), id: aws.ToString(out.Role.RoleId)}, nil
}

// ssoPathPrefix is where IAM Identity Center puts the roles it makes for
// permission sets (with a region segment in newer accounts).
const ssoPathPrefix = "/aws-reserved/sso.amazonaws.com/"

// ssoRoleName is AWSReservedSSO_<permission set>_<16 hex digits>.
var ssoRoleName = regexp.MustCompile(`^AWSReservedSSO_(.+)_[0-9a-f]{16}$`)

// ssoRole finds the role IAM Identity Center made for s in s's account.
func (p *planner) ssoRole(ctx context.Context, s *mapping.SSO) (string, error) {
	if p.o.IAM == nil {
		return "", fmt.Errorf("SSO permission set %s: no AWS credentials to find its AWSReservedSSO_%s_… role with IAM ListRoles (give credentials for account %s)", s.PermissionSetName, s.PermissionSetName, s.AccountID)
	}
	partition := s.Partition
	if partition == "" {
		partition = rules.DefaultSSOPartition
	}
	var found []string
	pages := iam.NewListRolesPaginator(p.o.IAM, &iam.ListRolesInput{PathPrefix: aws.String(ssoPathPrefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("SSO permission set %s: IAM ListRoles under %s: %w", s.PermissionSetName, ssoPathPrefix, err)
		}
		for _, r := range page.Roles {
			m := ssoRoleName.FindStringSubmatch(aws.ToString(r.RoleName))
			a, err := arn.Parse(aws.ToString(r.Arn))
			if m != nil && m[1] == s.PermissionSetName && err == nil && a.AccountID == s.AccountID && a.Partition == partition {
				found = append(found, aws.ToString(r.Arn))
			}
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("SSO permission set %s: IAM has no AWSReservedSSO_%s_… role in account %s (not assigned there, or these credentials are for another account)", s.PermissionSetName, s.PermissionSetName, s.AccountID)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("SSO permission set %s: %d roles match (%s); name the one you mean in a role entry", s.PermissionSetName, len(found), strings.Join(found, ", "))
}

// group lists an IAM group entry as skipped or, with ExpandGroups, exports
// each current member as a user entry.
func (p *planner) group(ctx context.Context, backend string, e mapping.Entry) {
	if !p.o.ExpandGroups {
		p.skip(backend, e, "mapGroups has no access-entry equivalent: EKS maps principals, not IAM groups; --expand-groups exports the group's current members (members added later get nothing)")
		return
	}
	if p.o.IAM == nil {
		p.skip(backend, e, "mapGroups: no AWS credentials to list the group's members with IAM GetGroup")
		return
	}
	parts := strings.SplitN(e.ARN, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "group/") {
		p.skip(backend, e, "group ARN does not parse: want arn:PARTITION:iam::ACCOUNT:group/NAME")
		return
	}
	account := parts[4]
	name := e.ARN[strings.LastIndex(e.ARN, "/")+1:]
	var members []string
	pages := iam.NewGetGroupPaginator(p.o.IAM, &iam.GetGroupInput{GroupName: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			p.skip(backend, e, "mapGroups: IAM GetGroup %s: %v", name, err)
			return
		}
		for _, u := range page.Users {
			members = append(members, aws.ToString(u.Arn))
		}
	}
	if len(members) == 0 {
		p.skip(backend, e, "mapGroups: IAM group %s has no members to export", name)
		return
	}
	// The group entry stays listed: it is not exported as such.
	p.skip(backend, e, "mapGroups has no access-entry equivalent: its %d current members are exported as user entries (members added later get nothing)", len(members))
	for _, m := range members {
		ma, err := arn.Parse(m)
		if err != nil || ma.AccountID != account {
			p.skip(backend, e, "member %s of group %s is not a user of account %s", m, name, account)
			continue
		}
		u := e
		u.Kind, u.ARN = mapping.KindUser, m
		p.export(ctx, backend, u, principal{arn: m, note: "member of IAM group " + name + " (--expand-groups)"})
	}
}
