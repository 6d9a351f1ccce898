package rules_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
)

func TestTableConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, roles []mapping.RoleMapping, users []mapping.UserMapping, accounts []string) mapping.Mapper {
		tb, err := mapping.NewTable("Table", roles, users, accounts)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	})
}

func TestTableConformanceWithSpec(t *testing.T) {
	conformance.RunWithSpec(t, func(t *testing.T, s mapping.Spec, o mapping.Options) (mapping.Mapper, error) {
		o.Logger = quietLogger(t)
		tb, err := mapping.NewTableWithOptions("Table", s, o)
		if err != nil {
			return nil, err
		}
		return tb, nil
	})
}

func TestNewTableKeepsValidEntries(t *testing.T) {
	tb, err := mapping.NewTable("T", []mapping.RoleMapping{
		{RoleARN: "arn:aws:iam::111122223333:user/u", Username: "bad"},
		{RoleARN: "arn:aws:sts::111122223333:assumed-role/good/s", Username: "good"},
	}, nil, []string{"1", "111122223333", "111122223333"})
	if err == nil || !strings.Contains(err.Error(), "mapRoles[0]") || !strings.Contains(err.Error(), "mapAccounts[0]") {
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
	tb, err := mapping.NewTable("T", []mapping.RoleMapping{
		{RoleARN: "arn:aws:iam::111122223333:role/admin", Username: "admin:{{SessionName}}"},
	}, nil, []string{"111122223333", "444455556666"})
	if err != nil {
		t.Fatal(err)
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
	tb, _ := mapping.NewTable("T", nil, nil, []string{"111122223333"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tb.Map(ctx, mapping.Identity{ARN: "arn:aws:iam::111122223333:user/u"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	good := mapping.RoleMapping{RoleARN: "arn:aws:iam::111122223333:role/r", Username: "u", Groups: []string{"g"}, UserID: "AROAX"}
	if err := good.Validate(); err != nil {
		t.Errorf("good role: %v", err)
	}
	for _, bad := range []mapping.RoleMapping{
		{RoleARN: "arn:aws:iam::111122223333:user/r", Username: "u"},
		{RoleARN: "arn:aws:iam::111122223333:role/r"},
		{RoleARN: "arn:aws:iam::111122223333:role/r", Username: "u", Groups: []string{""}},
		{RoleARN: "arn:aws:iam::111122223333:role/r", Username: "{{X}}"},
		{RoleARN: "arn:aws:iam::111122223333:role/r", Username: "u", UserID: "AROA:x"},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	if err := (mapping.UserMapping{UserARN: "arn:aws:iam::111122223333:root", Username: "u"}).Validate(); err != nil {
		t.Errorf("root user: %v", err)
	}
	if (mapping.UserMapping{UserARN: "arn:aws:iam::111122223333:role/r", Username: "u"}).Validate() == nil {
		t.Error("role ARN accepted as user")
	}
}

// quietLogger sends the Table's warnings to the test log.
func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

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
	tb, err := mapping.NewTableWithOptions("T", mapping.Spec{
		Roles: []mapping.RoleMapping{
			{RoleARN: "arn:aws:iam::" + acct + ":role/ops", Username: "ops-admin", Groups: []string{"system:masters"}},
			{RoleARN: "arn:aws:iam::" + acct + ":role/ops", Username: "ops-viewer", Groups: []string{"eks:viewers"}},
		},
		Users: []mapping.UserMapping{
			{UserARN: "arn:aws:iam::" + acct + ":user/alice", Username: "alice-admin", Groups: []string{"system:masters"}},
			{UserARN: "arn:aws:iam::" + acct + ":user/alice", Username: "system:alice"},
		},
	}, mapping.Options{Logger: quietLogger(t)})
	if err == nil {
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
