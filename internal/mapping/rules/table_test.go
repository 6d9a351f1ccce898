package rules_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// One run covers every case. Like the backends that refuse bad input, the
// factory refuses the entries when Build reports any problem at all (the
// table it returns is usable, but a test of the rules must not pass on a
// table that silently left an entry out).
func TestTableConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, entries []mapping.Entry, o rules.Options) (mapping.Mapper, error) {
		o.Logger = quietLogger(t)
		tb, probs := rules.Build("Table", entries, o)
		if len(probs) != 0 {
			return nil, joined(probs)
		}
		return tb, nil
	}, conformance.Capabilities{})
}

func TestBuildKeepsValidEntries(t *testing.T) {
	tb, probs := rules.Build("T", []mapping.Entry{
		at(role("arn:aws:iam::111122223333:user/u", "bad"), mapping.SectionRoles, 0),
		at(role("arn:aws:sts::111122223333:assumed-role/good/s", "good"), mapping.SectionRoles, 1),
		at(account("1"), mapping.SectionAccounts, 0),
		at(account("111122223333"), mapping.SectionAccounts, 1),
		at(account("111122223333"), mapping.SectionAccounts, 2),
	}, rules.Options{})
	if err := joined(probs); err == nil || !strings.Contains(err.Error(), "mapRoles[0]") || !strings.Contains(err.Error(), "mapAccounts[0]") {
		t.Errorf("err = %v, want mapRoles[0] and mapAccounts[0] reported", err)
	}
	if r, u, a := tb.Counts(); r != 1 || u != 0 || a != 1 {
		t.Errorf("Counts = %d %d %d, want 1 0 1", r, u, a)
	}
	res, err := tb.Map(context.Background(), mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/good/x"})
	if err != nil || res.Username != "good" || res.Source != "T mapRoles[arn:aws:iam::111122223333:role/good]" {
		t.Errorf("Map = %+v, %v", res, err)
	}
}

// An Identity whose fields disagree with its ARN is denied with an error,
// never matched on the wrong field.
func TestMapRejectsInconsistentIdentity(t *testing.T) {
	tb, probs := rules.Build("T", []mapping.Entry{
		role("arn:aws:iam::111122223333:role/admin", "admin:{{SessionName}}"),
		account("111122223333"), account("444455556666"),
	}, rules.Options{})
	if len(probs) != 0 {
		t.Fatal(joined(probs))
	}
	good := mapping.Identity{
		ARN: "arn:aws:sts::111122223333:assumed-role/admin/s", CanonicalARN: "arn:aws:iam::111122223333:role/admin",
		AccountID: "111122223333", UserID: "AROAX:s", SessionName: "s",
	}
	if r, err := tb.Map(context.Background(), good); err != nil || r.Username != "admin:s" {
		t.Fatalf("good identity: %+v, %v", r, err)
	}
	for name, mut := range map[string]func(*mapping.Identity){
		"canonical of other role":   func(id *mapping.Identity) { id.CanonicalARN = "arn:aws:iam::111122223333:role/other" },
		"account differs":           func(id *mapping.Identity) { id.AccountID = "444455556666" },
		"session differs":           func(id *mapping.Identity) { id.SessionName = "evil" },
		"no ARN":                    func(id *mapping.Identity) { id.ARN, id.CanonicalARN = "", "" },
		"unparseable ARN":           func(id *mapping.Identity) { id.ARN = "arn:aws:sts::111122223333:assumed-role/admin" },
		"canonical is another acct": func(id *mapping.Identity) { id.CanonicalARN = "arn:aws:iam::444455556666:role/admin" },
	} {
		id := good
		mut(&id)
		r, err := tb.Map(context.Background(), id)
		if err == nil || r != nil || errors.Is(err, mapping.ErrNotMapped) {
			t.Errorf("%s: Map = %+v, %v; want a non-ErrNotMapped error", name, r, err)
		}
	}
	// CanonicalARN alone is enough (fields derived from it).
	r, err := tb.Map(context.Background(), mapping.Identity{CanonicalARN: "arn:aws:iam::111122223333:role/admin"})
	if err != nil || r.Username != "admin:" {
		t.Errorf("canonical only: %+v, %v", r, err)
	}
}

func TestMapHonoursContext(t *testing.T) {
	tb, _ := rules.Build("T", []mapping.Entry{account("111122223333")}, rules.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tb.Map(ctx, mapping.Identity{ARN: "arn:aws:iam::111122223333:user/u"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestCheck(t *testing.T) {
	good := mapping.Entry{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/r", Username: "u", Groups: []string{"g"}, UserID: "AROAX"}
	if _, err := rules.Check(good, rules.Options{}); err != nil {
		t.Errorf("good role: %v", err)
	}
	for _, bad := range []mapping.Entry{
		role("arn:aws:iam::111122223333:user/r", "u"),
		role("arn:aws:iam::111122223333:role/r", ""),
		role("arn:aws:iam::111122223333:role/r", "u", ""),
		role("arn:aws:iam::111122223333:role/r", "{{X}}"),
		{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/r", Username: "u", UserID: "AROA:x"},
	} {
		if _, err := rules.Check(bad, rules.Options{}); err == nil {
			t.Errorf("Check(%+v) = nil", bad)
		}
	}
	if _, err := rules.Check(mapping.Entry{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:root", Username: "u"}, rules.Options{}); err != nil {
		t.Errorf("root user: %v", err)
	}
	if _, err := rules.Check(mapping.Entry{Kind: mapping.KindUser, ARN: "arn:aws:iam::111122223333:role/r", Username: "u"}, rules.Options{}); err == nil {
		t.Error("role ARN accepted as user")
	}
}

// quietLogger sends the Table's warnings to the test log.
func quietLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// A later entry for an ARN that is skipped at load (here: a reserved group
// it may not grant) must not let an earlier entry for the same ARN come back
// into force. "Last entry wins": the operator's latest word on that ARN was
// the broken entry, so the principal is denied, not given the older, often
// broader mapping (e.g. system:masters after a downgrade edit).
func TestSkippedLaterEntryDoesNotReviveEarlierOne(t *testing.T) {
	const acct = "111122223333"
	tb, probs := rules.Build("T", []mapping.Entry{
		role("arn:aws:iam::"+acct+":role/ops", "ops-admin", "system:masters"),
		role("arn:aws:iam::"+acct+":role/ops", "ops-viewer", "eks:viewers"),
		user("arn:aws:iam::"+acct+":user/alice", "alice-admin", "system:masters"),
		user("arn:aws:iam::"+acct+":user/alice", "system:alice"),
	}, rules.Options{Logger: quietLogger(t)})
	if len(probs) == 0 {
		t.Fatal("want the reserved-name entries reported")
	}
	for _, a := range []string{"arn:aws:sts::" + acct + ":assumed-role/ops/s", "arn:aws:iam::" + acct + ":user/alice"} {
		res, err := tb.Map(context.Background(), mapping.Identity{ARN: a, UserID: "AIDAEXAMPLE:s"})
		if err == nil {
			t.Errorf("%s: Map = %+v, want a deny: the last entry for this ARN is invalid", a, res)
		} else if errors.Is(err, mapping.ErrNotMapped) {
			t.Errorf("%s: err = %v, want a deny (not ErrNotMapped, which would let later backends decide)", a, err)
		}
	}
	if r, u, _ := tb.Counts(); r != 0 || u != 0 {
		t.Errorf("Counts = %d roles %d users, want 0 0 (invalid entries are not in effect)", r, u)
	}
}
