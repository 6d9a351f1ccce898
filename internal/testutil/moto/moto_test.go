package moto

import (
	"context"
	"net/http"
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
