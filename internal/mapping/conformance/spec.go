package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Factory builds a backend holding exactly entries, in order, and
// matching with opts (the backend hands opts to rules.Build). It returns
// an error when the backend refuses the entries as a whole, as it must when
// rules.Build reports a fatal problem; an asynchronous backend returns once
// its first load has succeeded or been refused. Entries may be invalid: the
// load-error cases pass entries the parsers refuse, and accept either an
// error or a backend that grants nothing from them. Entries carry no
// Origin: the backend writes them down in its own format and reads them
// back.
type Factory func(t *testing.T, entries []mapping.Entry, opts rules.Options) (mapping.Mapper, error)

// Capabilities say what a backend's source format cannot express, so the
// suite leaves out only the cases that format cannot state at all.
type Capabilities struct {
	// NoAccounts is for formats without mapAccounts (the IAMIdentityMapping
	// CRD): the MapAccounts case is skipped and every other case's account
	// entries are dropped (those cases pass accounts only to show that a
	// failed or absent entry does not fall back to them).
	NoAccounts bool
	// NoSSO is for formats without sso blocks: the SSO cases are skipped
	// and sso entries dropped from the others.
	NoSSO bool
	// NoGroups is for formats without mapGroups.
	NoGroups bool
}

// spec is a case's entries by section, written the way aws-auth groups
// them.
type spec struct {
	Roles, Users, Groups []mapping.Entry
	Accounts             []string
}

// entries lists s in aws-auth's section order.
func (s spec) entries() []mapping.Entry {
	out := append(append(append([]mapping.Entry(nil), s.Roles...), s.Users...), s.Groups...)
	for _, a := range s.Accounts {
		out = append(out, mapping.Entry{Kind: mapping.KindAccount, Account: a})
	}
	return out
}

// Run runs the whole suite against backends made by f: roles, users,
// accounts, templates, pinning, SSO permission sets, safe patterns, IAM
// groups, {{EC2PrivateDNSName}}, reserved names and load errors. Every
// decision is also traced (Explain), and the trace must say exactly what
// Map said.
func Run(t *testing.T, f Factory, caps Capabilities) {
	f = caps.filter(f)
	t.Run("Core", func(t *testing.T) { runCore(t, f, caps) })
	t.Run("SSO", func(t *testing.T) {
		if caps.NoSSO {
			t.Skip("the backend's format has no sso entries")
		}
		runSSO(t, f)
	})
	t.Run("Patterns", func(t *testing.T) { runPatterns(t, f, caps) })
	t.Run("Groups", func(t *testing.T) {
		if caps.NoGroups {
			t.Skip("the backend's format has no mapGroups")
		}
		runGroups(t, f, caps)
	})
	t.Run("UserIDPinEveryKind", func(t *testing.T) { runPins(t, f, caps) })
	t.Run("EC2PrivateDNSName", func(t *testing.T) { runEC2(t, f) })
	t.Run("Reserved", func(t *testing.T) { runReserved(t, f) })
	t.Run("InvalidLaterEntryShadows", func(t *testing.T) { runShadows(t, f, caps) })
	t.Run("GroupLookupFailureDenies", func(t *testing.T) {
		if caps.NoGroups {
			t.Skip("the backend's format has no mapGroups")
		}
		runGroupLookupFailure(t, f, caps)
	})
}

// filter drops the entries the format cannot express.
func (c Capabilities) filter(f Factory) Factory {
	return func(t *testing.T, entries []mapping.Entry, opts rules.Options) (mapping.Mapper, error) {
		var kept []mapping.Entry
		for _, e := range entries {
			switch {
			case c.NoAccounts && e.Kind == mapping.KindAccount,
				c.NoSSO && e.Kind == mapping.KindSSO,
				c.NoGroups && e.Kind == mapping.KindGroup:
				continue
			}
			kept = append(kept, e)
		}
		return f(t, kept, opts)
	}
}

// build makes a backend that must accept spec.
func build(t *testing.T, f Factory, s spec, opts rules.Options) mapping.Mapper {
	t.Helper()
	m, err := f(t, s.entries(), opts)
	if err != nil {
		t.Fatalf("backend refused a valid spec: %v", err)
	}
	if m == nil {
		t.Fatal("factory returned a nil backend and no error")
	}
	return traced{m, t}
}

// refused checks a spec that must not load: the backend either refuses it
// or grants none of the probes anything.
func refused(t *testing.T, f Factory, s spec, opts rules.Options, probes ...mapping.Identity) {
	t.Helper()
	m, err := f(t, s.entries(), opts)
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
