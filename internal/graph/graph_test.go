package graph

import (
	"strings"
	"testing"

	"github.com/iamgate/iamgate/internal/rbacview"
)

func edge(g *Graph, from, to string) *Edge {
	for i := range g.Edges {
		if g.Edges[i].From == from && g.Edges[i].To == to {
			return &g.Edges[i]
		}
	}
	return nil
}

// principalFor is the id of the entry at index i of backend's table.
func principal(t *testing.T, g *Graph, label string, active bool) string {
	t.Helper()
	for _, n := range g.Nodes {
		if n.Kind == KindPrincipal && n.Label == label && n.Inactive == !active {
			return n.ID
		}
	}
	t.Fatalf("no principal %q (active %v) in %+v", label, active, g.Nodes)
	return ""
}

func TestBuildFollowsEntriesToRoles(t *testing.T) {
	g := Build(seedInput(t))

	k10 := principal(t, g, "role 111122223333:role/K10Operator", true)
	for _, e := range [][2]string{
		{k10, "user:k10:{{SessionName}}"},
		{k10, "group:k10:basic"},
		{"group:k10:basic", "binding:clusterrolebinding/k10-basic"},
		{"binding:clusterrolebinding/k10-basic", "role:clusterrole/k10-basic"},
		{"user:alice", "binding:rolebinding/apps/alice-deployer"},
		{"binding:rolebinding/apps/alice-deployer", "role:role/apps/deployer"},
		{"group:dev", "binding:rolebinding/apps/dev-view"},
		{"binding:rolebinding/apps/dev-view", "role:clusterrole/view"},
	} {
		if ed := edge(g, e[0], e[1]); ed == nil || ed.Dashed {
			t.Errorf("edge %s → %s = %+v, want a solid edge", e[0], e[1], ed)
		}
	}
	if n := g.Node("role:role/apps/deployer"); n == nil || n.Namespace != "apps" || n.Label != "Role apps/deployer" ||
		!strings.Contains(strings.Join(n.Detail, "\n"), "* deployments.apps") {
		t.Errorf("namespaced role = %+v", n)
	}
	if n := g.Node("group:system:masters"); n == nil || !n.Masters {
		t.Errorf("system:masters = %+v, want marked", n)
	}
	if n := g.Node("role:role/apps/gone"); n == nil || !n.Missing {
		t.Errorf("missing role = %+v", n)
	}
}

func TestBuildShowsShadowedAndRefusedEntriesDashed(t *testing.T) {
	g := Build(seedInput(t))
	old := principal(t, g, "role 111122223333:role/K10Operator", false)
	n := g.Node(old)
	if !strings.HasPrefix(n.Reason, "shadowed: ") || !strings.Contains(n.Reason, "mapRoles[3]") {
		t.Errorf("shadowed entry reason = %q", n.Reason)
	}
	if e := edge(g, old, "group:k10:admin"); e == nil || !e.Dashed {
		t.Errorf("shadowed entry's edge = %+v, want dashed", e)
	}
	broken := g.Node(principal(t, g, "role 111122223333:role/Broken", false))
	if !strings.HasPrefix(broken.Reason, "refused_entry_denies: ") || !strings.Contains(broken.Reason, "system:") {
		t.Errorf("refused entry reason = %q", broken.Reason)
	}
}

func TestBuildTemplatedUsernameReachesUserBindingsConditionally(t *testing.T) {
	g := Build(seedInput(t))
	e := edge(g, "user:k10:{{SessionName}}", "binding:clusterrolebinding/bob-view")
	if e == nil || !e.Dashed || !strings.Contains(e.Label, "k10:bob") {
		t.Errorf("templated user edge = %+v, want dashed, naming k10:bob", e)
	}
	if e := edge(g, "user:admin:{{SessionName}}", "binding:clusterrolebinding/bob-view"); e != nil {
		t.Errorf("admin:{{SessionName}} cannot render k10:bob, got %+v", e)
	}
}

func TestBuildSystemAuthenticatedWithoutTheDefaults(t *testing.T) {
	g := Build(seedInput(t))
	n := g.Node("group:" + rbacview.Authenticated)
	if n == nil || !n.Implicit {
		t.Fatalf("system:authenticated = %+v, want drawn as implicit", n)
	}
	if edge(g, n.ID, "binding:clusterrolebinding/everyone-view") == nil {
		t.Error("everyone-view not reached from system:authenticated")
	}
	if g.Node("binding:clusterrolebinding/system:basic-user") != nil {
		t.Error("the apiserver's default system:basic-user binding is drawn")
	}
}

func TestBuildWithoutRBACSaysSo(t *testing.T) {
	in := seedInput(t)
	in.RBAC = nil
	g := Build(in)
	if len(g.Notes) != 1 || !strings.Contains(g.Notes[0], "RBAC not read") {
		t.Errorf("notes = %q", g.Notes)
	}
	for _, n := range g.Nodes {
		if n.Kind == KindBinding || n.Kind == KindRole {
			t.Errorf("node %s without RBAC", n.ID)
		}
	}
}
