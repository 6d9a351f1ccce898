package mapping_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

type failingGroups struct{}

func (failingGroups) GroupsForUser(context.Context, string) ([]string, error) {
	return nil, errors.New("iam: throttled (test)")
}

func table(t *testing.T, name string, o rules.Options, es ...mapping.Entry) *rules.Table {
	t.Helper()
	o.Logger = slog.New(slog.DiscardHandler)
	tb, probs := rules.Build(name, es, o)
	if len(probs) > 0 {
		t.Fatalf("build %s: %v", name, probs)
	}
	return tb
}

func user(name string) mapping.Identity {
	a := "arn:aws:iam::111122223333:user/" + name
	return mapping.Identity{ARN: a, CanonicalARN: a, AccountID: "111122223333", UserID: "AIDAEXAMPLE"}
}

// A failed IAM group lookup in one backend must stop the chain: a later
// backend's pattern or mapAccounts entry would otherwise decide for a user
// whom a group entry may map quite differently.
func TestChainGroupLookupFailureDeniesLaterBackends(t *testing.T) {
	first := table(t, "MountedFile", rules.Options{Groups: failingGroups{}},
		mapping.Entry{Kind: mapping.KindGroup, ARN: "arn:aws:iam::111122223333:group/viewers", Username: "viewer"})
	later := table(t, "EKSConfigMap", rules.Options{},
		mapping.Entry{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:user/*", Username: "pattern", Groups: []string{"system:masters"}},
		mapping.Entry{Kind: mapping.KindAccount, Account: "111122223333"})
	chain := mapping.Chain{first, later}
	r, err := chain.Map(context.Background(), user("erin"))
	if !errors.Is(err, mapping.ErrGroupLookup) || r != nil {
		t.Fatalf("Map = %+v, %v; want a denial wrapping ErrGroupLookup", r, err)
	}
	tr := chain.Explain(context.Background(), user("erin"))
	if tr.Err == nil || tr.Err.Error() != err.Error() || tr.Result != nil {
		t.Errorf("Explain = %+v, %v; want Map's error %v", tr.Result, tr.Err, err)
	}
	if len(tr.Backends) != 1 || tr.Backends[0].Backend != "MountedFile" {
		t.Errorf("trace asked %d backends, want only MountedFile: %+v", len(tr.Backends), tr.Backends)
	}
	var seen bool
	for _, s := range tr.Backends[0].Steps {
		if s.Verdict == mapping.VerdictGroupLookupFailed && s.Entry.ARN == "arn:aws:iam::111122223333:group/viewers" {
			seen = true
		}
	}
	if !seen {
		t.Errorf("no group_lookup_failed step in %+v", tr.Backends[0].Steps)
	}
}

// The chain asks backends in order and stops at the first that decides;
// its trace lists exactly those backends, with the same answer.
func TestChainExplainMatchesMap(t *testing.T) {
	a := table(t, "A", rules.Options{},
		mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/admin", Username: "admin",
			Origin: mapping.Origin{Section: mapping.SectionRoles, Object: "a.yaml", File: "a.yaml", Line: 7}})
	b := table(t, "B", rules.Options{},
		mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/dev", Username: "dev"},
		mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/admin", Username: "shadowed-by-A"})
	chain := mapping.Chain{a, b}
	for _, tc := range []struct {
		role, want string
		backends   int
	}{{"admin", "admin", 1}, {"dev", "dev", 2}, {"nobody", "", 2}} {
		id := mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/" + tc.role + "/s",
			AccountID: "111122223333", UserID: "AROAEXAMPLE:s", SessionName: "s"}
		r, err := chain.Map(context.Background(), id)
		tr := chain.Explain(context.Background(), id)
		if len(tr.Backends) != tc.backends {
			t.Errorf("%s: trace has %d backends, want %d", tc.role, len(tr.Backends), tc.backends)
		}
		if tc.want == "" {
			if !errors.Is(err, mapping.ErrNotMapped) || !errors.Is(tr.Err, mapping.ErrNotMapped) {
				t.Errorf("%s: Map %v, Explain %v; want ErrNotMapped for both", tc.role, err, tr.Err)
			}
			continue
		}
		if err != nil || r.Username != tc.want || tr.Result == nil || tr.Result.Username != r.Username || tr.Result.Source != r.Source {
			t.Errorf("%s: Map %+v, %v; Explain %+v, %v", tc.role, r, err, tr.Result, tr.Err)
		}
	}
	tr := chain.Explain(context.Background(), mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/admin/s",
		AccountID: "111122223333", UserID: "AROAEXAMPLE:s", SessionName: "s"})
	w := tr.Backends[0].Winner
	if w == nil || w.Origin.File != "a.yaml" || w.Origin.Line != 7 || !strings.HasPrefix(w.Origin.String(), "a.yaml:7: mapRoles") {
		t.Errorf("winner = %+v, want the entry at a.yaml:7", w)
	}
}

// A backend that answers no username denies; the chain copies results.
func TestChainResultIsACopy(t *testing.T) {
	a := table(t, "A", rules.Options{},
		mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/admin", Username: "admin", Groups: []string{"g"}})
	id := mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/admin/s", AccountID: "111122223333", UserID: "AROAEXAMPLE:s"}
	r, _ := mapping.Chain{a}.Map(context.Background(), id)
	r.Groups[0] = "tampered"
	r2, _ := mapping.Chain{a}.Map(context.Background(), id)
	if r2.Groups[0] != "g" {
		t.Errorf("second Map groups = %v, want [g]", r2.Groups)
	}
}
