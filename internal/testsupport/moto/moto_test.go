package moto

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestMain(m *testing.M) { Main(m) }

func TestStartOwnServer(t *testing.T) {
	s := Start(t)
	if s.URL == URL(t) {
		t.Fatal("Start returned the shared server")
	}
	c := &Counter{}
	out, err := sts.NewFromConfig(Config(s.URL, c)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != AccountID {
		t.Errorf("account %q, want %q", aws.ToString(out.Account), AccountID)
	}
	if n := c.Count("GetCallerIdentity"); n != 1 {
		t.Errorf("counted %d GetCallerIdentity calls, want 1", n)
	}
	if k := c.AccessKeys("GetCallerIdentity"); len(k) != 1 || k[0] != AccessKeyID {
		t.Errorf("signed with %q, want %s", k, AccessKeyID)
	}
	s.Stop()
	s.Stop() // idempotent
	if resp, err := http.Get(s.URL + "/moto-api/"); err == nil {
		resp.Body.Close()
		t.Error("moto still answers after Stop")
	}
}

func TestEnvAndSharedClients(t *testing.T) {
	Env(t)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != AccountID || cfg.Region != Region {
		t.Errorf("account %q region %q", aws.ToString(out.Account), cfg.Region)
	}
	if _, err := IAM(t).ListRoles(context.Background(), nil); err != nil {
		t.Errorf("IAM: %v", err)
	}
	if _, err := STS(t).GetCallerIdentity(context.Background(), nil); err != nil {
		t.Errorf("STS: %v", err)
	}
}

func TestClosedURL(t *testing.T) {
	if resp, err := http.Get(ClosedURL(t)); err == nil {
		resp.Body.Close()
		t.Error("something answers on ClosedURL")
	}
}

// A port someone else already serves on (another package's moto, say) must
// not be mistaken for this server: StartServer moves to another port.
func TestStartServerSkipsPortAnsweredByAnotherProcess(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	taken := other.Listener.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return taken, nil
		}
		return freePort()
	}
	t.Cleanup(func() { pickPort = freePort })
	s, err := StartServer()
	check(t, err)
	defer s.Stop()
	if s.URL == other.URL {
		t.Fatalf("StartServer returned %s, the port another server holds", s.URL)
	}
	if calls != 2 {
		t.Errorf("picked %d ports, want 2", calls)
	}
	out, err := sts.NewFromConfig(Config(s.URL, nil)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != AccountID {
		t.Errorf("account %q, want %q", aws.ToString(out.Account), AccountID)
	}
}
