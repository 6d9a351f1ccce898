package crd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Two pattern objects that can match one principal at equal rank are both
// rejected, whichever is older, and every principal either matches is
// denied: the outcome depends only on which patterns are in use, so no
// creation order, re-creation or deletion of a superseded object brings a
// rejected pattern into force.

// wantNoGrant is wantDenied for each of ids.
func wantNoGrant(t *testing.T, s *snapshot, ids ...mapping.Identity) {
	t.Helper()
	for _, id := range ids {
		wantDenied(t, s, id)
	}
}

// The review's repro: B ci-* (ci-old), A ci-*x (system:masters) overlapping
// it, then C ci-* (ci-new) replacing B.
func TestBuildOverlapNeverRevivesRejectedPattern(t *testing.T) {
	b := aged(object("b", roleARN("ci-*"), "ci-old", nil, ""), 100)
	a := aged(object("a", roleARN("ci-*x"), "admin", []string{"system:masters"}, ""), 150)
	foo, foox := session("ci-foo", "s"), session("ci-foox", "s")

	s := build("CRD", []*unstructured.Unstructured{b, a}, quiet)
	wantNoGrant(t, s, foo, foox)
	wantReason(t, s, "a", ReasonInvalidSpec, "same literal prefix", `"b"`, "denied here")
	wantReason(t, s, "b", ReasonInvalidSpec, "same literal prefix", `"a"`, "denied here")

	c := aged(object("c", roleARN("ci-*"), "ci-new", nil, ""), 200)
	s = build("CRD", []*unstructured.Unstructured{b, a, c}, quiet)
	wantNoGrant(t, s, foo, foox)
	wantReason(t, s, "a", ReasonInvalidSpec, "same literal prefix", `"c"`)
	wantReason(t, s, "c", ReasonInvalidSpec, "same literal prefix", `"a"`)
	wantReason(t, s, "b", ReasonDuplicateARN, `"c"`, "invalid", "denied")
	if s.invalid != 2 {
		t.Errorf("invalid = %d, want 2 (a and c)", s.invalid)
	}
	if r, _, _ := s.table.Counts(); r != 0 {
		t.Errorf("roles in effect = %d, want 0", r)
	}

	// Other roles, and patterns of another rank, are not affected.
	other := aged(object("prod", roleARN("ci-prod-*"), "prod", nil, ""), 300)
	s = build("CRD", []*unstructured.Unstructured{b, a, c, other}, quiet)
	if r, err := s.table.Map(context.Background(), session("ci-prod-x", "s")); err != nil || r.Username != "prod" {
		t.Errorf("ci-prod-x: %+v, %v; want the longer prefix, which overlaps nothing", r, err)
	}
	wantReason(t, s, "prod", ReasonValid)
}

// Whatever the creation order of the three objects, nothing grants and no
// principal is left to a later backend; only which of b and c is
// superseded changes.
func TestBuildOverlapAnyCreationOrder(t *testing.T) {
	specs := []struct{ name, arn, user string }{
		{"b", roleARN("ci-*"), "ci-old"}, {"a", roleARN("ci-*x"), "admin"}, {"c", roleARN("CI-*"), "ci-new"},
	}
	for _, times := range [][3]int64{{1, 2, 3}, {1, 3, 2}, {2, 1, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}, {1, 1, 1}, {1, 2, 2}} {
		t.Run(fmt.Sprint(times), func(t *testing.T) {
			var objs []*unstructured.Unstructured
			for i, sp := range specs {
				objs = append(objs, aged(object(sp.name, sp.arn, sp.user, []string{"system:masters"}, ""), times[i]))
			}
			s := build("CRD", objs, quiet)
			wantNoGrant(t, s, session("ci-foo", "s"), session("ci-foox", "s"), session("ci-", "s"))
			for name, v := range s.verdicts {
				if v.valid {
					t.Errorf("%s is valid: %+v", name, v)
				}
			}
		})
	}
}

// B ci-*x, then A ci-* (broader, system:masters) overlapping it, then C
// ci-*x replacing B. Deleting B (now superseded), or replacing C with an
// invalid object for ci-*x, must not bring A into force for ci-foo.
func TestBuildOverlapSupersededOrInvalidPartner(t *testing.T) {
	b := aged(object("b", roleARN("ci-*x"), "x-old", nil, ""), 100)
	a := aged(object("a", roleARN("ci-*"), "admin", []string{"system:masters"}, ""), 150)
	c := aged(object("c", roleARN("ci-*x"), "x-new", nil, ""), 200)
	foo, foox := session("ci-foo", "s"), session("ci-foox", "s")
	for name, objs := range map[string][]*unstructured.Unstructured{
		"all":         {b, a, c},
		"b deleted":   {a, c},
		"c invalid":   {b, a, aged(object("c", roleARN("ci-*x"), "aws:x", nil, ""), 200)},
		"only broken": {a, aged(object("d", roleARN("CI-*X"), "", nil, ""), 50)},
	} {
		t.Run(name, func(t *testing.T) {
			s := build("CRD", objs, quiet)
			wantNoGrant(t, s, foo, foox)
			wantReason(t, s, "a", ReasonInvalidSpec, "same literal prefix")
		})
	}

	// Deleting every object for ci-*x ends the conflict: A applies.
	s := build("CRD", []*unstructured.Unstructured{a}, quiet)
	if r, err := s.table.Map(context.Background(), foo); err != nil || r.Username != "admin" {
		t.Errorf("ci-foo: %+v, %v; want a once it overlaps nothing", r, err)
	}
}

// Patterns of equal rank whose suffixes cannot both match one name, and
// user patterns, follow the same rule.
func TestBuildOverlapOnlyWhenOneSuffixEndsTheOther(t *testing.T) {
	userPat := func(p string) string { return "arn:aws:iam::" + acct + ":user/" + p }
	s := build("CRD", []*unstructured.Unstructured{
		aged(object("ci-a", roleARN("ci-*-a"), "a", nil, ""), 100),
		aged(object("ci-b", roleARN("ci-*-b"), "b", nil, ""), 200),
		aged(object("u-team", userPat("team/*"), "team", nil, ""), 100),
		aged(object("u-admin", userPat("team/*-admin"), "admin", []string{"system:masters"}, ""), 200),
	}, quiet)
	for role, want := range map[string]string{"ci-x-a": "a", "ci-x-b": "b"} {
		if r, err := s.table.Map(context.Background(), session(role, "s")); err != nil || r.Username != want {
			t.Errorf("%s: %+v, %v; want %s", role, r, err, want)
		}
	}
	wantReason(t, s, "ci-a", ReasonValid)
	wantReason(t, s, "ci-b", ReasonValid)
	for _, u := range []string{"team/bob", "team/bob-admin"} {
		wantDenied(t, s, mapping.Identity{ARN: userPat(u), AccountID: acct, UserID: "AIDAEXAMPLE1111"})
	}
	wantReason(t, s, "u-team", ReasonInvalidSpec, "same literal prefix")
	wantReason(t, s, "u-admin", ReasonInvalidSpec, "same literal prefix")
}

// settle's defence in depth: an entry the table refuses (here two
// overlapping patterns rejectOverlaps was skipped for) becomes a
// placeholder; it is never dropped, which would let a later backend decide
// for its principals.
func TestSettleKeepsRefusedEntryAsPlaceholder(t *testing.T) {
	var used []entry
	for i, sp := range [][2]string{{"old", "ci-*"}, {"new", "ci-*x"}} {
		e, err := evaluate(aged(object(sp[0], roleARN(sp[1]), sp[0], nil, ""), int64(100+i)), quiet)
		if err != nil {
			t.Fatal(err)
		}
		used = append(used, e)
	}
	s := &snapshot{owner: map[string]string{}, verdicts: map[string]verdict{}}
	used = s.settle("CRD", used, quiet)
	if len(used) != 2 || !used[1].placeholder {
		t.Fatalf("after settle: %+v, want both entries, the refused one a placeholder", used)
	}
	wantReason(t, s, "new", ReasonInvalidSpec, "same literal prefix")
	for _, role := range []string{"ci-foox", "ci-barx"} {
		_, err := s.table.Map(context.Background(), session(role, "s"))
		if err == nil || errors.Is(err, mapping.ErrNotMapped) {
			t.Errorf("%s: %v, want a deny", role, err)
		}
	}
	if r, err := s.table.Map(context.Background(), session("ci-foo", "s")); err != nil || !strings.HasPrefix(r.Username, "old") {
		t.Errorf("ci-foo: %+v, %v; want the pattern the table kept", r, err)
	}
}
