package rules_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// benchTable is 1000 role entries, 100 role patterns and an account entry:
// a large aws-auth.
func benchTable(b *testing.B) *rules.Table {
	var es []mapping.Entry
	for i := range 1000 {
		es = append(es, mapping.Entry{Kind: mapping.KindRole, ARN: fmt.Sprintf("arn:aws:iam::111122223333:role/team-%04d", i),
			Username: "u:{{SessionName}}", Groups: []string{"g"}})
	}
	for i := range 100 {
		es = append(es, mapping.Entry{Kind: mapping.KindRole, ARN: fmt.Sprintf("arn:aws:iam::111122223333:role/ci-%03d-*", i), Username: "ci"})
	}
	es = append(es, mapping.Entry{Kind: mapping.KindAccount, Account: "444455556666"})
	t, probs := rules.Build("B", es, rules.Options{Logger: quietLogger(b)})
	if len(probs) > 0 {
		b.Fatal(probs)
	}
	return t
}

func benchID(role string) mapping.Identity {
	return mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/" + role + "/alice", AccountID: "111122223333",
		UserID: "AROAEXAMPLE:alice", SessionName: "alice"}
}

// BenchmarkTableMap is the mapping step of a review (after STS answered).
func BenchmarkTableMap(b *testing.B) {
	t := benchTable(b)
	for _, c := range []struct{ name, role string }{{"Exact", "team-0500"}, {"Pattern", "ci-050-x"}, {"Miss", "nobody"}} {
		id := benchID(c.role)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = t.Map(context.Background(), id)
			}
		})
	}
}

// BenchmarkTableExplain is what `iamgate explain` pays for the same
// decision: the evaluation plus the near-miss pass over every entry.
func BenchmarkTableExplain(b *testing.B) {
	t := benchTable(b)
	id := benchID("team-0500")
	b.ReportAllocs()
	for b.Loop() {
		_ = t.Explain(context.Background(), id)
	}
}
