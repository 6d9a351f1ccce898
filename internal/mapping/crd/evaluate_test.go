package crd

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func at(o interface{ SetCreationTimestamp(metav1.Time) }, sec int64) {
	o.SetCreationTimestamp(metav1.NewTime(time.Unix(sec, 0)))
}

func TestBuildOrderAndVerdicts(t *testing.T) {
	older := object("b-older", roleARN("admin"), "old", nil, "")
	at(older, 100)
	newer := object("a-newer", roleARN("Admin"), "new", nil, "")
	at(newer, 200)
	sameSecondLow := object("m1", roleARN("dev"), "m1", nil, "")
	at(sameSecondLow, 300)
	sameSecondHigh := object("m2", roleARN("dev"), "m2", nil, "")
	at(sameSecondHigh, 300)
	deleting := object("deleting", roleARN("gone"), "gone", nil, "")
	now := metav1.Now()
	deleting.SetDeletionTimestamp(&now)
	assumed := object("assumed", "arn:aws:sts::"+acct+":assumed-role/ops/some-session", "ops", nil, "")
	root := object("root", "arn:aws:iam::"+acct+":root", "root", nil, "")
	pathed := object("pathed", "arn:aws:iam::"+acct+":user/team/Carol", "carol", nil, "")
	bad := object("bad", "arn:aws:sts::"+acct+":federated-user/bob", "x", nil, "")

	s := build("CRD", []*unstructured.Unstructured{newer, sameSecondHigh, older, deleting, sameSecondLow, assumed, root, pathed, bad}, rules.Options{})
	for id, want := range map[mapping.Identity]string{
		session("admin", "s"): "new",
		session("dev", "s"):   "", // m1 and m2: same second, different mappings (tie_test.go)
		session("gone", "s"):  "",
		session("ops", "x"):   "ops",
		{ARN: "arn:aws:iam::" + acct + ":root", AccountID: acct}:            "root",
		{ARN: "arn:aws:iam::" + acct + ":user/team/carol", AccountID: acct}: "carol",
	} {
		r, err := s.table.Map(t.Context(), id)
		got := ""
		if err == nil {
			got = r.Username
		}
		if got != want {
			t.Errorf("%s maps to %q (%v), want %q", id.ARN, got, err, want)
		}
	}
	for name, want := range map[string]string{
		"a-newer": ReasonValid, "b-older": ReasonDuplicateARN, "m1": ReasonDuplicateARN, "m2": ReasonDuplicateARN,
		"assumed": ReasonValid, "root": ReasonValid, "pathed": ReasonValid, "bad": ReasonInvalidSpec,
	} {
		if v := s.verdicts[name]; v.reason != want {
			t.Errorf("%s: verdict %+v, want reason %s", name, v, want)
		}
	}
	if _, ok := s.verdicts["deleting"]; ok {
		t.Error("an object being deleted got a verdict")
	}
	if v := s.verdicts["assumed"]; v.canonicalARN != "arn:aws:iam::"+acct+":role/ops" {
		t.Errorf("assumed-role spec canonicalARN = %q", v.canonicalARN)
	}
	if v := s.verdicts["b-older"]; !strings.Contains(v.message, `"a-newer"`) {
		t.Errorf("duplicate message %q does not name the winner", v.message)
	}
	if v := s.verdicts["bad"]; !strings.Contains(v.message, "federated-user") {
		t.Errorf("federated-user ARN message = %q", v.message)
	}
	if s.invalid != 1 {
		t.Errorf("invalid = %d, want 1", s.invalid)
	}
	r, err := s.table.Map(t.Context(), session("admin", "s"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.owner[strings.ToLower(strings.TrimPrefix(r.Source, "CRD "))]; got != "a-newer" {
		t.Errorf("owner of %q = %q, want a-newer", r.Source, got)
	}
}

func TestStatusMatches(t *testing.T) {
	o := object("x", roleARN("a"), "a", nil, "")
	o.SetGeneration(3)
	v := verdict{generation: 3, canonicalARN: strings.ToLower(roleARN("a")), valid: true, reason: ReasonValid, message: "in use"}
	if statusMatches(o, v) {
		t.Fatal("object without status matches")
	}
	o.Object["status"] = map[string]any{
		"canonicalARN": v.canonicalARN,
		"conditions": []any{map[string]any{"type": "Other", "status": "False"}, map[string]any{
			"type": ConditionValid, "status": "True", "reason": ReasonValid, "message": "in use",
			"observedGeneration": int64(3), "lastTransitionTime": "2024-01-01T00:00:00Z"}},
	}
	if !statusMatches(o, v) {
		t.Fatal("written status does not match")
	}
	v.generation = 4
	if statusMatches(o, v) {
		t.Error("status for an older generation matches")
	}
	v.generation, v.valid, v.reason = 3, false, ReasonInvalidSpec
	if statusMatches(o, v) {
		t.Error("status True matches an invalid verdict")
	}
}

// TestBuildPatternsGroupsAndTableRejects: spec.arn may hold anything a
// mapRoles/mapUsers/mapGroups entry may, judged by the shared rules; two
// patterns that can match one principal at equal rank are both rejected
// and deny what they match (overlap_test.go).
func TestBuildPatternsGroupsAndTableRejects(t *testing.T) {
	pat := object("dev-pattern", roleARN("dev-*"), "dev", nil, "")
	at(pat, 100)
	dup := object("dev-dup", roleARN("dev-*"), "dev2", nil, "")
	at(dup, 150) // same pattern text: a duplicate, not an overlap
	clash := object("dev-clash", roleARN("dev-*-x"), "clash", nil, "")
	at(clash, 200)
	ops := object("ops-pattern", roleARN("ops-*"), "ops", nil, "")
	group := object("admins", "arn:aws:iam::"+acct+":group/admins", "admin", nil, "")
	reserved := object("reserved", roleARN("ops"), "aws:ops", nil, "")
	badPattern := object("bad-pattern", "arn:aws:iam::*:role/x", "x", nil, "")
	objs := []*unstructured.Unstructured{pat, dup, clash, ops, group, reserved, badPattern}

	s := build("CRD", objs, rules.Options{})
	for name, want := range map[string]string{
		"dev-pattern": ReasonDuplicateARN, "dev-dup": ReasonInvalidSpec, "dev-clash": ReasonInvalidSpec,
		"ops-pattern": ReasonValid, "admins": ReasonValid, "reserved": ReasonInvalidSpec, "bad-pattern": ReasonInvalidSpec,
	} {
		if v := s.verdicts[name]; v.reason != want {
			t.Errorf("%s: verdict %+v, want reason %s", name, v, want)
		}
	}
	for _, name := range []string{"dev-dup", "dev-clash"} {
		if v := s.verdicts[name]; !strings.Contains(v.message, "same literal prefix") {
			t.Errorf("%s: overlap message = %q", name, v.message)
		}
	}
	if v := s.verdicts["bad-pattern"]; !strings.Contains(v.message, "account") {
		t.Errorf("bad pattern message = %q", v.message)
	}
	wantDenied(t, s, session("dev-team", "s"))
	r, err := s.table.Map(t.Context(), session("ops-team", "s"))
	if err != nil || r.Username != "ops" {
		t.Fatalf("ops-team: %+v, %v; want the pattern object", r, err)
	}
	if got := s.owner[strings.ToLower(strings.TrimPrefix(r.Source, "CRD "))]; got != "ops-pattern" {
		t.Errorf("pattern match %q attributed to %q", r.Source, got)
	}
	if s.table.GroupCount() != 1 {
		t.Errorf("group entries = %d, want 1", s.table.GroupCount())
	}

	// The same reserved name loads when the options allow it.
	s = build("CRD", []*unstructured.Unstructured{reserved}, rules.Options{AllowReserved: []string{"aws:ops"}})
	if v := s.verdicts["reserved"]; !v.valid {
		t.Errorf("allowlisted reserved name: %+v", v)
	}
}
