package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/awscreds"
	"github.com/iamgate/iamgate/internal/kubeconfig"
)

type kubeconfigOptions struct {
	cluster        string
	clusterID      string
	region         string
	profile        string
	role           string
	alias          string
	userAlias      string
	path           string
	server         string
	caFile         string
	execAPIVersion string
	dryRun         bool
}

const kubeconfigLong = `Add a cluster to your kubeconfig with a user that logs in through
"iamgate token", like "aws eks update-kubeconfig" does for "aws eks get-token".

For an EKS cluster, the endpoint and CA come from EKS DescribeCluster (the
cluster must be ACTIVE or UPDATING), with the same AWS credentials and region
"iamgate token" would use (--profile, --region, --role, the environment, the
shared config). The context is named after the cluster ARN unless --alias
says otherwise, and the token's cluster id is the cluster name.

For any other cluster (EKS Anywhere, kops, kubeadm), give --server and
--certificate-authority: AWS is not called, the context is named NAME and the
cluster id is NAME unless --cluster-id says otherwise (it must equal the
server's clusterID).

The entry is merged into the first file of $KUBECONFIG, else ~/.kube/config
(--kubeconfig overrides): every other cluster, user and context is kept, the
file is written atomically with mode 0600, and current-context is switched to
the new context. --dry-run prints the merged file instead.`

// NewKubeconfigCommand is "iamgate kubeconfig".
func NewKubeconfigCommand(deps Deps, streams Streams) *cobra.Command {
	o := &kubeconfigOptions{}
	cmd := &cobra.Command{
		Use:   "kubeconfig --cluster NAME",
		Short: "Add a cluster to your kubeconfig, logging in with iamgate token",
		Long:  kubeconfigLong,
		Example: `  iamgate kubeconfig --cluster prod --region eu-west-1
  iamgate kubeconfig --cluster prod --profile admin --role arn:aws:iam::111122223333:role/k8s-admin --alias prod-admin
  iamgate kubeconfig --cluster lab --server https://10.0.0.10:6443 --certificate-authority ca.crt --cluster-id lab-1
  iamgate kubeconfig --cluster prod --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKubeconfig(cmd.Context(), o, deps, streams)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cluster, "cluster", "", "cluster `NAME` (the EKS cluster name)")
	f.StringVar(&o.cluster, "name", "", "same as --cluster (aws-cli's spelling)")
	_ = f.MarkHidden("name")
	f.StringVarP(&o.clusterID, "cluster-id", "i", "", "cluster `ID` the server expects in tokens (default NAME)")
	f.StringVar(&o.region, "region", "", "AWS `region` of the cluster and of the token's STS endpoint")
	f.StringVar(&o.profile, "profile", "", "AWS `profile` for DescribeCluster and, as AWS_PROFILE, for the token")
	f.StringVarP(&o.role, "role", "r", "", "IAM role `ARN` to assume, for DescribeCluster and for every token")
	f.StringVar(&o.role, "role-arn", "", "same as --role (aws-cli's spelling)")
	_ = f.MarkHidden("role-arn")
	f.StringVar(&o.alias, "alias", "", "context `name` (default the cluster ARN for EKS, else NAME)")
	f.StringVar(&o.userAlias, "user-alias", "", "user entry `name` (default the context name)")
	f.StringVar(&o.path, "kubeconfig", "", "kubeconfig `file` to update (default: first of $KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&o.server, "server", "", "API server `URL`; with it AWS is not called")
	f.StringVar(&o.caFile, "certificate-authority", "", "PEM `file` with the API server's CA, embedded in the kubeconfig (with --server)")
	f.StringVar(&o.execAPIVersion, "exec-api-version", "v1beta1", "client.authentication.k8s.io `version` of the exec entry: v1beta1 or v1")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the merged kubeconfig to stdout and write nothing")
	return cmd
}

func runKubeconfig(ctx context.Context, o *kubeconfigOptions, deps Deps, streams Streams) error {
	if o.cluster == "" {
		return errors.New("--cluster NAME is required")
	}
	apiVersion, err := execAPIVersion(o.execAPIVersion)
	if err != nil {
		return err
	}
	path := o.path
	if path == "" {
		if path, err = kubeconfig.DefaultPath(deps.getenv); err != nil {
			return err
		}
	}
	e := kubeconfig.Entry{
		ClusterName:    o.cluster,
		Context:        o.alias,
		UserName:       o.userAlias,
		ClusterID:      o.cluster,
		Region:         o.region,
		Role:           o.role,
		Profile:        o.profile,
		ExecAPIVersion: apiVersion,
	}
	if o.server != "" {
		if err := o.fromFlags(&e); err != nil {
			return err
		}
	} else {
		if o.caFile != "" {
			return errors.New("--certificate-authority needs --server (for EKS both come from DescribeCluster)")
		}
		if err := o.fromEKS(ctx, &e, deps, streams); err != nil {
			return err
		}
	}
	if o.clusterID != "" {
		e.ClusterID = o.clusterID
	}

	if o.dryRun {
		cfg, _, err := kubeconfig.Preview(path, e)
		if err != nil {
			return err
		}
		data, err := kubeconfig.Encode(cfg)
		if err != nil {
			return err
		}
		_, err = streams.Out.Write(data)
		return err
	}
	// Only ~/.kube is created on first use; elsewhere a missing directory is
	// reported, as it is more likely a typo.
	defaultDir, err := kubeconfig.DefaultDir(deps.getenv)
	createDir := err == nil && filepath.Clean(filepath.Dir(path)) == defaultDir
	_, created, err := kubeconfig.Update(path, e, createDir)
	if err != nil {
		return err
	}
	name := e.Context
	if name == "" {
		name = e.ClusterName
	}
	if created {
		fmt.Fprintf(streams.Out, "Added new context %s to %s\n", name, path)
	} else {
		fmt.Fprintf(streams.Out, "Updated context %s in %s\n", name, path)
	}
	return nil
}

// fromFlags fills the endpoint from --server and --certificate-authority.
func (o *kubeconfigOptions) fromFlags(e *kubeconfig.Entry) error {
	e.Server = o.server
	if o.caFile == "" {
		return nil // a publicly trusted endpoint: the system roots apply
	}
	ca, err := os.ReadFile(o.caFile)
	if err != nil {
		return fmt.Errorf("--certificate-authority: %w", err)
	}
	if err := kubeconfig.CheckCA(ca); err != nil {
		return fmt.Errorf("--certificate-authority %s: %w", o.caFile, err)
	}
	e.CAData = ca
	return nil
}

// fromEKS fills the endpoint, CA and names from EKS DescribeCluster, signing
// in as "iamgate token" would (an MFA prompt goes to stderr).
func (o *kubeconfigOptions) fromEKS(ctx context.Context, e *kubeconfig.Entry, deps Deps, streams Streams) error {
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
	c, err := kubeconfig.DescribeEKS(ctx, cfg, o.cluster)
	if err != nil {
		return err
	}
	if err := kubeconfig.CheckCA(c.CAData); err != nil {
		fmt.Fprintf(streams.Err, "warning: EKS cluster %s: %v; written as EKS returned it, but kubectl will not trust the server\n", c.Name, err)
	}
	e.ClusterName = c.ARN
	e.Server = c.Endpoint
	e.CAData = c.CAData
	e.ClusterID = c.Name
	// The token must be signed for the cluster's region even when that
	// came from the environment or the profile rather than --region.
	e.Region = cfg.Region
	return nil
}

// execAPIVersion accepts "v1beta1", "v1" or the full group/version.
func execAPIVersion(v string) (string, error) {
	switch strings.TrimPrefix(v, "client.authentication.k8s.io/") {
	case "v1beta1":
		return kubeconfig.ExecAPIV1Beta1, nil
	case "v1":
		return kubeconfig.ExecAPIV1, nil
	}
	return "", fmt.Errorf("--exec-api-version %q: want v1beta1 or v1", v)
}
