package ec2dns

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func TestClientConfigValidation(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1"}
	for name, cc := range map[string]ClientConfig{
		"not a role":              {RoleARN: "arn:aws:iam::" + acct + ":user/u"},
		"garbage role":            {RoleARN: "role/x"},
		"account role elsewhere":  {AccountRoleARNs: map[string]string{acct: "arn:aws:iam::210987654321:role/ec2"}},
		"bad account key":         {AccountRoleARNs: map[string]string{"123": "arn:aws:iam::" + acct + ":role/ec2"}},
		"assumed-role not a role": {RoleARN: "arn:aws:sts::" + acct + ":assumed-role/r/s"},
	} {
		if _, err := NewClientFunc(cfg, cc); !errors.Is(err, ErrBadClientConfig) {
			t.Errorf("%s: err = %v, want ErrBadClientConfig", name, err)
		}
	}
	if _, err := NewClientFunc(aws.Config{}, ClientConfig{}); !errors.Is(err, ErrBadClientConfig) {
		t.Errorf("no region: err = %v, want ErrBadClientConfig", err)
	}
	if _, err := NewClientFunc(aws.Config{}, ClientConfig{Region: "eu-west-1"}); err != nil {
		t.Errorf("explicit region without a server region: %v", err)
	}
}

// With a role configured, the lookups go through AssumeRole once (the
// credentials are cached) and then DescribeInstances with the role.
func TestRoleIsAssumed(t *testing.T) {
	names, ids := instances(t, 2)
	for name, cc := range map[string]ClientConfig{
		"default role":     {RoleARN: "arn:aws:iam::" + acct + ":role/iamgate-ec2"},
		"per-account role": {AccountRoleARNs: map[string]string{acct: "arn:aws:iam::" + acct + ":role/iamgate-ec2-" + acct}, ExternalID: "ext-1"},
	} {
		t.Run(name, func(t *testing.T) {
			r, c, _ := resolver(t, "", cc, Options{})
			for _, id := range ids {
				got, err := r.PrivateDNSName(context.Background(), acct, id)
				if err != nil || got != names[id] {
					t.Fatalf("%s: %q, %v; want %q", id, got, err, names[id])
				}
			}
			if a, d := c.Count("AssumeRole"), c.Count(describeCall); a != 1 || d != 2 {
				t.Errorf("AssumeRole = %d, DescribeInstances = %d; want 1, 2", a, d)
			}
			for _, f := range c.Forms("AssumeRole") {
				role := cc.RoleARN
				if role == "" {
					role = cc.AccountRoleARNs[acct]
				}
				if f.Get("RoleArn") != role || f.Get("RoleSessionName") != DefaultRoleSessionName || f.Get("ExternalId") != cc.ExternalID {
					t.Errorf("AssumeRole form = %v; want role %s, session %s, external id %q", f, role, DefaultRoleSessionName, cc.ExternalID)
				}
			}
			for _, k := range c.AccessKeys(describeCall) {
				if k == "" || k == moto.AccessKeyID {
					t.Errorf("DescribeInstances signed with %q, want the assumed role's key", k)
				}
			}
		})
	}
}

// A per-account role is used for its account only; an account without an
// entry falls back to RoleARN, or to the server's own credentials.
func TestClientChoice(t *testing.T) {
	cfg := moto.Config("http://127.0.0.1:1", nil)
	other := "210987654321"
	f, err := NewClientFunc(cfg, ClientConfig{AccountRoleARNs: map[string]string{other: "arn:aws:iam::" + other + ":role/r"}})
	if err != nil {
		t.Fatal(err)
	}
	own, _ := f(context.Background(), acct)
	viaRole, _ := f(context.Background(), other)
	if own == nil || viaRole == nil || own == viaRole {
		t.Errorf("own = %p, role = %p; want two distinct clients", own, viaRole)
	}
}
