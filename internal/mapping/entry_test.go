package mapping_test

import (
	"errors"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

func TestOriginAndProblemText(t *testing.T) {
	for _, tc := range []struct {
		p    mapping.Problem
		want string
	}{
		{mapping.Problem{Origin: mapping.Origin{File: "cfg.yaml", Object: "cfg.yaml", Section: "mapRoles", Index: 2, Line: 14}, Names: "arn:aws:iam::1:role/a", Err: errors.New("bad")},
			"cfg.yaml:14: mapRoles[2] (arn:aws:iam::1:role/a): bad"},
		{mapping.Problem{Origin: mapping.Origin{Object: "kube-system/aws-auth", Section: "mapUsers", Index: 0, Line: 3}, Err: errors.New("bad")},
			"kube-system/aws-auth mapUsers[0] (line 3): bad"},
		{mapping.Problem{Origin: mapping.Origin{Section: "mapAccounts", Index: -1}, Err: errors.New("must be a list")},
			"mapAccounts: must be a list"},
		{mapping.Problem{Origin: mapping.Origin{Object: "admins", Section: "spec", Index: 0}}, "admins spec[0]: unknown problem"},
	} {
		if got := tc.p.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestEntryNames(t *testing.T) {
	for _, tc := range []struct {
		e    mapping.Entry
		want string
	}{
		{mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::1:role/a"}, "arn:aws:iam::1:role/a"},
		{mapping.Entry{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: "111122223333"}}, "sso Dev in 111122223333"},
		{mapping.Entry{Kind: mapping.KindAccount, Account: "111122223333"}, "111122223333"},
	} {
		if got := tc.e.Names(); got != tc.want {
			t.Errorf("Names() = %q, want %q", got, tc.want)
		}
	}
	if mapping.KindGroup.String() != "group" || mapping.Kind(0).String() != "unknown" {
		t.Error("Kind.String")
	}
	if !mapping.HasFatal([]mapping.Problem{{}, {Fatal: true}}) || mapping.HasFatal([]mapping.Problem{{}}) {
		t.Error("HasFatal")
	}
}
