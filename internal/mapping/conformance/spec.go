package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Factory builds a backend holding exactly spec and matching with opts (the
// backend hands opts to mapping.NewTableWithOptions). It returns an error
// when the backend refuses spec as a whole, as it must when
// NewTableWithOptions reports a fatal Problem; an asynchronous backend
// returns once its first load has succeeded or been refused. Entries may be
// invalid: the load-error cases pass entries the parsers refuse, and accept
// either an error or a backend that grants nothing from them.
type Factory func(t *testing.T, spec mapping.Spec, opts mapping.Options) (mapping.Mapper, error)

// RunWithSpec runs everything Run does plus the cases that need mapGroups,
// sso entries, Options or load errors: SSO permission sets, safe patterns,
// IAM groups, unique-ID pinning on every kind, {{EC2PrivateDNSName}} and
// reserved names.
func RunWithSpec(t *testing.T, f Factory) {
	t.Run("Core", func(t *testing.T) {
		Run(t, func(t *testing.T, roles []mapping.RoleMapping, users []mapping.UserMapping, accounts []string) mapping.Mapper {
			t.Helper()
			return build(t, f, mapping.Spec{Roles: roles, Users: users, Accounts: accounts}, mapping.Options{})
		})
	})
	t.Run("SSO", func(t *testing.T) { runSSO(t, f) })
	t.Run("Patterns", func(t *testing.T) { runPatterns(t, f) })
	t.Run("Groups", func(t *testing.T) { runGroups(t, f) })
	t.Run("UserIDPinEveryKind", func(t *testing.T) { runPins(t, f) })
	t.Run("EC2PrivateDNSName", func(t *testing.T) { runEC2(t, f) })
	t.Run("Reserved", func(t *testing.T) { runReserved(t, f) })
	t.Run("InvalidLaterEntryShadows", func(t *testing.T) { runShadows(t, f) })
}

// build makes a backend that must accept spec.
func build(t *testing.T, f Factory, spec mapping.Spec, opts mapping.Options) mapping.Mapper {
	t.Helper()
	m, err := f(t, spec, opts)
	if err != nil {
		t.Fatalf("backend refused a valid spec: %v", err)
	}
	if m == nil {
		t.Fatal("factory returned a nil backend and no error")
	}
	return m
}

// refused checks a spec that must not load: the backend either refuses it
// or grants none of the probes anything.
func refused(t *testing.T, f Factory, spec mapping.Spec, opts mapping.Options, probes ...mapping.Identity) {
	t.Helper()
	m, err := f(t, spec, opts)
	if err != nil {
		return
	}
	for _, id := range probes {
		if r, err := m.Map(context.Background(), id); err == nil {
			t.Errorf("invalid spec loaded and Map(%s) = %+v; want it refused", id.ARN, r)
		}
	}
}

// mustNotGrant accepts ErrNotMapped or any other error: nothing granted.
func mustNotGrant(t *testing.T, m mapping.Mapper, id mapping.Identity) {
	t.Helper()
	if r, err := m.Map(context.Background(), id); err == nil || r != nil {
		t.Errorf("Map(%s) = %+v, %v; want nothing granted", id.ARN, r, err)
	}
}

func userARN(account, name string) string { return "arn:aws:iam::" + account + ":user/" + name }

func groupARN(account, name string) string { return "arn:aws:iam::" + account + ":group/" + name }

// fakeGroups is a GroupResolver with fixed answers; users in fail get an
// error.
type fakeGroups struct {
	mu     sync.Mutex
	byUser map[string][]string
	fail   map[string]bool
	calls  []string
}

func (g *fakeGroups) GroupsForUser(_ context.Context, user string) ([]string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, user)
	if g.fail[user] {
		return nil, errors.New("iam unreachable (fake)")
	}
	return append([]string(nil), g.byUser[user]...), nil
}

func (g *fakeGroups) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// fakeEC2 is an EC2Resolver with fixed answers; unknown instances fail.
type fakeEC2 struct {
	mu    sync.Mutex
	names map[string]string // "account/instance" -> name
	calls int
}

func (e *fakeEC2) PrivateDNSName(_ context.Context, account, instance string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if n, ok := e.names[account+"/"+instance]; ok {
		return n, nil
	}
	return "", fmt.Errorf("instance %s not found (fake)", instance)
}

func (e *fakeEC2) callCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// ssoRole is the role name Identity Center creates for permission set ps.
func ssoRole(ps string) string { return "AWSReservedSSO_" + ps + "_0123456789abcdef" }

func hasAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
