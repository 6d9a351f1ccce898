package cli

import "github.com/spf13/cobra"

// NewVersionCommand is a placeholder until its owner writes it.
func NewVersionCommand(deps Deps, streams Streams) *cobra.Command {
	return &cobra.Command{Use: "version"}
}
