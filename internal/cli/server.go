package cli

import "github.com/spf13/cobra"

// NewServerCommand is a placeholder until its owner writes it.
func NewServerCommand(deps Deps, streams Streams) *cobra.Command {
	return &cobra.Command{Use: "server"}
}
