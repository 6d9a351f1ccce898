package rules_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

const (
	xAcct  = "111122223333"
	xOther = "444455556666"
)

// placed gives e an Origin as the ConfigMap backend would, line i+1.
func placed(e mapping.Entry, section string, i int) mapping.Entry {
	e.Origin = mapping.Origin{Backend: "EKSConfigMap", Object: "kube-system/aws-auth", Section: section, Index: i, Line: i + 1}
	return e
}

// failingGroups is an IAM that cannot answer.
type failingGroups struct{}

func (failingGroups) GroupsForUser(context.Context, string) ([]string, error) {
	return nil, errors.New("iam unreachable")
}

func xSession(account, role, sess string) mapping.Identity {
	return mapping.Identity{ARN: "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + sess, UserID: "AROAEXAMPLE:" + sess}
}

// explainTable is one aws-auth with an entry for each thing a trace must
// tell apart.
func explainTable(t *testing.T) (*rules.Table, []mapping.Entry) {
	t.Helper()
	roles := []mapping.Entry{
		role("arn:aws:iam::"+xAcct+":role/admin", "admin", "system:masters"),                                               // 0
		role("arn:aws:sts::"+xAcct+":assumed-role/deployer/ci", "deployer"),                                                // 1: session ARN written
		role("arn:aws:iam::"+xAcct+":role/teams/ops/operator", "operator"),                                                 // 2: role path
		role("arn:aws:iam::"+xOther+":role/auditor", "auditor"),                                                            // 3: other account
		role("arn:aws:iam::"+xAcct+":role/dup", "dup-first", "system:masters"),                                             // 4
		role("arn:aws:iam::"+xAcct+":role/dup", "dup-second"),                                                              // 5: later duplicate
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::" + xAcct + ":role/pinned", Username: "pinned", UserID: "AROAPINNED"},  // 6
		role("arn:aws:iam::"+xAcct+":role/ci-*", "ci"),                                                                     // 7
		role("arn:aws:iam::"+xAcct+":role/ci-deploy-*", "ci-deploy"),                                                       // 8: more specific
		role("arn:aws:iam::"+xAcct+":role/ops", "ops-admin", "system:masters"),                                             // 9
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::" + xAcct + ":role/ops", Refused: errors.New(`unknown field "grups"`)}, // 10
	}
	for i := range roles {
		roles[i] = placed(roles[i], mapping.SectionRoles, i)
	}
	groups := []mapping.Entry{placed(group("arn:aws:iam::"+xAcct+":group/devs", "dev"), mapping.SectionGroups, 0)}
	all := append(append(roles, groups...), placed(account(xAcct), mapping.SectionAccounts, 0))
	tb, probs := rules.Build("EKSConfigMap", all, rules.Options{Groups: failingGroups{}, Logger: quietLogger(t)})
	if len(probs) != 0 {
		t.Fatal(joined(probs))
	}
	return tb, all
}

// explainAgrees checks that the trace says exactly what Map says.
func explainAgrees(t *testing.T, tb *rules.Table, id mapping.Identity) mapping.Trace {
	t.Helper()
	res, err := tb.Map(context.Background(), id)
	tr := tb.Explain(context.Background(), id)
	if len(tr.Backends) != 1 || tr.Backends[0].Backend != "EKSConfigMap" {
		t.Fatalf("trace backends = %+v, want the one table", tr.Backends)
	}
	bt := tr.Backends[0]
	for what, got := range map[string]mapping.Trace{"trace": tr, "backend": {Result: bt.Result, Err: bt.Err}} {
		if !reflect.DeepEqual(got.Result, res) {
			t.Errorf("%s: %s result = %+v, Map = %+v", id.ARN, what, got.Result, res)
		}
		if (got.Err == nil) != (err == nil) || err != nil && (got.Err.Error() != err.Error() ||
			errors.Is(got.Err, mapping.ErrNotMapped) != errors.Is(err, mapping.ErrNotMapped)) {
			t.Errorf("%s: %s error = %v, Map = %v", id.ARN, what, got.Err, err)
		}
	}
	return tr
}

// verdictOf returns the verdict of the step for the entry at origin o.
func verdictOf(tr mapping.Trace, o mapping.Origin) (mapping.Verdict, string) {
	for _, s := range tr.Backends[0].Steps {
		if s.Entry.Origin == o {
			return s.Verdict, s.Detail
		}
	}
	return "", ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestExplain(t *testing.T) {
	tb, all := explainTable(t)
	origin := func(i int) mapping.Origin { return all[i].Origin }
	const (
		groupEntry   = 11
		accountEntry = 12
	)
	for _, tc := range []struct {
		name   string
		id     mapping.Identity
		user   string // granted username, "" for none
		err    error  // wrapped by the error, when denied
		winner int    // index in all of the deciding entry, -1 for none
		steps  map[int]mapping.Verdict
		detail string // in the winner's step detail
	}{
		{name: "exact role", id: xSession(xAcct, "admin", "s"), user: "admin", winner: 0,
			steps: map[int]mapping.Verdict{0: mapping.VerdictMatched, accountEntry: mapping.VerdictLowerPattern}},
		{name: "assumed-role ARN written", id: xSession(xAcct, "deployer", "other-session"), user: "deployer", winner: 1,
			steps: map[int]mapping.Verdict{1: mapping.VerdictMatched}, detail: "assumed-role ARN; write arn:aws:iam::" + xAcct + ":role/deployer"},
		{name: "role path", id: xSession(xAcct, "operator", "s"), user: "operator", winner: 2,
			steps: map[int]mapping.Verdict{2: mapping.VerdictMatched}, detail: "has the path /teams/ops/"},
		{name: "other account", id: xSession(xOther, "auditor2", "s"), err: mapping.ErrNotMapped, winner: -1},
		{name: "same name in another account", id: xSession(xAcct, "auditor", "s"), user: "arn:aws:iam::" + xAcct + ":role/auditor", winner: accountEntry,
			steps: map[int]mapping.Verdict{3: mapping.VerdictAccountDiffers, accountEntry: mapping.VerdictMatched}},
		{name: "later duplicate", id: xSession(xAcct, "dup", "s"), user: "dup-second", winner: 5,
			steps: map[int]mapping.Verdict{4: mapping.VerdictShadowed, 5: mapping.VerdictMatched}},
		{name: "pin differs", id: xSession(xAcct, "pinned", "s"), user: "arn:aws:iam::" + xAcct + ":role/pinned", winner: accountEntry,
			steps: map[int]mapping.Verdict{6: mapping.VerdictPinDiffers, accountEntry: mapping.VerdictMatched}},
		{name: "lower-ranked pattern", id: xSession(xAcct, "ci-deploy-prod", "s"), user: "ci-deploy", winner: 8,
			steps: map[int]mapping.Verdict{7: mapping.VerdictLowerPattern, 8: mapping.VerdictMatched}},
		{name: "pattern", id: xSession(xAcct, "ci-test", "s"), user: "ci", winner: 7,
			steps: map[int]mapping.Verdict{7: mapping.VerdictMatched, 8: mapping.VerdictNoPatternMatch}},
		{name: "group lookup failed", id: mapping.Identity{ARN: "arn:aws:iam::" + xAcct + ":user/bob", UserID: "AIDABOB"}, err: mapping.ErrGroupLookup, winner: -1,
			steps: map[int]mapping.Verdict{groupEntry: mapping.VerdictGroupLookupFailed}},
		{name: "refused later entry", id: xSession(xAcct, "ops", "s"), err: errors.New("left out at load"), winner: 10,
			steps: map[int]mapping.Verdict{9: mapping.VerdictShadowed, 10: mapping.VerdictRefused}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := explainAgrees(t, tb, tc.id)
			bt := tr.Backends[0]
			switch {
			case tc.user != "" && (tr.Result == nil || tr.Result.Username != tc.user):
				t.Errorf("result = %+v, %v; want %s", tr.Result, tr.Err, tc.user)
			case tc.user == "" && (tr.Result != nil || !errors.Is(tr.Err, tc.err) && !strings.Contains(errText(tr.Err), tc.err.Error())):
				t.Errorf("result = %+v, %v; want a deny with %v", tr.Result, tr.Err, tc.err)
			case tc.user == "" && tc.err != mapping.ErrNotMapped && errors.Is(tr.Err, mapping.ErrNotMapped):
				t.Errorf("err = %v, want a deny that no later backend can overrule", tr.Err)
			}
			switch {
			case tc.winner < 0 && bt.Winner != nil:
				t.Errorf("winner = %s, want none", bt.Winner.Origin)
			case tc.winner >= 0 && bt.Winner == nil:
				t.Errorf("no winner, want %s", origin(tc.winner))
			case tc.winner >= 0 && bt.Winner.Origin != origin(tc.winner):
				t.Errorf("winner = %s, want %s", bt.Winner.Origin, origin(tc.winner))
			}
			for i, want := range tc.steps {
				if got, detail := verdictOf(tr, origin(i)); got != want {
					t.Errorf("%s (%s): verdict %q (%s), want %q", origin(i), all[i].Names(), got, detail, want)
				}
			}
			if tc.winner >= 0 {
				if _, detail := verdictOf(tr, origin(tc.winner)); !strings.Contains(detail, tc.detail) {
					t.Errorf("winner's detail %q, want it to mention %q", detail, tc.detail)
				}
			}
			if t.Failed() {
				for _, s := range bt.Steps {
					t.Logf("step %s %s: %s (%s)", s.Entry.Origin, s.Entry.Names(), s.Verdict, s.Detail)
				}
			}
		})
	}
}
