package rules

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

const acct = "111122223333"

func sessionID(role, sess string) mapping.Identity {
	return mapping.Identity{ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + sess, UserID: "AROAEXAMPLE:" + sess, AccessKeyID: "ASIAEXAMPLE"}
}

func bufLogger() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func roleEntry(a, username string, groups ...string) mapping.Entry {
	return mapping.Entry{Kind: mapping.KindRole, ARN: a, Username: username, Groups: groups}
}

// joined is what a caller that refuses bad input reports: every problem.
func joined(ps []mapping.Problem) error {
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// Overlapping equal-rank patterns never load, so the review-time deny is a
// second line of defence: inject a pair past the load check.
func TestEqualRankPatternsDenyAtReview(t *testing.T) {
	log, buf := bufLogger()
	ea := roleEntry("arn:aws:iam::"+acct+":role/ci-*-a", "a")
	eb := roleEntry("arn:aws:iam::"+acct+":role/ci-*", "broad")
	tb, probs := Build("T", []mapping.Entry{ea, eb}, Options{Logger: log})
	if err := joined(probs); err == nil || !strings.Contains(err.Error(), "same literal prefix") {
		t.Fatalf("err = %v, want the overlap reported", err)
	}
	if r, _, _ := tb.Counts(); r != 0 {
		t.Fatalf("overlapping patterns kept: %d", r)
	}
	if _, err := tb.Map(context.Background(), sessionID("ci-x-a", "s")); !errors.Is(err, mapping.ErrNotMapped) {
		t.Fatalf("dropped patterns still match: %v", err)
	}
	a, _ := patternTarget("rolearn", ea.ARN, "role")
	b, _ := patternTarget("rolearn", eb.ARN, "role")
	tb.rolePatterns = []*compiledPattern{
		{pattern: a.pat, entry: tb.compile(&ea, 0, a)},
		{pattern: b.pat, entry: tb.compile(&eb, 1, b)},
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
	tb, probs := Build("T", []mapping.Entry{
		roleEntry("arn:aws:iam::"+acct+":role/r", "u", "g"),
		{Kind: mapping.KindAccount, Account: acct},
	}, Options{})
	if len(probs) != 0 {
		t.Fatal(joined(probs))
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

// Problems name their entry by its Origin, whatever the order of kinds.
func TestBuildProblems(t *testing.T) {
	at := func(e mapping.Entry, section string, i int) mapping.Entry {
		e.Origin = mapping.Origin{Section: section, Index: i}
		return e
	}
	tb, probs := Build("T", []mapping.Entry{
		at(roleEntry("arn:aws:iam::"+acct+":role/a", "system:admin"), mapping.SectionRoles, 0),
		at(roleEntry("arn:aws:iam::"+acct+":role/b", "{{SessionName}}:x"), mapping.SectionRoles, 1),
		at(roleEntry("arn:aws:iam::*:role/c", "c"), mapping.SectionRoles, 2),
		at(roleEntry("arn:aws:iam::"+acct+":role/good", "good"), mapping.SectionRoles, 3),
		at(mapping.Entry{Kind: mapping.KindGroup, ARN: "arn:aws:iam::" + acct + ":group/g", Username: "u", Groups: []string{"eks:x"}}, mapping.SectionGroups, 0),
	}, Options{Logger: slog.New(slog.DiscardHandler)})
	want := []struct {
		section string
		index   int
		fatal   bool
	}{{mapping.SectionRoles, 0, false}, {mapping.SectionRoles, 1, true}, {mapping.SectionRoles, 2, true}, {mapping.SectionGroups, 0, false}}
	if len(probs) != len(want) {
		t.Fatalf("problems = %v", probs)
	}
	for i, w := range want {
		if p := probs[i]; p.Origin.Section != w.section || p.Origin.Index != w.index || p.Fatal != w.fatal {
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
	entries := []mapping.Entry{
		{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "dev"},
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::" + acct + ":group/g", Username: "u"},
	}
	tb, probs := Build("T", entries, Options{Logger: log})
	if len(probs) != 0 {
		t.Fatal(joined(probs))
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
	tb, _ = Build("T", entries, Options{SSORoleMatch: true, Groups: nopGroups{}, Logger: log})
	if w := tb.Warnings(); len(w) != 0 {
		t.Errorf("Warnings with gate on and resolver = %q", w)
	}
}

type nopGroups struct{}

func (nopGroups) GroupsForUser(context.Context, string) ([]string, error) { return nil, nil }

func TestCheckNewKinds(t *testing.T) {
	good := []mapping.Entry{
		{Kind: mapping.KindSSO, SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "u"},
		roleEntry("arn:aws:iam::"+acct+":role/ci-*", "u"),
		{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":user/team/*", Username: "u"},
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::" + acct + ":group/g", Username: "u", Groups: []string{"system:masters"}},
		roleEntry("arn:aws:iam::"+acct+":role/n", "system:node:{{EC2PrivateDNSName}}"),
	}
	for _, e := range good {
		if _, err := Check(e, Options{}); err != nil {
			t.Errorf("Check(%+v) = %v", e, err)
		}
	}
	bad := []mapping.Entry{
		{Kind: mapping.KindRole, Username: "u"},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::" + acct + ":role/r", SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "u"},
		// The same mistake written as an sso entry.
		{Kind: mapping.KindSSO, ARN: "arn:aws:iam::" + acct + ":role/r", SSO: &mapping.SSO{PermissionSetName: "Dev", AccountID: acct}, Username: "u"},
		roleEntry("arn:aws:iam::"+acct+":role/r", "eks:u"),
		{Kind: mapping.KindUser, ARN: "arn:aws:iam::*:user/u", Username: "u"},
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::" + acct + ":group/g", Username: "u", Groups: []string{"system:authenticated"}},
		{Kind: mapping.KindGroup, ARN: "arn:aws:iam::" + acct + ":role/g", Username: "u"},
	}
	for _, e := range bad {
		if _, err := Check(e, Options{}); err == nil {
			t.Errorf("Check(%+v) = nil", e)
		}
	}
	m := roleEntry("arn:aws:iam::"+acct+":role/r", "eks:u")
	if _, err := Check(m, Options{AllowReserved: []string{"eks:u"}}); err != nil {
		t.Errorf("Check with allowlist: %v", err)
	}
}

func TestGroupARN(t *testing.T) {
	good := map[string]string{
		"arn:aws:iam::111122223333:group/devs":                        "arn:aws:iam::111122223333:group/devs",
		"arn:aws-us-gov:iam::111122223333:group/a/b/Devs":             "arn:aws-us-gov:iam::111122223333:group/devs",
		"arn:aws:iam::111122223333:group/" + strings.Repeat("g", 128): "arn:aws:iam::111122223333:group/" + strings.Repeat("g", 128),
	}
	for in, wantKey := range good {
		if key, _, err := parseGroupARN(in); err != nil || key != wantKey {
			t.Errorf("parseGroupARN(%q) = %q, %v; want %q", in, key, err, wantKey)
		}
	}
	for _, bad := range []string{
		"", "arn:aws:iam::111122223333:group/", "arn:aws:iam::111122223333:group", "arn:aws:sts::111122223333:group/g",
		"arn:aws:iam:us-east-1:111122223333:group/g", "arn:aws:iam::1111:group/g", "arn:moon:iam::111122223333:group/g",
		"arn:aws:iam::111122223333:group//g", "arn:aws:iam::111122223333:group/g h", "arn:aws:iam::111122223333:user/g",
		"arn:aws:iam::111122223333:group/" + strings.Repeat("g", 129), "arn:aws:iam::111122223333:group/g:x",
	} {
		if _, _, err := parseGroupARN(bad); err == nil {
			t.Errorf("parseGroupARN(%q) accepted", bad)
		}
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
