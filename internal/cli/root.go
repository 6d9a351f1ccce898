// Package cli holds the iamgate command tree. cmd/iamgate-core calls Run; tests
// drive the same tree in-process with their own Streams and Deps.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"
)

// Streams are the process's standard streams. Only a command's result goes to
// Out: kubectl parses it.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Deps are the edges tests replace. The zero value means production: the
// released binaries never set any field, so STS traffic always goes to real
// STS hosts.
type Deps struct {
	// Now defaults to time.Now.
	Now func() time.Time
	// STSTransport, when set, carries the server's and verify's STS calls
	// (tests and the demo route STS host names to a local double with it;
	// host checks still apply).
	STSTransport http.RoundTripper
	// Getenv defaults to os.Getenv.
	Getenv func(string) string
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d Deps) getenv(k string) string {
	if d.Getenv != nil {
		return d.Getenv(k)
	}
	return os.Getenv(k)
}

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// NewRootCommand builds the whole command tree.
func NewRootCommand(deps Deps, streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "iamgate",
		Short: "Log in to Kubernetes with your AWS IAM identity",
		Long: `iamgate lets kubectl users authenticate to Kubernetes with AWS IAM.

  client:  kubectl runs "iamgate token -i CLUSTER" as an exec credential plugin.
  server:  kube-apiserver sends TokenReviews to "iamgate server", which asks STS
           who signed the token and maps that ARN to a Kubernetes user.

It reads aws-iam-authenticator's config files and flags unchanged.`,
		Example: `  # kubectl's exec plugin, as "iamgate kubeconfig" writes it
  iamgate token -i my-cluster
  # the webhook on a control-plane node
  iamgate init -c /etc/iamgate/config.yaml && iamgate server -c /etc/iamgate/config.yaml
  # shell completion for this session
  source <(iamgate completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	showVersion := root.Flags().Bool("version", false, `print the version line "iamgate version" prints, and exit`)
	// Runnable only for --version; with no flag it prints the help, as a
	// command without Run would.
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if *showVersion {
			_, err := fmt.Fprintln(streams.Out, versionLine(currentBuild()))
			return err
		}
		return cmd.Help()
	}
	root.SetUsageFunc(usage)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.AddCommand(
		NewTokenCommand(deps, streams),
		NewCacheCommand(deps, streams),
		NewVerifyCommand(deps, streams),
		NewServerCommand(deps, streams),
		NewInitCommand(deps, streams),
		NewKubeconfigCommand(deps, streams),
		NewResolveIDsCommand(deps, streams),
		NewAddCommand(deps, streams),
		NewRemoveCommand(deps, streams),
		NewMappingsCommand(deps, streams),
		NewVersionCommand(deps, streams),
		NewExplainCommand(deps, streams),
		NewGraphCommand(deps, streams),
		NewExportCommand(deps, streams),
		NewLintCommand(deps, streams),
		NewWhoCanCommand(deps, streams),
		NewWhoamiCommand(deps, streams),
	)
	for _, sub := range root.Commands() {
		if slices.Contains(aiaCommands, sub.Name()) {
			markAIAGlobals(sub.Flags())
		}
	}
	addCompletion(root)
	return root
}

// Run executes args (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, deps Deps, streams Streams) int {
	root := NewRootCommand(deps, streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(streams.Err, "error: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}
