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
	t, err := mapping.NewTable(name, roles, users, accounts)
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
