package rules_test

import (
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

func TestEntriesListsEveryEntryWithItsState(t *testing.T) {
	at := func(i int) mapping.Origin {
		return mapping.Origin{Section: mapping.SectionRoles, Index: i, Line: i + 1}
	}
	es := []mapping.Entry{
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/admin", Username: "first", Origin: at(0)},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/Admin", Username: "second", Origin: at(1)},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/ci-*-a", Username: "a", Origin: at(2)},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/ci-*-b", Username: "b", Origin: at(3)},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/dev", Username: "system:admin", Origin: at(4)},
		{Kind: mapping.KindAccount, Account: "111122223333", Origin: mapping.Origin{Section: mapping.SectionAccounts, Index: 0, Line: 9}},
	}
	tb, _ := rules.Build("T", es, rules.Options{Logger: quietLogger(t)})
	got := tb.Entries()
	if len(got) != len(es) {
		t.Fatalf("Entries() = %d entries, want %d: %+v", len(got), len(es), got)
	}
	want := []struct {
		active  bool
		verdict mapping.Verdict
	}{
		{false, mapping.VerdictShadowed}, {true, ""}, {true, ""}, {true, ""}, {false, mapping.VerdictRefused}, {true, ""},
	}
	for i, w := range want {
		if got[i].Active != w.active || got[i].Verdict != w.verdict || got[i].Entry.Origin.Line != es[i].Origin.Line {
			t.Errorf("entry %d = %+v, want active %v verdict %q", i, got[i], w.active, w.verdict)
		}
	}
	// Two patterns that overlap at equal rank are both left out.
	tb, _ = rules.Build("T", []mapping.Entry{
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/ci-*", Username: "a"},
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/ci-*x", Username: "b"},
	}, rules.Options{Logger: quietLogger(t)})
	for _, l := range tb.Entries() {
		if l.Active || l.Verdict != mapping.VerdictRefused {
			t.Errorf("overlapping pattern listed as %+v, want refused", l)
		}
	}
}
