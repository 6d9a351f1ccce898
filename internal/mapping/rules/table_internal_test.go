package rules

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

const acct = "111122223333"

func sessionID(role, sess string) Identity {
	return Identity{ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + sess, UserID: "AROAEXAMPLE:" + sess, AccessKeyID: "ASIAEXAMPLE"}
}

func bufLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

// Overlapping equal-rank patterns never load, so the review-time deny is a
// second line of defence: inject a pair past the load check.
func TestEqualRankPatternsDenyAtReview(t *testing.T) {
	log, buf := bufLogger()
	tb, err := NewTableWithOptions("T", Spec{Roles: []RoleMapping{
		{RoleARN: "arn:aws:iam::" + acct + ":role/ci-*-a", Username: "a"},
		{RoleARN: "arn:aws:iam::" + acct + ":role/ci-*", Username: "broad"},
	}}, Options{Logger: log})
	if err == nil || !strings.Contains(err.Error(), "same literal prefix") {
		t.Fatalf("err = %v, want the overlap reported", err)
	}
	if r, _, _ := tb.Counts(); r != 0 {
		t.Fatalf("overlapping patterns kept: %d", r)
	}
	if _, err := tb.Map(context.Background(), sessionID("ci-x-a", "s")); !errors.Is(err, ErrNotMapped) {
		t.Fatalf("dropped patterns still match: %v", err)
	}
	a, _ := patternTarget("rolearn", "arn:aws:iam::"+acct+":role/ci-*-a", "role")
	b, _ := patternTarget("rolearn", "arn:aws:iam::"+acct+":role/ci-*", "role")
	tb.rolePatterns = []*compiledPattern{
		{pattern: a.pat, entry: tb.compile(SectionRoles, 0, a.canon, "a", nil, "")},
		{pattern: b.pat, entry: tb.compile(SectionRoles, 1, b.canon, "broad", nil, "")},
	}
	r, err := tb.Map(context.Background(), sessionID("ci-x-a", "s"))
	if !errors.Is(err, ErrAmbiguous) || r != nil {
		t.Fatalf("Map = %+v, %v; want ErrAmbiguous", r, err)
	}
	if !hasAll(err.Error(), "role/ci-*-a", "role/ci-*]") || !hasAll(buf.String(), "ambiguous", "role/ci-*-a", "role/ci-*]") {
		t.Errorf("error %q / log %q do not name both patterns", err, buf.String())
	}
	// Only one matches: fine.
	if r, err := tb.Map(context.Background(), sessionID("ci-x-b", "s")); err != nil || r.Username != "broad" {
		t.Errorf("ci-x-b: %+v, %v", r, err)
	}
}

// The load-time placement check keeps "{{SessionName}}:masters" out; the
// review-time check must deny it on its own too.
func TestReservedRenderedCheckStandsAlone(t *testing.T) {
	tb, err := NewTable("T", []RoleMapping{{RoleARN: "arn:aws:iam::" + acct + ":role/r", Username: "u", Groups: []string{"g"}}}, nil, []string{acct})
	if err != nil {
		t.Fatal(err)
	}
	e := tb.roles["arn:aws:iam::"+acct+":role/r"]
	bad, _ := ParseTemplate("{{SessionName}}:masters")
	for _, target := range []string{"username", "group"} {
		c := *e
		if target == "username" {
			c.username = field{t: bad}
		} else {
			c.groups = []field{{t: bad}}
		}
		tb.roles["arn:aws:iam::"+acct+":role/r"] = &c
		r, err := tb.Map(context.Background(), sessionID("r", "system"))
		if !errors.Is(err, ErrReservedName) || r != nil {
			t.Errorf("%s: Map = %+v, %v; want ErrReservedName", target, r, err)
		}
		if r, err := tb.Map(context.Background(), sessionID("r", "dev")); err != nil || r == nil {
			t.Errorf("%s: session dev: %+v, %v", target, r, err)
		}
	}
}

func TestNewTableWithOptionsProblems(t *testing.T) {
	tb, err := NewTableWithOptions("T", Spec{
		Roles: []RoleMapping{
			{RoleARN: "arn:aws:iam::" + acct + ":role/a", Username: "system:admin"},
			{RoleARN: "arn:aws:iam::" + acct + ":role/b", Username: "{{SessionName}}:x"},
			{RoleARN: "arn:aws:iam::*:role/c", Username: "c"},
			{RoleARN: "arn:aws:iam::" + acct + ":role/good", Username: "good"},
		},
		Groups: []GroupMapping{{GroupARN: "arn:aws:iam::" + acct + ":group/g", Username: "u", Groups: []string{"eks:x"}}},
	}, Options{Logger: slog.New(slog.DiscardHandler)})
	var probs []Problem
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var p Problem
		if errors.As(e, &p) {
			probs = append(probs, p)
		}
	}
	want := []struct {
		section string
		index   int
		fatal   bool
	}{{SectionRoles, 0, false}, {SectionRoles, 1, true}, {SectionRoles, 2, true}, {SectionGroups, 0, false}}
	if len(probs) != len(want) {
		t.Fatalf("problems = %v", probs)
	}
	for i, w := range want {
		if p := probs[i]; p.Section != w.section || p.Index != w.index || p.Fatal != w.fatal {
			t.Errorf("problem %d = %+v (%v), want %+v", i, p, p, w)
		}
	}
	if !errors.Is(probs[0], ErrReservedName) {
		t.Errorf("reserved problem does not wrap ErrReservedName: %v", probs[0])
	}
	if r, u, _ := tb.Counts(); r != 1 || u != 0 || tb.GroupCount() != 0 {
		t.Errorf("Counts = %d %d, groups %d", r, u, tb.GroupCount())
	}
}

func TestWarnings(t *testing.T) {
	log, buf := bufLogger()
	s := Spec{
		Roles:  []RoleMapping{{SSO: &SSOMapping{PermissionSetName: "Dev", AccountID: acct}, Username: "dev"}},
		Groups: []GroupMapping{{GroupARN: "arn:aws:iam::" + acct + ":group/g", Username: "u"}},
	}
	tb, err := NewTableWithOptions("T", s, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if w := tb.Warnings(); len(w) != 2 || !strings.Contains(w[0], "SSORoleMatch") || !strings.Contains(w[1], "resolver") {
		t.Errorf("Warnings = %q", w)
	}
	if !hasAll(buf.String(), "SSORoleMatch", "resolver") {
		t.Errorf("log = %q", buf.String())
	}
	if r, _, _ := tb.Counts(); r != 1 || tb.GroupCount() != 1 {
		t.Errorf("inactive entries not counted as loaded")
	}
	tb, _ = NewTableWithOptions("T", s, Options{SSORoleMatch: true, Groups: nopGroups{}, Logger: log})
	if w := tb.Warnings(); len(w) != 0 {
		t.Errorf("Warnings with gate on and resolver = %q", w)
	}
}

type nopGroups struct{}

func (nopGroups) GroupsForUser(context.Context, string) ([]string, error) { return nil, nil }

func TestValidateNewKinds(t *testing.T) {
	good := []interface{ Validate() error }{
		RoleMapping{SSO: &SSOMapping{PermissionSetName: "Dev", AccountID: acct}, Username: "u"},
		RoleMapping{RoleARN: "arn:aws:iam::" + acct + ":role/ci-*", Username: "u"},
		UserMapping{UserARN: "arn:aws:iam::" + acct + ":user/team/*", Username: "u"},
		GroupMapping{GroupARN: "arn:aws:iam::" + acct + ":group/g", Username: "u", Groups: []string{"system:masters"}},
		RoleMapping{RoleARN: "arn:aws:iam::" + acct + ":role/n", Username: "system:node:{{EC2PrivateDNSName}}"},
	}
	for _, m := range good {
		if err := m.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", m, err)
		}
	}
	bad := []interface{ Validate() error }{
		RoleMapping{Username: "u"},
		RoleMapping{RoleARN: "arn:aws:iam::" + acct + ":role/r", SSO: &SSOMapping{PermissionSetName: "Dev", AccountID: acct}, Username: "u"},
		RoleMapping{RoleARN: "arn:aws:iam::" + acct + ":role/r", Username: "eks:u"},
		UserMapping{UserARN: "arn:aws:iam::*:user/u", Username: "u"},
		GroupMapping{GroupARN: "arn:aws:iam::" + acct + ":group/g", Username: "u", Groups: []string{"system:authenticated"}},
		GroupMapping{GroupARN: "arn:aws:iam::" + acct + ":role/g", Username: "u"},
	}
	for _, m := range bad {
		if m.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", m)
		}
	}
	m := RoleMapping{RoleARN: "arn:aws:iam::" + acct + ":role/r", Username: "eks:u"}
	if err := m.ValidateWith(Options{AllowReserved: []string{"eks:u"}}); err != nil {
		t.Errorf("ValidateWith allowlist: %v", err)
	}
}

func hasAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
