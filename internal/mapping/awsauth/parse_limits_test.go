package awsauth_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Aliases and repeated patterns must not let a small section cost
// gigabytes: each input here used to take from 0.2 to 5 GB.

// allocMB returns the megabytes f allocates.
func allocMB(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return (b.TotalAlloc - a.TotalAlloc) >> 20
}

const maxTestAllocMB = 64

// wantRefusedSection fails unless text is refused whole, with one fatal
// section problem containing msg, cheaply.
func wantRefusedSection(t *testing.T, text, msg string) {
	t.Helper()
	var roles []mapping.Entry
	var probs []mapping.Problem
	if mb := allocMB(func() { roles, probs = parseRoles(text) }); mb > maxTestAllocMB {
		t.Errorf("allocated %d MB for %d bytes of input", mb, len(text))
	}
	if len(roles) != 0 {
		t.Errorf("%d roles returned, want none", len(roles))
	}
	if len(probs) != 1 || !probs[0].Fatal || probs[0].Origin.Index != -1 || !strings.Contains(probs[0].Error(), msg) {
		t.Errorf("problems = %.300v, want one fatal section problem containing %q", probs, msg)
	}
}

func TestParseAliasAmplificationRefused(t *testing.T) {
	var salvage, groups strings.Builder
	// A refused entry naming one role 1000 times, repeated 1000 times: a
	// million placeholders.
	salvage.WriteString("- &b\n  x: &r " + opsARN + "\n")
	salvage.WriteString(strings.Repeat("  rolearn: *r\n", 1000))
	salvage.WriteString(strings.Repeat("- *b\n", 1000))
	// One entry with 2000 groups, repeated 2000 times.
	groups.WriteString("- &e {rolearn: " + opsARN + ", username: u, groups: [" + strings.Repeat("a,", 2000) + "a]}\n")
	groups.WriteString(strings.Repeat("- *e\n", 2000))
	for name, text := range map[string]string{
		"salvaged keys":  salvage.String(),
		"groups":         groups.String(),
		"groups alias":   "- {rolearn: " + opsARN + ", username: u, groups: &g [" + strings.Repeat("a,", 2000) + "a]}\n" + strings.Repeat("- {rolearn: "+opsARN+", username: u, groups: *g}\n", 2000),
		"merge of a big": "- &m {rolearn: " + opsARN + ", username: u, groups: [" + strings.Repeat("a,", 2000) + "a]}\n" + strings.Repeat("- {<<: *m, username: v}\n", 2000),
	} {
		t.Run(name, func(t *testing.T) { wantRefusedSection(t, text, "YAML nodes through aliases") })
	}
}

// A section whose aliases form a cycle is refused whole, as the YAML
// libraries aws-iam-authenticator uses refuse the document.
func TestParseAliasCycleRefused(t *testing.T) {
	for name, text := range map[string]string{
		"merges itself":     opsEntry + "- &me\n  <<: [*ops, *me]\n  groups: [view]\n",
		"groups itself":     "- &me {rolearn: " + opsARN + ", username: u, groups: [*me]}\n",
		"section in itself": "&all\n- a\n- {rolearn: " + opsARN + ", username: u, groups: *all}\n",
	} {
		t.Run(name, func(t *testing.T) { wantRefusedSection(t, text, "refers to a node that contains it") })
	}
}

func TestParseTooManyEntriesRefused(t *testing.T) {
	wantRefusedSection(t, "- &e {rolearn: "+opsARN+", username: u}\n"+strings.Repeat("- *e\n", 1<<16),
		"has 65537 entries, more than the limit 65536")
}

// Entries with one pattern, or overlapping ones, are reported once per
// pattern or pair of patterns, at most 100 times: not once per pair of
// entries (3000 entries made 4.5 million problems). The parser returns
// such entries as written and rules.Build reports the overlaps (it used to
// be the parser), so the bound is checked on both together.
func TestParsePatternOverlapsBounded(t *testing.T) {
	const pat = "arn:aws:iam::" + shadowAcct + ":role/ci-*"
	var distinct strings.Builder
	for i := range 1500 { // 30 patterns ci-*, ci-*x, ci-*xx ...: all overlap
		fmt.Fprintf(&distinct, "- {rolearn: \"%s%s\", username: u}\n", pat, strings.Repeat("x", i%30))
	}
	for name, tc := range map[string]struct {
		text  string
		probs int
	}{
		"aliased":  {"- &p {rolearn: \"" + pat + "\", username: u}\n" + strings.Repeat("- *p\n", 3000), 1},
		"written":  {strings.Repeat("- {rolearn: \""+pat+"\", username: u}\n", 3000), 1},
		"distinct": {distinct.String(), 101},
	} {
		t.Run(name, func(t *testing.T) {
			var parsed int
			var probs, bp []mapping.Problem
			var tb *rules.Table
			if mb := allocMB(func() {
				var roles []mapping.Entry
				roles, probs = parseRoles(tc.text)
				parsed = len(roles)
				tb, bp = build(t, rules.Options{}, roles)
			}); mb > maxTestAllocMB {
				t.Errorf("allocated %d MB", mb)
			}
			if len(probs) != 0 {
				t.Errorf("parse problems %.300v; want none (overlaps are Build's to report)", probs)
			}
			if r, _, _ := tb.Counts(); r != 0 || len(bp) != tc.probs || !mapping.HasFatal(bp) {
				t.Errorf("%d of %d roles in effect, %d problems (%.300v); want none, %d fatal", r, parsed, len(bp), bp, tc.probs)
			}
		})
	}
	t.Run("three alike", func(t *testing.T) {
		roles, _ := parseRoles(strings.Repeat("- {rolearn: \""+pat+"\", username: u}\n", 3))
		_, probs := build(t, rules.Options{}, roles)
		if len(probs) != 1 || probs[0].Origin.Index != 2 || !strings.Contains(probs[0].Error(), "mapRoles[0]") ||
			!strings.Contains(probs[0].Error(), "(3 entries give this pattern)") {
			t.Errorf("problems = %v", probs)
		}
	})
	t.Run("table", func(t *testing.T) {
		roles := make([]mapping.Entry, 3000)
		for i := range roles {
			roles[i] = mapping.Entry{Kind: mapping.KindRole, ARN: pat + strings.Repeat("x", i%30), Username: "u"}
		}
		var probs []mapping.Problem
		if mb := allocMB(func() {
			_, probs = build(t, rules.Options{}, roles)
		}); mb > maxTestAllocMB {
			t.Errorf("allocated %d MB", mb)
		}
		if n := len(probs); n != 101 || !strings.Contains(joined(probs).Error(), "more overlapping patterns") {
			t.Errorf("%d problems, want 100 and a count of the rest", n)
		}
	})
}

// A large ordinary aws-auth, anchors and merge keys included, loads.
func TestParseLargeRealisticSection(t *testing.T) {
	var b strings.Builder
	b.WriteString("- &base\n  rolearn: " + opsARN + "\n  username: ops\n  groups: &admins [system:masters, ops, audit]\n")
	for i := range 5000 {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "- <<: *base\n  rolearn: arn:aws:iam::%s:role/team-%d\n", shadowAcct, i)
		case 1:
			fmt.Fprintf(&b, "- rolearn: arn:aws:iam::%s:role/app-%d-*\n  username: app-{{SessionName}}\n  groups: *admins\n", shadowAcct, i)
		case 2:
			fmt.Fprintf(&b, "- sso: {permissionSetName: PS%d, accountID: \"%s\"}\n  username: sso-%d\n  groups: [view]\n", i, shadowAcct, i)
		default:
			fmt.Fprintf(&b, "- {rolearn: \"arn:aws:iam::%s:role/svc-%d\", username: svc-%d, groups: *admins}\n", shadowAcct, i, i)
		}
	}
	var roles []mapping.Entry
	var probs, bp []mapping.Problem
	var tb *rules.Table
	mb := allocMB(func() {
		roles, probs = parseRoles(b.String())
		tb, bp = build(t, rules.Options{SSORoleMatch: true}, roles)
	})
	if mb > 4*maxTestAllocMB {
		t.Errorf("allocated %d MB for %d KB", mb, b.Len()>>10)
	}
	if len(probs) != 0 || len(bp) != 0 || len(roles) != 5001 {
		t.Fatalf("%d roles, problems %.300v, table problems %.300v; want 5001, none", len(roles), probs, bp)
	}
	if r, _, _ := tb.Counts(); r != 5001 {
		t.Errorf("roles in effect = %d, want 5001", r)
	}
	wantGrant(t, tb, roleSession("team-4995"), "ops", "system:masters", "ops", "audit")
	wantUser(t, tb, roleSession("app-4996-x"), "app-s")
	wantUser(t, tb, roleSession("svc-4998"), "svc-4998")
	wantUser(t, tb, roleSession("AWSReservedSSO_PS4997_0123456789abcdef"), "sso-4997")
}
