// Package accessentries turns the mappings the server decides with into
// EKS access entries: one CreateAccessEntry input per principal, and an
// AssociateAccessPolicy with the cluster-admin policy where the mapping
// gave system:masters. What EKS cannot express (accounts, patterns, IAM
// groups, some username templates, principals named twice) is listed with
// the reason, never dropped: a migration that silently loses an entry locks
// someone out, and one that widens an entry lets someone in.
package accessentries

import (
	"context"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Entry types, as the EKS API spells them.
const (
	TypeStandard   = "STANDARD"
	TypeEC2Linux   = "EC2_LINUX"
	TypeEC2Windows = "EC2_WINDOWS"
)

// ClusterAdminPolicy is the access policy that stands in for system:masters.
const ClusterAdminPolicy = "AmazonEKSClusterAdminPolicy"

// CreateAccessEntry is the CreateAccessEntry request, in the member names
// of the EKS API (and of aws eks create-access-entry --cli-input-json).
type CreateAccessEntry struct {
	ClusterName      string   `json:"clusterName"`
	PrincipalArn     string   `json:"principalArn"`
	KubernetesGroups []string `json:"kubernetesGroups,omitempty"`
	Username         string   `json:"username,omitempty"`
	Type             string   `json:"type"`
}

// AccessScope is where an associated policy applies.
type AccessScope struct {
	Type       string   `json:"type"`
	Namespaces []string `json:"namespaces,omitempty"`
}

// AssociateAccessPolicy is the AssociateAccessPolicy request.
type AssociateAccessPolicy struct {
	ClusterName  string      `json:"clusterName"`
	PrincipalArn string      `json:"principalArn"`
	PolicyArn    string      `json:"policyArn"`
	AccessScope  AccessScope `json:"accessScope"`
}

// Export is one entry's access entry: the calls to make and what differs
// from the mapping (notes a person should read before running them).
type Export struct {
	Backend   string
	Origin    mapping.Origin
	Names     string
	Create    CreateAccessEntry
	Associate []AssociateAccessPolicy
	Notes     []string
}

// Skipped is an entry with no access-entry equivalent, and why.
type Skipped struct {
	Backend string
	Origin  mapping.Origin
	Names   string
	Reason  string
}

// Plan is the whole export, in the chain's order.
type Plan struct {
	Exports []Export
	Skipped []Skipped
}

// Source is one backend's entries, in the chain's order.
type Source struct {
	Backend string
	Entries []rules.Listed
}

// Options are the cluster and the IAM lookups. IAM nil means no
// credentials: entries that need IAM to be exported are listed as skipped,
// saying so.
type Options struct {
	Cluster      string
	IAM          IAMClient
	ExpandGroups bool
}

// Build plans the export of sources. Backends are read in order and, as
// the server does, the first backend with an entry for a principal decides
// for it: a later entry for the same principal is skipped, and so is any
// entry for a principal whose deciding entry was refused (the server
// denies it; an access entry would let it in).
func Build(ctx context.Context, sources []Source, o Options) *Plan {
	p := &planner{o: o, claimed: map[string]string{}, denied: map[string]string{}, plan: &Plan{}}
	for _, src := range sources {
		for _, l := range src.Entries {
			p.entry(ctx, src.Backend, l)
		}
		p.closeBackend()
	}
	return p.plan
}
