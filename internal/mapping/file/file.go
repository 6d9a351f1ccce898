// Package file is the MountedFile backend: mappings from the server's config
// file, fixed for the life of the process.
package file

import (
	"context"
	"fmt"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Backend maps identities with the mapRoles, mapUsers and mapAccounts of the
// config file. It is immutable and safe for concurrent use.
type Backend struct {
	table *mapping.Table
}

var _ mapping.Mapper = (*Backend)(nil)

// New builds the backend. name is the backendMode name ("MountedFile").
// Any invalid entry is an error: the config loader has already reported and
// dropped bad entries, so one reaching here is a bug to surface, not skip.
func New(name string, roles []mapping.RoleMapping, users []mapping.UserMapping, accounts []string) (*Backend, error) {
	return NewWithOptions(name, mapping.Spec{Roles: roles, Users: users, Accounts: accounts}, mapping.Options{})
}

// NewWithOptions is New for every entry kind (mapGroups too), matched with
// o (feature gates, IAM group and EC2 resolvers, reserved-name allowlist).
// Any invalid entry is an error, as for New.
func NewWithOptions(name string, s mapping.Spec, o mapping.Options) (*Backend, error) {
	t, err := mapping.NewTableWithOptions(name, s, o)
	if err != nil {
		return nil, fmt.Errorf("mounted file mappings: %w", err)
	}
	return &Backend{table: t}, nil
}

// Name returns the backendMode name given to New.
func (b *Backend) Name() string { return b.table.Name() }

// Map returns the mapping for id, or mapping.ErrNotMapped.
func (b *Backend) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	return b.table.Map(ctx, id)
}

// Counts returns the number of role, user and account entries in effect.
func (b *Backend) Counts() (roles, users, accounts int) { return b.table.Counts() }

// Warnings describes entries that loaded but cannot match with the
// backend's options (see mapping.Table.Warnings).
func (b *Backend) Warnings() []string { return b.table.Warnings() }
