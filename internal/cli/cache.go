package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/tokencache"
)

// NewCacheCommand is "iamgate cache": inspect or empty the client-side cache
// of tokens and assumed-role credentials.
func NewCacheCommand(deps Deps, streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the client-side token and credential cache",
		Long: `iamgate token caches tokens and assumed-role credentials under
~/.kube/cache/iamgate (or $IAMGATE_CACHE_DIR), readable only by you.

Clear it after changing ~/.aws/config or ~/.aws/credentials in place, or to
log out: the next "iamgate token" resolves credentials (and asks for an MFA
code) again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "clear",
		Short: "Remove every cached token and credential",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := tokencache.DefaultDir(tokenEnv(deps))
			if err != nil {
				return err
			}
			n, err := tokencache.Store{Dir: dir}.Clear()
			if err != nil {
				return err
			}
			fmt.Fprintf(streams.Out, "removed %d cached file(s) from %s\n", n, dir)
			return nil
		},
	}, &cobra.Command{
		Use:   "dir",
		Short: "Print the cache directory",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir, err := tokencache.DefaultDir(tokenEnv(deps))
			if err != nil {
				return err
			}
			fmt.Fprintln(streams.Out, dir)
			return nil
		},
	})
	return cmd
}
