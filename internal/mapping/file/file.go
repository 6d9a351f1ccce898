// Package file is the MountedFile backend: mappings from the server's config
// file (and an AWSIamConfig), fixed for the life of the process.
package file

import (
	"context"
	"errors"
	"fmt"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Backend maps identities with the entries of the config file. It is
// immutable and safe for concurrent use.
type Backend struct {
	table *rules.Table
}

var _ mapping.Mapper = (*Backend)(nil)

// New builds the backend named name ("MountedFile") from entries, matched
// with o (feature gates, IAM group and EC2 resolvers, reserved-name
// allowlist). Any problem is an error: the file is the operator's and read
// once, so a bad entry stops the server rather than being skipped.
// Entries the config loader refused (Entry.Refused) were reported there.
func New(name string, entries []mapping.Entry, o rules.Options) (*Backend, error) {
	t, probs := rules.Build(name, entries, o)
	if len(probs) > 0 {
		errs := make([]error, len(probs))
		for i, p := range probs {
			errs[i] = p
		}
		return nil, fmt.Errorf("mounted file mappings: %w", errors.Join(errs...))
	}
	return &Backend{table: t}, nil
}

// Name returns the backendMode name given to New.
func (b *Backend) Name() string { return b.table.Name() }

// Map returns the mapping for id, or mapping.ErrNotMapped.
func (b *Backend) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	return b.table.Map(ctx, id)
}

// Explain traces Map.
func (b *Backend) Explain(ctx context.Context, id mapping.Identity) mapping.Trace {
	return b.table.Explain(ctx, id)
}

// Table is the table the backend decides with.
func (b *Backend) Table() *rules.Table { return b.table }

// Counts returns the number of role, user and account entries in effect.
func (b *Backend) Counts() (roles, users, accounts int) { return b.table.Counts() }

// Warnings describes entries that loaded but cannot match with the
// backend's options (see rules.Table.Warnings).
func (b *Backend) Warnings() []string { return b.table.Warnings() }
