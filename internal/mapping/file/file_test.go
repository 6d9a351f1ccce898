package file

import (
	"log/slog"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, roles []mapping.RoleMapping, users []mapping.UserMapping, accounts []string) mapping.Mapper {
		b, err := New("MountedFile", roles, users, accounts)
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestConformanceWithSpec(t *testing.T) {
	conformance.RunWithSpec(t, func(t *testing.T, s mapping.Spec, o mapping.Options) (mapping.Mapper, error) {
		o.Logger = slog.New(slog.DiscardHandler)
		b, err := NewWithOptions("MountedFile", s, o)
		if err != nil {
			return nil, err
		}
		return b, nil
	})
}

func TestNewRejectsInvalidEntries(t *testing.T) {
	for name, tc := range map[string]struct {
		roles    []mapping.RoleMapping
		users    []mapping.UserMapping
		accounts []string
	}{
		"user ARN as role":  {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::111122223333:user/a", Username: "a"}}},
		"role ARN as user":  {users: []mapping.UserMapping{{UserARN: "arn:aws:iam::111122223333:role/a", Username: "a"}}},
		"empty username":    {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::111122223333:role/a"}}},
		"unknown template":  {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::111122223333:role/a", Username: "{{Foo}}"}}},
		"bad account":       {accounts: []string{"1234"}},
		"bad userid":        {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::111122223333:role/a", Username: "a", UserID: "AROA:x"}}},
		"unparseable ARN":   {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::111122223333:role/a b", Username: "a"}}},
		"wildcard account":  {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::*:role/a", Username: "a"}}},
		"reserved username": {roles: []mapping.RoleMapping{{RoleARN: "arn:aws:iam::111122223333:role/a", Username: "system:admin"}}},
		"federated as user": {users: []mapping.UserMapping{{UserARN: "arn:aws:sts::111122223333:federated-user/a", Username: "a"}}},
	} {
		if _, err := New("MountedFile", tc.roles, tc.users, tc.accounts); err == nil {
			t.Errorf("%s: New succeeded, want error", name)
		}
	}
	if _, err := New("", nil, nil, nil); err == nil {
		t.Error("New with empty name succeeded")
	}
}
