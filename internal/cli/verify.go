package cli

import "github.com/spf13/cobra"

// NewVerifyCommand is a placeholder until its owner writes it.
func NewVerifyCommand(deps Deps, streams Streams) *cobra.Command {
	return &cobra.Command{Use: "verify"}
}
