package cli

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/mapping"
)

func TestOpenBackendsDecidesAsTheServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(`clusterID: prod
server:
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/admin
    username: admin
  - rolearn: arn:aws:iam::111122223333:role/Admin
    username: admin2
`), 0o600); err != nil {
		t.Fatal(err)
	}
	f := adminFlags{configFile: path}
	c, err := f.config(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	o, err := openBackends(context.Background(), c, nil, slog.New(slog.DiscardHandler), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if len(o.Tables) != 1 || o.Tables[0].Name != "MountedFile" {
		t.Fatalf("tables = %+v", o.Tables)
	}
	es := o.Tables[0].Table.Entries()
	if len(es) != 2 || es[0].Active || !es[1].Active || es[1].Entry.Origin.Line != 6 || es[1].Entry.Origin.File != path {
		t.Errorf("entries = %+v", es)
	}
	id := mapping.Identity{ARN: "arn:aws:sts::111122223333:assumed-role/admin/s", AccountID: "111122223333", UserID: "AROAX:s"}
	r, err := o.Chain.Map(context.Background(), id)
	if err != nil || r.Username != "admin2" {
		t.Errorf("Map = %+v, %v", r, err)
	}
}

func TestAdminFlagsBackendChoice(t *testing.T) {
	for _, tc := range []struct {
		f    adminFlags
		want []string
	}{
		{adminFlags{}, []string{"MountedFile"}},
		{adminFlags{kubeconfig: "/k"}, []string{"EKSConfigMap"}},
		{adminFlags{kubeconfig: "/k", backendMode: []string{"CRD"}}, []string{"CRD"}},
	} {
		c, err := tc.f.config(func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Server.BackendMode; len(got) != len(tc.want) || got[0] != tc.want[0] {
			t.Errorf("%+v: backendMode %v, want %v", tc.f, got, tc.want)
		}
	}
}
