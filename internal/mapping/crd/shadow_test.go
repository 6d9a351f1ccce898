package crd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// The newest IAMIdentityMapping for a principal is the admin's latest word
// on it. When that object is invalid, the principal is denied: an older
// object for it (typically the broader grant the new one replaces) must not
// come back into force, nor may a pattern or a later backend decide.

var quiet = rules.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

// wantDenied fails unless s denies id with a mapping error: not a result,
// and not ErrNotMapped (which would let a later backend decide).
func wantDenied(t *testing.T, s *snapshot, id mapping.Identity) {
	t.Helper()
	r, err := s.table.Map(context.Background(), id)
	switch {
	case err == nil:
		t.Errorf("%s maps to %+v, want a deny: the newest object for it is invalid", id.ARN, r)
	case errors.Is(err, mapping.ErrNotMapped):
		t.Errorf("%s: %v, want a deny, not ErrNotMapped", id.ARN, err)
	}
}

func wantReason(t *testing.T, s *snapshot, name, reason string, msgParts ...string) {
	t.Helper()
	v, ok := s.verdicts[name]
	if !ok || v.reason != reason {
		t.Errorf("%s: verdict %+v, want reason %s", name, v, reason)
		return
	}
	for _, p := range msgParts {
		if !strings.Contains(v.message, p) {
			t.Errorf("%s: message %q does not contain %q", name, v.message, p)
		}
	}
}

func aged(o *unstructured.Unstructured, sec int64) *unstructured.Unstructured {
	at(o, sec)
	return o
}

func TestBuildInvalidNewerObjectShadowsOlder(t *testing.T) {
	for name, newer := range map[string]*unstructured.Unstructured{
		"reserved username": object("newer", roleARN("admin"), "aws:admin", nil, ""),
		"bad template":      object("newer", roleARN("admin"), "admin-{{SesionName}}", nil, ""),
		"empty username":    object("newer", roleARN("admin"), "", nil, ""),
		"empty group":       object("newer", roleARN("admin"), "admin", []string{"viewers", ""}, ""),
		"bad userID":        object("newer", roleARN("admin"), "admin", nil, "AROA:x"),
		"path and case":     object("newer", "arn:aws:iam::"+acct+":role/team/ADMIN", "", nil, ""),
		"assumed-role ARN":  object("newer", "arn:aws:sts::"+acct+":assumed-role/admin/s", "aws:x", nil, ""),
	} {
		t.Run(name, func(t *testing.T) {
			older := aged(object("older", roleARN("admin"), "admin", []string{"system:masters"}, ""), 100)
			s := build("CRD", []*unstructured.Unstructured{aged(newer, 200), older}, quiet)
			wantDenied(t, s, session("admin", "s"))
			wantReason(t, s, "older", ReasonDuplicateARN, `"newer"`, "invalid", "denied")
			wantReason(t, s, "newer", ReasonInvalidSpec, "denied here")
			if v := s.verdicts["older"]; v.valid || v.canonicalARN != strings.ToLower(roleARN("admin")) {
				t.Errorf("older: %+v, want not valid, canonicalARN kept", v)
			}
			if v := s.verdicts["newer"]; v.canonicalARN != "" || v.userID != "" {
				t.Errorf("newer: %+v, want no canonicalARN or userID on an invalid object", v)
			}
			if s.invalid != 1 {
				t.Errorf("invalid = %d, want 1", s.invalid)
			}
			if r, _, _ := s.table.Counts(); r != 0 {
				t.Errorf("roles in effect = %d, want 0", r)
			}
		})
	}
}

// With no older object at all, an invalid object for a role still stops a
// pattern from mapping that role; other roles the pattern covers still map.
func TestBuildInvalidObjectShadowsPattern(t *testing.T) {
	pat := aged(object("ci-pattern", roleARN("ci-*"), "ci", []string{"ci"}, ""), 300)
	broken := aged(object("ci-deploy", roleARN("ci-deploy"), "deploy-{{SesionName}}", nil, ""), 100)
	s := build("CRD", []*unstructured.Unstructured{pat, broken}, quiet)
	wantDenied(t, s, session("ci-deploy", "s"))
	if r, err := s.table.Map(context.Background(), session("ci-build", "s")); err != nil || r.Username != "ci" {
		t.Errorf("ci-build: %+v, %v; want the pattern", r, err)
	}
	wantReason(t, s, "ci-pattern", ReasonValid)
	wantReason(t, s, "ci-deploy", ReasonInvalidSpec, "denied here")
}

// An invalid object with a pattern shadows an older object with the same
// pattern (ignoring case), as the parsers do for a skipped pattern entry.
func TestBuildInvalidPatternObjectShadowsOlderPattern(t *testing.T) {
	older := aged(object("ci-old", roleARN("ci-*"), "ci", []string{"system:masters"}, ""), 100)
	newer := aged(object("ci-new", roleARN("CI-*"), "aws:ci", nil, ""), 200)
	s := build("CRD", []*unstructured.Unstructured{older, newer}, quiet)
	if r, err := s.table.Map(context.Background(), session("ci-build", "s")); err == nil {
		t.Errorf("ci-build maps to %+v; the newest object for ci-* is invalid", r)
	}
	wantReason(t, s, "ci-old", ReasonDuplicateARN, `"ci-new"`)
	wantReason(t, s, "ci-new", ReasonInvalidSpec)
}

func TestBuildInvalidUserAndGroupShadowOlder(t *testing.T) {
	userARN := "arn:aws:iam::" + acct + ":user/alice"
	alice := mapping.Identity{ARN: userARN, AccountID: acct, UserID: "AIDAEXAMPLE1111"}
	s := build("CRD", []*unstructured.Unstructured{
		aged(object("alice-old", userARN, "alice", []string{"system:masters"}, ""), 100),
		aged(object("alice-new", "arn:aws:iam::"+acct+":user/Alice", "alice", nil, "AIDA-x"), 200),
	}, quiet)
	// User ARNs match ignoring case: user/Alice names alice.
	wantDenied(t, s, alice)
	wantReason(t, s, "alice-old", ReasonDuplicateARN, `"alice-new"`)

	group := "arn:aws:iam::" + acct + ":group/admins"
	opts := quiet
	opts.Groups = fixedGroups{group}
	bob := mapping.Identity{ARN: "arn:aws:iam::" + acct + ":user/bob", AccountID: acct, UserID: "AIDAEXAMPLE2222"}
	older := aged(object("admins-old", group, "admin", []string{"system:masters"}, ""), 100)
	s = build("CRD", []*unstructured.Unstructured{older}, opts)
	if r, err := s.table.Map(context.Background(), bob); err != nil || r.Username != "admin" {
		t.Fatalf("bob before: %+v, %v; want the group object", r, err)
	}
	// The same group written with a path is the same principal.
	newer := aged(object("admins-new", "arn:aws:iam::"+acct+":group/team/admins", "", nil, ""), 200)
	s = build("CRD", []*unstructured.Unstructured{older, newer}, opts)
	wantDenied(t, s, bob)
	wantReason(t, s, "admins-old", ReasonDuplicateARN, `"admins-new"`)
	wantReason(t, s, "admins-new", ReasonInvalidSpec, "denied here")
}

type fixedGroups []string

func (g fixedGroups) GroupsForUser(context.Context, string) ([]string, error) { return g, nil }

// An invalid object whose spec.arn names no one (does not parse, is an
// unsafe pattern, is another kind of ARN) shadows nothing; nor does an
// invalid object being deleted, or one a newer valid object supersedes.
func TestBuildInvalidObjectShadowsOnlyWhatItNames(t *testing.T) {
	older := aged(object("older", roleARN("admin"), "admin", nil, ""), 100)
	deleting := aged(object("deleting", roleARN("admin"), "aws:x", nil, ""), 300)
	now := metav1.Now()
	deleting.SetDeletionTimestamp(&now)
	objs := []*unstructured.Unstructured{older, deleting}
	var unnamed []string
	for i, a := range []string{
		"arn:aws:iam::1234:role/admin",                     // bad account
		"arn:aws:iam::" + acct + ":role/admin!",            // bad name
		"arn:aws:iam::*:role/admin",                        // unsafe pattern
		"arn:aws:sts::" + acct + ":federated-user/admin",   // not mappable
		"arn:aws:iam::" + acct + ":group/a*",               // not a group ARN
		"arn:aws:iam::" + acct + ":instance-profile/admin", // other type
	} {
		unnamed = append(unnamed, string(rune('a'+i))+"-unnamed")
		objs = append(objs, aged(object(unnamed[i], a, "", nil, ""), 200))
	}
	s := build("CRD", objs, quiet)
	if r, err := s.table.Map(context.Background(), session("admin", "s")); err != nil || r.Username != "admin" {
		t.Errorf("admin: %+v, %v; want the older valid object", r, err)
	}
	wantReason(t, s, "older", ReasonValid)
	for _, name := range unnamed {
		wantReason(t, s, name, ReasonInvalidSpec)
		if strings.Contains(s.verdicts[name].message, "denied here") {
			t.Errorf("%s claims to deny: %q", name, s.verdicts[name].message)
		}
	}

	// Oldest valid, invalid, newest valid: the newest applies.
	s = build("CRD", []*unstructured.Unstructured{
		older,
		aged(object("middle", roleARN("admin"), "aws:x", nil, ""), 200),
		aged(object("newest", roleARN("admin"), "new", nil, ""), 300),
	}, quiet)
	if r, err := s.table.Map(context.Background(), session("admin", "s")); err != nil || r.Username != "new" {
		t.Errorf("admin: %+v, %v; want the newest object", r, err)
	}
	wantReason(t, s, "older", ReasonDuplicateARN, `"newest"`)
	wantReason(t, s, "middle", ReasonInvalidSpec)
	wantReason(t, s, "newest", ReasonValid)
	if m := s.verdicts["middle"].message; strings.Contains(m, "denied") {
		t.Errorf("superseded invalid object claims to deny: %q", m)
	}
}

// status.userID mirrors spec.userID of an object in use, nothing else.
func TestBuildVerdictUserID(t *testing.T) {
	s := build("CRD", []*unstructured.Unstructured{
		aged(object("pinned-old", roleARN("admin"), "admin", nil, "AROAOLD"), 100),
		aged(object("pinned", roleARN("admin"), "admin", nil, "AROAEXAMPLE1111"), 200),
		aged(object("unpinned", roleARN("dev"), "dev", nil, ""), 100),
		aged(object("bad", roleARN("ops"), "aws:x", nil, "AROAOPS"), 100),
	}, quiet)
	for name, want := range map[string]string{"pinned": "AROAEXAMPLE1111", "pinned-old": "", "unpinned": "", "bad": ""} {
		if got := s.verdicts[name].userID; got != want {
			t.Errorf("%s: verdict userID %q, want %q", name, got, want)
		}
	}

	o := object("pinned", roleARN("admin"), "admin", nil, "AROAEXAMPLE1111")
	v := s.verdicts["pinned"]
	o.SetGeneration(v.generation)
	o.Object["status"] = map[string]any{"canonicalARN": v.canonicalARN, "conditions": []any{map[string]any{
		"type": ConditionValid, "status": "True", "reason": v.reason, "message": v.message,
		"observedGeneration": v.generation, "lastTransitionTime": "2024-01-01T00:00:00Z"}}}
	if statusMatches(o, v) {
		t.Error("status without userID matches a verdict with one")
	}
	o.Object["status"].(map[string]any)["userID"] = "AROAOTHER"
	if statusMatches(o, v) {
		t.Error("status with another userID matches")
	}
	o.Object["status"].(map[string]any)["userID"] = v.userID
	if !statusMatches(o, v) {
		t.Error("status with the verdict's userID does not match")
	}
	v.userID = ""
	if !statusMatches(o, v) {
		t.Error("a userID left by another writer makes the status rewrite forever")
	}
}
