package graph

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/rbacview"
)

// Source is one backend's entries, in the chain's order.
type Source struct {
	Backend string
	Entries []rules.Listed
}

// Input is what a graph is drawn from. RBAC is nil when no cluster was
// read: the picture then ends at usernames and groups.
type Input struct {
	Sources []Source
	RBAC    *rbacview.Snapshot
}

// maxRuleLines bounds the rule summary a role node carries.
const maxRuleLines = 12

type builder struct {
	g     Graph
	index map[string]int
	edges map[Edge]bool
	rbac  *rbacview.Snapshot
}

// Build draws in. Principals keep the chain's order (backend by backend,
// entry by entry), then subjects, bindings and roles as first reached.
func Build(in Input) *Graph {
	b := &builder{g: Graph{Nodes: []Node{}, Edges: []Edge{}}, index: map[string]int{}, edges: map[Edge]bool{}, rbac: in.RBAC}
	var users, groups []string
	for _, src := range in.Sources {
		for i, l := range src.Entries {
			p := b.principal(src.Backend, i, l)
			if u := l.Entry.Username; u != "" {
				id := b.subject(KindUser, u)
				b.edge(p, id, "username", !l.Active)
				users = append(users, u)
			}
			for _, grp := range l.Entry.Groups {
				id := b.subject(KindGroup, grp)
				b.edge(p, id, "group", !l.Active)
				groups = append(groups, grp)
			}
		}
	}
	if in.RBAC == nil {
		b.g.Notes = append(b.g.Notes, "RBAC not read (no kubeconfig): the graph ends at Kubernetes usernames and groups")
		return &b.g
	}
	for _, u := range users {
		b.userBindings(u)
	}
	for _, grp := range groups {
		b.groupBindings(grp)
	}
	b.authenticated()
	return &b.g
}

func (b *builder) add(n Node) string {
	if _, ok := b.index[n.ID]; !ok {
		b.index[n.ID] = len(b.g.Nodes)
		b.g.Nodes = append(b.g.Nodes, n)
	}
	return n.ID
}

func (b *builder) edge(from, to, label string, dashed bool) {
	e := Edge{From: from, To: to, Label: label, Dashed: dashed}
	if !b.edges[e] {
		b.edges[e] = true
		b.g.Edges = append(b.g.Edges, e)
	}
}

func (b *builder) principal(backend string, i int, l rules.Listed) string {
	e := l.Entry
	n := Node{
		ID:      fmt.Sprintf("principal:%s:%d", backend, i),
		Kind:    KindPrincipal,
		Label:   label(e),
		Backend: backend,
		Detail:  []string{e.Kind.String() + ": " + e.Names(), "from " + backend + ": " + e.Origin.String()},
	}
	if e.UserID != "" {
		n.Detail = append(n.Detail, "pinned to unique id "+e.UserID)
	}
	if !l.Active {
		n.Inactive, n.Reason = true, string(l.Verdict)+": "+l.Why
		n.Detail = append(n.Detail, n.Reason)
	}
	return b.add(n)
}

func label(e mapping.Entry) string {
	if e.Kind == mapping.KindSSO {
		return e.Names()
	}
	return e.Kind.String() + " " + shortName(e)
}

// shortName drops the "arn:aws:iam::" prefix that every ARN label would
// repeat; the full ARN stays in the node's detail.
func shortName(e mapping.Entry) string {
	if e.Kind == mapping.KindSSO || e.Kind == mapping.KindAccount {
		return e.Names()
	}
	if parts := strings.SplitN(e.ARN, ":", 6); len(parts) == 6 && parts[0] == "arn" {
		return parts[4] + ":" + parts[5]
	}
	return e.ARN
}

func (b *builder) subject(k Kind, name string) string {
	n := Node{ID: string(k) + ":" + name, Kind: k, Label: name}
	switch {
	case k == KindGroup && name == rbacview.Masters:
		n.Masters = true
		n.Detail = []string{"system:masters: the apiserver allows every request, whatever RBAC says"}
	case strings.Contains(name, "{{"):
		n.Detail = []string{"templated: filled in per request; bindings that fit the pattern are dashed"}
	}
	return b.add(n)
}

func (b *builder) userBindings(u string) {
	from := string(KindUser) + ":" + u
	if !strings.Contains(u, "{{") {
		for _, bd := range b.rbac.ForUser(u) {
			b.edge(from, b.binding(bd), "", false)
		}
		return
	}
	re := templatePattern(u)
	for _, name := range b.rbac.UserNames() {
		if re.MatchString(name) {
			for _, bd := range b.rbac.ForUser(name) {
				b.edge(from, b.binding(bd), "if it renders "+name, true)
			}
		}
	}
}

func (b *builder) groupBindings(grp string) {
	from := string(KindGroup) + ":" + grp
	for _, bd := range b.rbac.ForGroup(grp) {
		b.edge(from, b.binding(bd), "", false)
	}
}

// authenticated draws system:authenticated when a binding other than the
// apiserver's own defaults (named system:*) names it: every mapped
// principal gets what that binding grants.
func (b *builder) authenticated() {
	var own []*rbacview.Binding
	for _, bd := range b.rbac.ForGroup(rbacview.Authenticated) {
		if !strings.HasPrefix(bd.Name, "system:") {
			own = append(own, bd)
		}
	}
	if len(own) == 0 {
		return
	}
	id := b.subject(KindGroup, rbacview.Authenticated)
	n := &b.g.Nodes[b.index[id]]
	n.Implicit = true
	n.Detail = []string{"added by the apiserver to every authenticated user: every active principal has it"}
	for _, bd := range own {
		b.edge(id, b.binding(bd), "", false)
	}
}

func (b *builder) binding(bd *rbacview.Binding) string {
	label := bd.Kind + " " + bd.Name
	if bd.Namespace != "" {
		label = bd.Kind + " " + bd.Namespace + "/" + bd.Name
	}
	id := b.add(Node{ID: "binding:" + bd.String(), Kind: KindBinding, Label: label, Namespace: bd.Namespace,
		Detail: []string{bd.String() + ": grants " + bd.RoleString() + " " + bd.Scope()}})
	b.edge(id, b.role(bd), "", false)
	return id
}

func (b *builder) role(bd *rbacview.Binding) string {
	n := Node{ID: "role:" + bd.RoleString(), Kind: KindRole}
	if bd.RoleRef.Kind == rbacview.KindClusterRole {
		n.Label = "ClusterRole " + bd.RoleRef.Name
	} else {
		n.Label, n.Namespace = "Role "+bd.Namespace+"/"+bd.RoleRef.Name, bd.Namespace
	}
	switch r := bd.Role; {
	case r == nil:
		n.Missing = true
		n.Detail = []string{"does not exist: the binding grants nothing"}
	default:
		rules := rbacview.Summarize(r.Rules)
		if len(rules) > maxRuleLines {
			rules = append(rules[:maxRuleLines], fmt.Sprintf("… and %d more rules", len(r.Rules)-maxRuleLines))
		}
		if r.Aggregated {
			n.Detail = append(n.Detail, "aggregated: rules collected from other ClusterRoles")
		}
		n.Detail = append(n.Detail, rules...)
	}
	return b.add(n)
}

var templateVar = regexp.MustCompile(`\{\{[A-Za-z0-9]+\}\}`)

// templatePattern matches what a templated name could render to: the
// literal text around each {{Var}}, any non-empty text in its place.
func templatePattern(s string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range templateVar.FindAllStringIndex(s, -1) {
		b.WriteString(regexp.QuoteMeta(s[last:m[0]]))
		b.WriteString(".+")
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(s[last:]) + "$")
	return regexp.MustCompile(b.String())
}
