package cli

import "github.com/spf13/cobra"

// NewTokenCommand is a placeholder until its owner writes it.
func NewTokenCommand(deps Deps, streams Streams) *cobra.Command {
	return &cobra.Command{Use: "token"}
}
