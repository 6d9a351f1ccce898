package live_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

var errNotSynced = errors.New("not synced (test)")

// A source refused before anything good was read from it must deny, not
// answer "not mapped": a later backend would otherwise decide for whom the
// broken source may map differently, or deny.
func TestRefusedSourceDeniesInsteadOfPassing(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	h, err := live.New("EKSConfigMap", rules.Options{}, quiet, nil, errNotSynced)
	if err != nil {
		t.Fatal(err)
	}
	h.Refuse(true)
	later, _ := rules.Build("DynamicFile", []mapping.Entry{{Kind: mapping.KindRole,
		ARN: "arn:aws:iam::111122223333:role/admin", Username: "admin", Groups: []string{"system:masters"}}},
		rules.Options{Logger: quiet})
	id := mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/admin/s", AccountID: "111122223333", UserID: "AROAX:s"}
	chain := mapping.Chain{h, later}
	if r, err := chain.Map(context.Background(), id); !errors.Is(err, live.ErrRefused) || r != nil {
		t.Fatalf("Map = %+v, %v; want a denial wrapping live.ErrRefused", r, err)
	}
	if tr := chain.Explain(context.Background(), id); !errors.Is(tr.Err, live.ErrRefused) || len(tr.Backends) != 1 {
		t.Errorf("Explain = %+v; want the same denial from the first backend only", tr)
	}
	if !h.HasSynced() {
		t.Error("a refused source was read: HasSynced should say so")
	}
	// A good load, or the source's absence, lifts the denial.
	h.Apply(quiet, h.Build(nil, nil))
	if _, err := h.Map(context.Background(), id); !errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("after a good load Map = %v, want ErrNotMapped", err)
	}
	h.Refuse(true)
	h.Clear()
	if _, err := h.Map(context.Background(), id); !errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("after Clear Map = %v, want ErrNotMapped", err)
	}
	// A refusal after something good keeps the good table.
	h.Apply(quiet, h.Build([]mapping.Entry{{Kind: mapping.KindRole, ARN: "arn:aws:iam::111122223333:role/admin", Username: "kept"}}, nil))
	h.Refuse(false)
	if r, err := h.Map(context.Background(), id); err != nil || r.Username != "kept" {
		t.Errorf("after a refusal with a good table Map = %+v, %v; want kept", r, err)
	}
}
