package conformance

import "github.com/iamgate/iamgate/internal/mapping"

// AWSAuthEntry is one mapRoles/mapUsers/mapGroups item in the shape eksctl
// writes (keys sorted, groups first), for factories that write a case's
// entries down in the aws-auth format and read them back. Marshal it with
// sigs.k8s.io/yaml/goyaml.v3 (yaml tags) or encoding/json (json tags).
type AWSAuthEntry struct {
	GroupARN string      `yaml:"grouparn,omitempty" json:"grouparn,omitempty"`
	Groups   []string    `yaml:"groups,omitempty" json:"groups,omitempty"`
	RoleARN  string      `yaml:"rolearn,omitempty" json:"rolearn,omitempty"`
	SSO      *AWSAuthSSO `yaml:"sso,omitempty" json:"sso,omitempty"`
	UserARN  string      `yaml:"userarn,omitempty" json:"userarn,omitempty"`
	UserID   string      `yaml:"userid,omitempty" json:"userid,omitempty"`
	Username string      `yaml:"username" json:"username"`
}

// AWSAuthSSO is an entry's sso block.
type AWSAuthSSO struct {
	PermissionSetName string `yaml:"permissionSetName" json:"permissionSetName"`
	AccountID         string `yaml:"accountID" json:"accountID"`
	Partition         string `yaml:"partition,omitempty" json:"partition,omitempty"`
}

// AWSAuth splits entries into aws-auth's sections, in order. An entry
// with an empty field is written without it, so an entry missing one is
// read as missing it.
func AWSAuth(entries []mapping.Entry) (roles, users, groups []AWSAuthEntry, accounts []string) {
	for _, e := range entries {
		w := AWSAuthEntry{Groups: e.Groups, UserID: e.UserID, Username: e.Username}
		switch e.Kind {
		case mapping.KindRole, mapping.KindSSO:
			w.RoleARN = e.ARN
			if e.SSO != nil {
				w.SSO = &AWSAuthSSO{PermissionSetName: e.SSO.PermissionSetName, AccountID: e.SSO.AccountID, Partition: e.SSO.Partition}
			}
			roles = append(roles, w)
		case mapping.KindUser:
			w.UserARN = e.ARN
			users = append(users, w)
		case mapping.KindGroup:
			w.GroupARN = e.ARN
			groups = append(groups, w)
		case mapping.KindAccount:
			accounts = append(accounts, e.Account)
		}
	}
	return roles, users, groups, accounts
}
