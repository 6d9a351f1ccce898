package conformance_test

// The shared suite through an EKS Anywhere AWSIamConfig document (issue 4
// item 8): every mapRoles/mapUsers entry of a case is written into a
// document, read back with awsiamconfig.Parse and served as the MountedFile
// backend, the way "iamgate server --awsiamconfig FILE" composes them. The
// document has no mapGroups or mapAccounts; like the server, the factory
// takes those from the config file, i.e. hands them to the backend as they
// are.

import (
	"log/slog"
	"strings"
	"testing"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsiamconfig"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/file"
)

func TestAWSIamConfigConformance(t *testing.T) {
	conformance.RunWithSpec(t, func(t *testing.T, s mapping.Spec, o mapping.Options) (mapping.Mapper, error) {
		t.Helper()
		data := awsIamConfigDoc(t, s)
		doc, problems, err := awsiamconfig.Parse(data)
		if err != nil {
			return nil, err
		}
		if mapping.HasFatal(problems) {
			return nil, problemsError(problems)
		}
		o.Logger = slog.New(slog.DiscardHandler)
		return file.NewWithOptions("MountedFile", mapping.Spec{
			Roles: doc.Roles, Users: doc.Users, Groups: s.Groups, Accounts: s.Accounts,
		}, o)
	})
}

// awsIamConfigDoc writes s's roles and users as EKS Anywhere does (roleARN,
// userARN, username, groups), plus userid and sso where a case sets them.
// Empty fields are left out, so an entry missing one is read as missing it.
func awsIamConfigDoc(t *testing.T, s mapping.Spec) []byte {
	t.Helper()
	partition := ""
	checkPartition := func(a string) {
		if p, ok := arnPartition(a); ok {
			if partition != "" && p != partition {
				t.Skipf("an AWSIamConfig document holds one partition (spec.partition); this case mixes %s and %s", partition, p)
			}
			partition = p
		}
	}
	var roles, users []map[string]any
	for _, r := range s.Roles {
		e := entry("roleARN", r.RoleARN, r.Username, r.Groups, r.UserID)
		checkPartition(r.RoleARN)
		if r.SSO != nil {
			sso := map[string]any{}
			for k, v := range map[string]string{"permissionSetName": r.SSO.PermissionSetName, "accountID": r.SSO.AccountID, "partition": r.SSO.Partition} {
				if v != "" {
					sso[k] = v
				}
			}
			e["sso"] = sso
		}
		roles = append(roles, e)
	}
	for _, u := range s.Users {
		checkPartition(u.UserARN)
		users = append(users, entry("userARN", u.UserARN, u.Username, u.Groups, u.UserID))
	}
	spec := map[string]any{"awsRegion": "us-west-2", "backendMode": []string{"EKSConfigMap"}}
	if partition != "" {
		spec["partition"] = partition
	}
	if roles != nil {
		spec["mapRoles"] = roles
	}
	if users != nil {
		spec["mapUsers"] = users
	}
	out, err := yaml.Marshal(map[string]any{
		"apiVersion": awsiamconfig.APIVersion, "kind": awsiamconfig.Kind,
		"metadata": map[string]any{"name": "aws-iam-auth-config", "namespace": "default"},
		"spec":     spec,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func entry(arnKey, arn, username string, groups []string, userID string) map[string]any {
	e := map[string]any{}
	if arn != "" {
		e[arnKey] = arn
	}
	if username != "" {
		e["username"] = username
	}
	if groups != nil {
		e["groups"] = groups
	}
	if userID != "" {
		e["userid"] = userID
	}
	return e
}

// arnPartition returns the partition of a well-formed ARN's second field.
func arnPartition(a string) (string, bool) {
	parts := strings.SplitN(a, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" || strings.Contains(parts[1], "*") {
		return "", false
	}
	return parts[1], true
}

type problemsError []mapping.Problem

func (p problemsError) Error() string {
	var b strings.Builder
	for i, x := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.Error())
	}
	return b.String()
}
