// Package rbacview reads a cluster's RBAC once and answers, for a Kubernetes
// username and groups, which bindings name them and what those bindings
// grant. It is what the diagnostics (explain, who-can, graph, export) show
// after the IAM side has produced a username and groups; the apiserver's own
// authorizer (SubjectAccessReview, see Review) stays the authority on what is
// allowed, this package only names the bindings behind the answer.
package rbacview

import (
	"context"
	"fmt"
	"slices"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Groups the apiserver treats specially.
const (
	// Masters is the group the default authorizer lets do anything: no
	// binding is needed and none can take it away.
	Masters = "system:masters"
	// Authenticated is the group the apiserver adds to every authenticated
	// user, so bindings to it apply to every mapped IAM principal.
	Authenticated = "system:authenticated"
)

// Kinds of bindings and roles, as RBAC spells them.
const (
	KindRoleBinding        = "RoleBinding"
	KindClusterRoleBinding = "ClusterRoleBinding"
	KindRole               = "Role"
	KindClusterRole        = "ClusterRole"
)

// Role is a Role or ClusterRole.
type Role struct {
	Kind      string // KindRole or KindClusterRole
	Namespace string // empty for a ClusterRole
	Name      string
	Rules     []rbacv1.PolicyRule
	// Aggregated is set for a ClusterRole whose rules a controller fills in
	// from other roles (aggregationRule); its Rules are what it holds now.
	Aggregated bool
}

// Binding is a RoleBinding or ClusterRoleBinding with the role it names.
type Binding struct {
	Kind      string // KindRoleBinding or KindClusterRoleBinding
	Namespace string // empty for a ClusterRoleBinding
	Name      string
	RoleRef   rbacv1.RoleRef
	Subjects  []rbacv1.Subject
	// Role is the role RoleRef names, nil when it does not exist (the
	// binding then grants nothing).
	Role *Role
}

// Scope is where b grants: "cluster-wide" or "namespace NS".
func (b *Binding) Scope() string {
	if b.Kind == KindClusterRoleBinding {
		return "cluster-wide"
	}
	return "namespace " + b.Namespace
}

// String names b as kubectl would: "clusterrolebinding/x" or "rolebinding/ns/x".
func (b *Binding) String() string {
	if b.Kind == KindClusterRoleBinding {
		return "clusterrolebinding/" + b.Name
	}
	return "rolebinding/" + b.Namespace + "/" + b.Name
}

// RoleString names b's role: "clusterrole/x" or "role/ns/x".
func (b *Binding) RoleString() string {
	if b.RoleRef.Kind == KindClusterRole {
		return "clusterrole/" + b.RoleRef.Name
	}
	return "role/" + b.Namespace + "/" + b.RoleRef.Name
}

// Snapshot is the cluster's RBAC read once, indexed by subject.
type Snapshot struct {
	Bindings []*Binding
	Roles    []*Role
	byUser   map[string][]*Binding
	byGroup  map[string][]*Binding
}

// Load lists every ClusterRole, Role, ClusterRoleBinding and RoleBinding
// once (a few thousand in one page each) and indexes the bindings by the
// users and groups they name. ServiceAccount subjects are kept on the
// bindings but not indexed: an IAM principal never becomes one.
func Load(ctx context.Context, c kubernetes.Interface) (*Snapshot, error) {
	rbac := c.RbacV1()
	crs, err := rbac.ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, Explain(err, "list", "clusterroles", "")
	}
	rs, err := rbac.Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, Explain(err, "list", "roles", "")
	}
	crbs, err := rbac.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, Explain(err, "list", "clusterrolebindings", "")
	}
	rbs, err := rbac.RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, Explain(err, "list", "rolebindings", "")
	}
	return New(crs.Items, rs.Items, crbs.Items, rbs.Items), nil
}

// New builds a Snapshot from objects already read (Load lists them; the
// graph and tests may have them at hand).
func New(crs []rbacv1.ClusterRole, rs []rbacv1.Role, crbs []rbacv1.ClusterRoleBinding, rbs []rbacv1.RoleBinding) *Snapshot {
	s := &Snapshot{byUser: map[string][]*Binding{}, byGroup: map[string][]*Binding{}}
	type key struct{ kind, ns, name string }
	roles := make(map[key]*Role, len(crs)+len(rs))
	for i := range crs {
		r := &Role{Kind: KindClusterRole, Name: crs[i].Name, Rules: crs[i].Rules, Aggregated: crs[i].AggregationRule != nil}
		roles[key{KindClusterRole, "", r.Name}] = r
		s.Roles = append(s.Roles, r)
	}
	for i := range rs {
		r := &Role{Kind: KindRole, Namespace: rs[i].Namespace, Name: rs[i].Name, Rules: rs[i].Rules}
		roles[key{KindRole, r.Namespace, r.Name}] = r
		s.Roles = append(s.Roles, r)
	}
	lookup := func(ns string, ref rbacv1.RoleRef) *Role {
		if ref.Kind == KindClusterRole {
			return roles[key{KindClusterRole, "", ref.Name}]
		}
		return roles[key{KindRole, ns, ref.Name}]
	}
	for i := range crbs {
		s.add(&Binding{Kind: KindClusterRoleBinding, Name: crbs[i].Name, RoleRef: crbs[i].RoleRef,
			Subjects: crbs[i].Subjects, Role: lookup("", crbs[i].RoleRef)})
	}
	for i := range rbs {
		s.add(&Binding{Kind: KindRoleBinding, Namespace: rbs[i].Namespace, Name: rbs[i].Name, RoleRef: rbs[i].RoleRef,
			Subjects: rbs[i].Subjects, Role: lookup(rbs[i].Namespace, rbs[i].RoleRef)})
	}
	sort.SliceStable(s.Bindings, func(i, j int) bool { return s.Bindings[i].String() < s.Bindings[j].String() })
	return s
}

func (s *Snapshot) add(b *Binding) {
	s.Bindings = append(s.Bindings, b)
	for _, sub := range b.Subjects {
		if sub.APIGroup != rbacv1.GroupName && sub.APIGroup != "" {
			continue
		}
		switch sub.Kind {
		case rbacv1.UserKind:
			if !slices.Contains(s.byUser[sub.Name], b) {
				s.byUser[sub.Name] = append(s.byUser[sub.Name], b)
			}
		case rbacv1.GroupKind:
			if !slices.Contains(s.byGroup[sub.Name], b) {
				s.byGroup[sub.Name] = append(s.byGroup[sub.Name], b)
			}
		}
	}
}

// Match is a binding that names a subject, and how.
type Match struct {
	Binding *Binding
	// Via is the subject that matched: "User alice" or "Group k10:basic".
	Via string
}

// Subjects are a username and groups as the apiserver sees them after
// authentication.
type Subjects struct {
	User   string // empty when unknown (a templated username)
	Groups []string
}

// WithAuthenticated returns groups plus system:authenticated, which the
// apiserver adds to every authenticated request (and a SubjectAccessReview
// does not add by itself).
func WithAuthenticated(groups []string) []string {
	if slices.Contains(groups, Authenticated) {
		return slices.Clone(groups)
	}
	return append(slices.Clone(groups), Authenticated)
}

// For lists the bindings that name sub's user or any of its groups
// (system:authenticated included), user matches first, each binding once.
func (s *Snapshot) For(sub Subjects) []Match {
	var out []Match
	seen := map[*Binding]bool{}
	addAll := func(bs []*Binding, via string) {
		for _, b := range bs {
			if !seen[b] {
				seen[b] = true
				out = append(out, Match{Binding: b, Via: via})
			}
		}
	}
	if sub.User != "" {
		addAll(s.byUser[sub.User], rbacv1.UserKind+" "+sub.User)
	}
	for _, g := range WithAuthenticated(sub.Groups) {
		addAll(s.byGroup[g], rbacv1.GroupKind+" "+g)
	}
	return out
}

// ForUser and ForGroup list the bindings that name one user or group.
func (s *Snapshot) ForUser(name string) []*Binding  { return s.byUser[name] }
func (s *Snapshot) ForGroup(name string) []*Binding { return s.byGroup[name] }

// UserNames lists every user name some binding names, for matching a
// templated username against what it could produce.
func (s *Snapshot) UserNames() []string {
	out := make([]string, 0, len(s.byUser))
	for u := range s.byUser {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Unrestricted says whether groups hold system:masters, which the
// apiserver allows everything whatever RBAC says.
func Unrestricted(groups []string) bool { return slices.Contains(groups, Masters) }

// Granting lists the matches in ms whose role allows req, in ms's order.
// It names bindings; whether the request is allowed is the authorizer's
// answer (Review), which also counts system:masters and other authorizers.
func Granting(ms []Match, req Request) []Match {
	var out []Match
	for _, m := range ms {
		if m.Binding.Role == nil {
			continue
		}
		if m.Binding.Kind == KindRoleBinding && req.Namespace != m.Binding.Namespace {
			continue
		}
		if RulesAllow(m.Binding.Role.Rules, req) {
			out = append(out, m)
		}
	}
	return out
}

func (m Match) String() string {
	return fmt.Sprintf("%s (%s, %s) via %s", m.Binding, m.Binding.RoleString(), m.Binding.Scope(), m.Via)
}
