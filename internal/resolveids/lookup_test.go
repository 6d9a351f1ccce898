package resolveids

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestLookupAgainstMoto(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	roleID := f.role(f.name("deployer"), "/teams/dev/")
	userID := f.user(f.name("alice"), "/ops/")
	// moto gives roles AROA ids like IAM, but users a random id, not AIDA.
	if !strings.HasPrefix(roleID, "AROA") || userID == "" {
		t.Fatalf("moto ids %q %q", roleID, userID)
	}

	p, err := f.lookup.Role(ctx, f.name("deployer"))
	if err != nil || p.ID != roleID || p.ARN != "arn:aws:iam::"+acct+":role/teams/dev/"+f.name("deployer") {
		t.Fatalf("Role = %+v, %v", p, err)
	}
	p, err = f.lookup.User(ctx, f.name("alice"))
	if err != nil || p.ID != userID || !strings.HasSuffix(p.ARN, ":user/ops/"+f.name("alice")) {
		t.Fatalf("User = %+v, %v", p, err)
	}
	if _, err := f.lookup.Role(ctx, f.name("nobody")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing role: %v", err)
	}
	// A user is not a role.
	if _, err := f.lookup.Role(ctx, f.name("alice")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("user looked up as role: %v", err)
	}
}

// countingIAM counts calls and fails them with err.
type countingIAM struct {
	calls atomic.Int32
	err   error
}

func (c *countingIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	c.calls.Add(1)
	return nil, c.err
}

func (c *countingIAM) GetUser(ctx context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	c.calls.Add(1)
	return nil, c.err
}

// Answers are remembered (a ConfigMap retry must not ask IAM again), but
// failures are not (a throttled call may succeed next time).
func TestLookupRemembersAnswersNotFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.role(f.name("cached"), "/")
	for range 3 {
		if _, err := f.lookup.Role(ctx, f.name("cached")); err != nil {
			t.Fatal(err)
		}
	}
	f.deleteRole(f.name("cached"))
	if _, err := f.lookup.Role(ctx, strings.ToUpper(f.name("cached"))); err != nil {
		t.Fatalf("second lookup (any case) went to IAM again: %v", err)
	}

	failing := &countingIAM{err: errors.New("Throttling: Rate exceeded")}
	l := NewLookup(failing, "aws", acct)
	for range 2 {
		if _, err := l.Role(ctx, "x"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "iam:GetRole") {
			t.Fatalf("err = %v", err)
		}
	}
	if n := failing.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want 2 (failures must not be cached)", n)
	}
}
