package cli

import "github.com/spf13/cobra"

// NewCacheCommand is a placeholder until its owner writes it.
func NewCacheCommand(deps Deps, streams Streams) *cobra.Command {
	return &cobra.Command{Use: "cache"}
}
