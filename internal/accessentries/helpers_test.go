package accessentries

import (
	"context"
	"log/slog"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

// source parses aws-auth data as backend's table lists it.
func source(t *testing.T, backend string, data map[string]string) Source {
	t.Helper()
	es, ps, _ := awsauth.ParseData(data, awsauth.Source{Backend: backend, Object: "kube-system/aws-auth"})
	for _, p := range ps {
		if p.Fatal {
			t.Fatalf("%s: %v", backend, p)
		}
	}
	tbl, _ := rules.Build(backend, es, rules.Options{Logger: slog.New(slog.DiscardHandler)})
	return Source{Backend: backend, Entries: tbl.Entries()}
}

func plan(t *testing.T, o Options, sources ...Source) *Plan {
	t.Helper()
	if o.Cluster == "" {
		o.Cluster = "lab"
	}
	return Build(context.Background(), sources, o)
}

// skipped returns the reason the entry naming names was not exported.
func skipped(p *Plan, names string) string {
	for _, s := range p.Skipped {
		if s.Names == names {
			return s.Reason
		}
	}
	return ""
}

func export(p *Plan, principalARN string) *Export {
	for i := range p.Exports {
		if p.Exports[i].Create.PrincipalArn == principalARN {
			return &p.Exports[i]
		}
	}
	return nil
}
