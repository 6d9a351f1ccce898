package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/accessentries"
)

const exportAccessEntriesLong = `Turn the mappings into EKS access entries.

Reads every configured backend (-c and, with --kubeconfig, the live aws-auth
ConfigMap or IAMIdentityMappings) as the server does, and writes for each
entry the CreateAccessEntry call: the role's full ARN (a role written without
its path gets it from IAM GetRole), type EC2_LINUX (EC2_WINDOWS) for node-role
entries and STANDARD otherwise, the username (with {{SessionName}} and
{{SessionNameRaw}}, which EKS fills; {{AccountID}} written out) and the
kubernetesGroups without the system: groups EKS refuses. Where an entry gave
system:masters, an AssociateAccessPolicy call adds AmazonEKSClusterAdminPolicy
at cluster scope.

Nothing is dropped silently. Entries with no access-entry equivalent are
listed with the reason: mapAccounts, ARN patterns, mapGroups (--expand-groups
exports the IAM group's current members instead), SSO permission sets whose
AWSReservedSSO_ role IAM ListRoles cannot find, usernames with
{{AccessKeyID}} or {{EC2PrivateDNSName}} on other than node entries, reserved
usernames, refused and shadowed entries, and a principal that an earlier
entry or backend already decides (EKS takes one entry per principal).

IAM is asked with the AWS SDK's usual credentials (env, profile, SSO, ...);
without credentials, entries that need IAM are listed as not exported.

  -o cli   a shell script of aws eks create-access-entry and
           associate-access-policy commands, notes and skipped entries as
           comments
  -o json  one document per line, each the --cli-input-json of one call: a
           document with policyArn is for associate-access-policy, the others
           for create-access-entry; notes and skipped entries go to stderr

Exit status: 0 when every entry was exported, 2 when some were listed as not
exported, 1 on bad input or when a backend or the cluster could not be read.`

const exportAccessEntriesExample = `  # Review the commands for the live aws-auth, then run them
  iamgate export access-entries --cluster prod --kubeconfig ~/.kube/config -o cli > access-entries.sh

  # One call per line, fed to aws-cli
  iamgate export access-entries --cluster prod -c /etc/iamgate/config.yaml -o json |
    while read -r doc; do
      case "$doc" in *'"policyArn"'*) cmd=associate-access-policy ;; *) cmd=create-access-entry ;; esac
      aws eks "$cmd" --cli-input-json "$doc"
    done

  # IAM group members as user entries
  iamgate export access-entries --cluster prod --kubeconfig ~/.kube/config --expand-groups -o cli`

type exportOptions struct {
	adminFlags
	cluster      string
	output       string
	expandGroups bool
	noIAM        bool
}

// NewExportCommand is "iamgate export".
func NewExportCommand(deps Deps, streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the mappings in another system's terms",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newExportAccessEntriesCommand(deps, streams))
	return cmd
}

func newExportAccessEntriesCommand(deps Deps, streams Streams) *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:     "access-entries --cluster NAME [-o json|cli]",
		Short:   "EKS access entries (CreateAccessEntry, AssociateAccessPolicy) for the mappings",
		Long:    exportAccessEntriesLong,
		Example: exportAccessEntriesExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExportAccessEntries(cmd.Context(), deps, streams, &o)
		},
	}
	f := cmd.Flags()
	o.adminFlags.addFlags(f)
	f.StringVar(&o.cluster, "cluster", "", "the EKS cluster's `NAME`")
	f.StringVarP(&o.output, "output", "o", "cli", "output format: cli or json")
	f.BoolVar(&o.expandGroups, "expand-groups", false, "export each mapGroups entry's current IAM group members as user entries (IAM GetGroup)")
	f.BoolVar(&o.noIAM, "no-iam", false, "do not ask IAM: entries that need it are listed as not exported")
	return cmd
}

// clusterName is the EKS API's pattern for a cluster name.
var clusterName = regexp.MustCompile(`^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$`)

func runExportAccessEntries(ctx context.Context, deps Deps, streams Streams, o *exportOptions) error {
	switch {
	case o.cluster == "":
		return errors.New("--cluster NAME is required: the EKS cluster the access entries are for")
	case !clusterName.MatchString(o.cluster):
		return fmt.Errorf("--cluster %q is not an EKS cluster name (1-100 letters, digits, - and _, starting with a letter or digit)", o.cluster)
	case o.output != "cli" && o.output != "json":
		return fmt.Errorf("unsupported output format %q (cli or json)", o.output)
	}
	c, err := o.adminFlags.config(deps.getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opened, err := openBackends(ctx, c, nil, log, o.wait)
	if err != nil {
		return err
	}
	defer opened.Close()
	var sources []accessentries.Source
	for _, t := range opened.Tables {
		sources = append(sources, accessentries.Source{Backend: t.Name, Entries: t.Table.Entries()})
	}
	opts := accessentries.Options{Cluster: o.cluster, ExpandGroups: o.expandGroups}
	if !o.noIAM {
		client, err := iamClient(ctx)
		if err != nil {
			fmt.Fprintf(streams.Err, "warning: not asking IAM (%v): entries that need it are listed as not exported\n", err)
		} else {
			opts.IAM = client
		}
	}
	plan := accessentries.Build(ctx, sources, opts)
	if o.output == "json" {
		if err := plan.WriteJSON(streams.Out); err != nil {
			return err
		}
		for _, x := range plan.Exports {
			for _, n := range x.Notes {
				fmt.Fprintf(streams.Err, "note: %s %s (%s): %s\n", x.Backend, x.Origin.String(), x.Names, n)
			}
		}
		for _, s := range plan.Skipped {
			fmt.Fprintf(streams.Err, "not exported: %s\n", s)
		}
	} else if err := plan.WriteCLI(streams.Out); err != nil {
		return err
	}
	if n := len(plan.Skipped); n > 0 {
		return &exitError{code: 2, err: fmt.Errorf("%d entries have no access-entry equivalent (listed, with the reason)", n)}
	}
	return nil
}

// iamClient is IAM through the SDK's default chain, checked for
// credentials up front so a machine without any says so once.
func iamClient(ctx context.Context) (*iam.Client, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM is global; the SDK wants a region for its endpoint
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials: %w", err)
	}
	return iam.NewFromConfig(cfg), nil
}
