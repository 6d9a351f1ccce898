package crd

import (
	"context"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/mapping"
)

// creationTimestamp has one-second resolution. When the newest objects for
// one principal share it and map it differently, none of them is newer:
// the principal is denied and each object's status says why.

func TestBuildSameSecondInvalidDoesNotLoseToOlderName(t *testing.T) {
	older := aged(object("b-older", roleARN("admin"), "admin", []string{"system:masters"}, ""), 100)
	newer := aged(object("a-newer-invalid", roleARN("admin"), "aws:admin", nil, ""), 100)
	s := build("CRD", []*unstructured.Unstructured{older, newer}, quiet)
	wantDenied(t, s, session("admin", "s"))
	wantReason(t, s, "b-older", ReasonDuplicateARN, "same second", `"a-newer-invalid"`, "denied", "delete")
	wantReason(t, s, "a-newer-invalid", ReasonInvalidSpec, "aws:admin", "same second", `"b-older"`, "denied")
	if s.invalid != 1 {
		t.Errorf("invalid = %d, want 1", s.invalid)
	}
	if r, _, _ := s.table.Counts(); r != 0 {
		t.Errorf("roles in effect = %d, want 0", r)
	}
}

func TestBuildSameSecondValidObjects(t *testing.T) {
	// Different mappings: denied, both DuplicateARN; an older object for
	// the principal does not apply either.
	objs := []*unstructured.Unstructured{
		aged(object("oldest", roleARN("admin"), "old", []string{"system:masters"}, ""), 50),
		aged(object("x", roleARN("admin"), "admin", []string{"viewers"}, ""), 100),
		aged(object("y", roleARN("Admin"), "admin", []string{"editors"}, ""), 100),
	}
	s := build("CRD", objs, quiet)
	wantDenied(t, s, session("admin", "s"))
	wantReason(t, s, "x", ReasonDuplicateARN, "same second", `"y"`, "denied")
	wantReason(t, s, "y", ReasonDuplicateARN, "same second", `"x"`, "denied")
	wantReason(t, s, "oldest", ReasonDuplicateARN, `"x", "y"`, "same second", "denied")
	if s.invalid != 0 {
		t.Errorf("invalid = %d, want 0", s.invalid)
	}

	// The same result whatever order the informer lists them in.
	rev := slices.Clone(objs)
	slices.Reverse(rev)
	if s2 := build("CRD", rev, quiet); !mapsEqual(s.verdicts, s2.verdicts) {
		t.Errorf("verdicts depend on list order:\n%+v\n%+v", s.verdicts, s2.verdicts)
	}

	// The same mapping (ARN spelling aside): it applies, from the later
	// name; the other is DuplicateARN.
	s = build("CRD", []*unstructured.Unstructured{
		aged(object("x", roleARN("admin"), "admin", []string{"viewers"}, ""), 100),
		aged(object("y", "arn:aws:sts::"+acct+":assumed-role/admin/s", "admin", []string{"viewers"}, ""), 100),
	}, quiet)
	if r, err := s.table.Map(context.Background(), session("admin", "s")); err != nil || r.Username != "admin" {
		t.Errorf("admin: %+v, %v; want the identical mapping", r, err)
	}
	wantReason(t, s, "y", ReasonValid)
	wantReason(t, s, "x", ReasonDuplicateARN, `"y"`, "same second", "same way")

	// Newer than the tie: the tie no longer matters.
	s = build("CRD", append(objs, aged(object("z", roleARN("admin"), "new", nil, ""), 200)), quiet)
	if r, err := s.table.Map(context.Background(), session("admin", "s")); err != nil || r.Username != "new" {
		t.Errorf("admin: %+v, %v; want the newest object", r, err)
	}
	for _, n := range []string{"oldest", "x", "y"} {
		wantReason(t, s, n, ReasonDuplicateARN, `"z"`)
	}
}

func mapsEqual(a, b map[string]verdict) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// One IAM group under two paths is one principal (group names are unique
// in an account): the older object is DuplicateARN, not also in use.
func TestBuildGroupUnderTwoPathsIsOnePrincipal(t *testing.T) {
	opts := quiet
	opts.Groups = fixedGroups{"arn:aws:iam::" + acct + ":group/admins"}
	bob := mapping.Identity{ARN: "arn:aws:iam::" + acct + ":user/bob", AccountID: acct, UserID: "AIDAEXAMPLE2222"}
	for name, arns := range map[string][2]string{
		"path on older": {"arn:aws:iam::" + acct + ":group/team/admins", "arn:aws:iam::" + acct + ":group/admins"},
		"path on newer": {"arn:aws:iam::" + acct + ":group/admins", "arn:aws:iam::" + acct + ":group/ops/Admins"},
		"two paths":     {"arn:aws:iam::" + acct + ":group/a/admins", "arn:aws:iam::" + acct + ":group/b/admins"},
	} {
		t.Run(name, func(t *testing.T) {
			s := build("CRD", []*unstructured.Unstructured{
				aged(object("admins-old", arns[0], "old", []string{"system:masters"}, ""), 100),
				aged(object("admins-new", arns[1], "new", []string{"viewers"}, ""), 200),
			}, opts)
			if r, err := s.table.Map(context.Background(), bob); err != nil || r.Username != "new" {
				t.Errorf("bob: %+v, %v; want the newer object", r, err)
			}
			wantReason(t, s, "admins-old", ReasonDuplicateARN, `"admins-new"`)
			wantReason(t, s, "admins-new", ReasonValid)
			if n := s.table.GroupCount(); n != 1 {
				t.Errorf("group entries = %d, want 1", n)
			}
		})
	}
}
