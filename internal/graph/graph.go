// Package graph draws who can reach what: IAM principals (mapping
// entries) → the Kubernetes usernames and groups they become → the
// RoleBindings and ClusterRoleBindings naming those → the roles bound.
// It reads the tables the server decides with and an RBAC snapshot, so the
// picture shows what the server and the authorizer would use, refused and
// shadowed entries included (dashed, with the reason).
package graph

// Kind is a node's column in the picture.
type Kind string

const (
	KindPrincipal Kind = "principal" // one mapping entry
	KindUser      Kind = "user"      // a Kubernetes username (may be a template)
	KindGroup     Kind = "group"     // a Kubernetes group
	KindBinding   Kind = "binding"   // a RoleBinding or ClusterRoleBinding
	KindRole      Kind = "role"      // a Role or ClusterRole
)

// Node is one box of the picture.
type Node struct {
	ID    string `json:"id"`
	Kind  Kind   `json:"kind"`
	Label string `json:"label"`
	// Detail is shown on hover: the full names, origin, rules.
	Detail []string `json:"detail,omitempty"`
	// Namespace is set for RoleBindings and Roles.
	Namespace string `json:"namespace,omitempty"`
	// Backend names the backend of a principal node.
	Backend string `json:"backend,omitempty"`
	// Inactive marks a refused or shadowed entry; Reason says why.
	Inactive bool   `json:"inactive,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Masters marks system:masters: the apiserver allows it everything, no
	// binding needed.
	Masters bool `json:"masters,omitempty"`
	// Implicit marks system:authenticated: every mapped principal has it
	// without an edge being drawn.
	Implicit bool `json:"implicit,omitempty"`
	// Missing marks a role a binding names that does not exist.
	Missing bool `json:"missing,omitempty"`
}

// Edge is one arrow. Dashed arrows come from inactive entries or are
// conditional (a templated username that may or may not fit a binding).
type Edge struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Label  string `json:"label,omitempty"`
	Dashed bool   `json:"dashed,omitempty"`
}

// Graph is the whole picture. Notes say what it leaves out (no RBAC read,
// bindings hidden).
type Graph struct {
	Nodes []Node   `json:"nodes"`
	Edges []Edge   `json:"edges"`
	Notes []string `json:"notes,omitempty"`
}

// Node returns the node with id, or nil.
func (g *Graph) Node(id string) *Node {
	for i := range g.Nodes {
		if g.Nodes[i].ID == id {
			return &g.Nodes[i]
		}
	}
	return nil
}
