package cli

import "github.com/spf13/cobra"

// NewInitCommand is a placeholder until its owner writes it.
func NewInitCommand(deps Deps, streams Streams) *cobra.Command {
	return &cobra.Command{Use: "init"}
}
