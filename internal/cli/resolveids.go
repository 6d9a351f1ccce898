package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/awscreds"
	"github.com/iamgate/iamgate/internal/resolveids"
)

type resolveIDsOptions struct {
	file                string
	configMap           bool
	kubeconfig, context string
	write, overwrite    bool
	verbose             bool
	profile, region     string
	role                string
}

// NewResolveIDsCommand pins mappings to IAM unique IDs. A userid makes an
// entry stop matching when its role or user is deleted and re-created
// under the same name, which names alone cannot do.
func NewResolveIDsCommand(deps Deps, streams Streams) *cobra.Command {
	o := &resolveIDsOptions{}
	cmd := &cobra.Command{
		Use:   "resolve-ids (-f FILE | --configmap) [--write] [--overwrite]",
		Short: "Fill in the userid of role and user mappings from IAM",
		Long: `Look up every mapRoles and mapUsers entry in IAM (iam:GetRole, iam:GetUser)
and fill in its userid: the role's AROA... or the user's AIDA... unique ID.
An entry with a userid matches only that principal, so a role or user that is
deleted and re-created under the same name (by anyone) no longer gets its
access.

Sources:
  -f FILE       an iamgate or aws-iam-authenticator config file (server.mapRoles,
                server.mapUsers), a dynamic file (JSON or YAML with top-level
                mapRoles/mapUsers) or an aws-auth ConfigMap manifest
  --configmap   the live kube-system/aws-auth ConfigMap (--kubeconfig, --context)

Nothing changes without --write: the default is a dry run that prints what
would change. With --write a file is replaced atomically, keeping its comments,
key order and format; the ConfigMap is updated with the resourceVersion it was
read at, so a concurrent edit is never overwritten (it is read again and
resolved afresh instead).

An entry whose userid differs from IAM's is reported and left alone: the
principal was re-created, and whoever holds the name now may not be who the
entry was written for. --overwrite replaces such userids. Entries whose
principal IAM does not know, patterns, SSO entries, account roots and entries
of other accounts are reported and left alone.

Lookups use the AWS credentials of --profile (or the usual environment) and
only cover that account (or the account of --role); run once per account.
The exit code is 2 when an entry needs attention (a differing userid, a
missing principal), 1 on errors.`,
		Example: `  iamgate resolve-ids -f /etc/iamgate/config.yaml
  iamgate resolve-ids -f /etc/iamgate/config.yaml --write
  iamgate resolve-ids --configmap --context prod --profile prod-admin --write`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runResolveIDs(cmd.Context(), o, deps, streams)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "mapping file to resolve")
	f.BoolVar(&o.configMap, "configmap", false, "resolve the live kube-system/aws-auth ConfigMap")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file for --configmap (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "kubeconfig context for --configmap (default: the current context)")
	f.BoolVar(&o.write, "write", false, "apply the changes (default: dry run)")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace userids that differ from IAM's")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "also list entries whose userid is already IAM's")
	f.StringVar(&o.profile, "profile", "", "AWS profile for the IAM lookups")
	f.StringVar(&o.region, "region", "", "AWS region for the STS and IAM endpoints (default: the profile's, else us-east-1)")
	f.StringVar(&o.role, "role", "", "assume this role for the lookups (its account is the one resolved)")
	cmd.MarkFlagsMutuallyExclusive("file", "configmap")
	cmd.MarkFlagsOneRequired("file", "configmap")
	return cmd
}

func runResolveIDs(ctx context.Context, o *resolveIDsOptions, deps Deps, streams Streams) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if !o.configMap && (o.kubeconfig != "" || o.context != "") {
		return errors.New("--kubeconfig and --context only apply with --configmap")
	}
	cfg, err := awscreds.Load(ctx, awscreds.Options{
		Profile:     o.profile,
		Region:      o.region,
		Role:        o.role,
		Interactive: true,
		In:          streams.In,
		Prompt:      streams.Err,
		Warn:        streams.Err,
		Now:         deps.now,
	})
	if err != nil {
		return err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // IAM is global; the region only picks the endpoint
	}
	lookup, err := resolveids.NewLookupForCaller(ctx, iam.NewFromConfig(cfg), sts.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	opts := resolveids.Options{Write: o.write, Overwrite: o.overwrite}

	var report *resolveids.Report
	if o.configMap {
		client, kerr := resolveIDsKubeClient(o)
		if kerr != nil {
			return kerr
		}
		report, err = resolveids.ResolveConfigMap(ctx, client, resolveids.AWSAuthNamespace, resolveids.AWSAuthName, lookup, opts)
	} else {
		report, err = resolveids.ResolveFile(ctx, o.file, lookup, opts)
	}
	if report != nil {
		report.Print(streams.Out, opts, o.verbose)
	}
	if err != nil {
		return err
	}
	if report.NeedsAttention() {
		n := report.Count(resolveids.Differs) + report.Count(resolveids.NotFound)
		return &exitError{code: 2, err: fmt.Errorf("%d entries need attention (marked ! or ? above)", n)}
	}
	return nil
}

func resolveIDsKubeClient(o *resolveIDsOptions) (kubernetes.Interface, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	rc, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	rc.UserAgent = "iamgate-resolve-ids"
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return client, nil
}
