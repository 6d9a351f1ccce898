package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/awscreds"
	"github.com/iamgate/iamgate/internal/execcred"
	"github.com/iamgate/iamgate/internal/token/presign"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

const whoamiLong = `Show who the cluster will see when you use iamgate: your AWS identity, the
token that would be sent, and, given a kubeconfig, what the cluster makes of it.

whoami resolves credentials exactly as "iamgate token" does (same flags: --role,
--profile, --region, ...; no caches), then asks STS who they are (a real
GetCallerIdentity through the same chain and custom endpoints) and prints:
the credential source, the ARN STS reports, the canonical ARN an aws-auth
entry must name, the STS host and region a token is signed for, the cluster
id bound into it, and when the token and the credentials expire.

With --kubeconfig (or $KUBECONFIG, or when kubectl's current context in
~/.kube/config signs with iamgate, aws-iam-authenticator or "aws eks
get-token", whose cluster id is then used when -i is not given) it signs a
fresh token and sends it to that cluster in a SelfSubjectReview (what "kubectl auth whoami" does), printing the
username, groups and extra the cluster assigned. On "Unauthorized" it lists
the usual causes, most likely first, each with the command that checks it;
causes it could confirm (another cluster id or profile in the kubeconfig's
exec plugin, a skewed clock) are marked LIKELY.

The token is never printed. Exit status: 0 when the cluster accepted the token
(or none was asked), 2 when it answered Unauthorized, 1 on other errors.`

const whoamiExample = `  # Your identity, and the token iamgate would send for cluster "prod"
  iamgate whoami -i prod

  # What kubectl's current context (an iamgate exec plugin) gets from its cluster
  iamgate whoami

  # As kubectl would use it, with the role it assumes: what does the cluster say?
  iamgate whoami -i prod --role arn:aws:iam::111122223333:role/k8s-admin --kubeconfig ~/.kube/config

  # JSON, for a support ticket (no secrets in it)
  iamgate whoami -i prod --profile dev --kubeconfig ~/.kube/config -o json`

type whoamiOptions struct {
	tokenflags.Options
	kubeconfig  string
	kubeContext string
	output      string
}

// NewWhoamiCommand is "iamgate whoami".
func NewWhoamiCommand(deps Deps, streams Streams) *cobra.Command {
	var o whoamiOptions
	cmd := &cobra.Command{
		Use:     "whoami -i CLUSTER_ID",
		Short:   "Show your AWS identity, the token iamgate would send, and what the cluster makes of it",
		Long:    whoamiLong,
		Example: whoamiExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWhoami(cmd.Context(), deps, streams, &o)
		},
	}
	f := cmd.Flags()
	o.AddFlags(f)
	for _, n := range []string{"token-only", "cache", "no-cache", "debug"} {
		_ = f.MarkHidden(n) // token's output and cache flags: nothing to do here
	}
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to ask (default $KUBECONFIG, else ~/.kube/config when its context signs with iamgate)")
	f.StringVar(&o.kubeContext, "context", "", "kubeconfig context to use (default: its current context)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runWhoami(ctx context.Context, deps Deps, streams Streams, o *whoamiOptions) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("unsupported output format %q (text or json)", o.output)
	}
	getenv := tokenEnv(deps)
	o.ApplyEnv(getenv)
	kc := o.kubeconfig
	if kc == "" {
		kc = getenv("KUBECONFIG")
	}
	ask := kc != "" || o.kubeContext != ""
	if kc == "" {
		// kubectl's default, read now (client-go fixes it at start-up).
		if home := getenv("HOME"); home != "" {
			if p := filepath.Join(home, ".kube", "config"); fileExists(p) {
				kc = p
			}
		}
	}
	idFrom := ""
	if id, ok := iamContext(kc, o.kubeContext); ok {
		// kubectl's context signs with iamgate (or aws-iam-authenticator,
		// aws eks get-token): ask its cluster, for its cluster id unless -i
		// says otherwise.
		ask = true
		if o.ClusterID == "" && id != "" {
			o.ClusterID, idFrom = id, "kubectl's exec plugin"
		}
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if err := checkRole(o.Role, getenv); err != nil {
		return err
	}
	info := execcred.ParseInfo(getenv(execcred.EnvExecInfo))
	co := awscreds.Options{
		Profile: o.Profile, Region: o.Region, Role: o.Role, ExternalID: o.ExternalID,
		SessionName: o.SessionName, ForwardSessionName: o.ForwardSessionName,
		Interactive: info.Interactive, In: streams.In, Prompt: streams.Err, Warn: streams.Err,
		Now: deps.now, Getenv: getenv,
	}
	cfg, err := awscreds.Load(ctx, co)
	if err != nil {
		return err
	}
	host, signingRegion, err := presign.STSHost(ctx, cfg.Region)
	if err != nil {
		return err
	}
	creds, fixed, err := co.Retrieve(ctx, cfg)
	if err != nil {
		return err
	}
	cfg.Credentials = fixed
	profile, profileFrom := co.ProfileName()
	rep := &whoamiReport{Credentials: whoamiCreds{
		Source: creds.Source, Description: co.Describe(creds.Source), Profile: profile, ProfileFrom: profileFrom,
		AccessKeyID: creds.AccessKeyID, Role: o.Role,
	}}
	if creds.CanExpire {
		t := creds.Expires.UTC()
		rep.Credentials.Expires = &t
	}
	if err := rep.callerIdentity(ctx, cfg, deps.now); err != nil {
		return err
	}
	rep.Token = whoamiToken{ClusterID: o.ClusterID, ClusterIDFrom: idFrom, STSHost: host, SigningRegion: signingRegion, CredentialsEndpoint: awscreds.STSEndpoint(cfg)}
	var tok string
	if o.ClusterID != "" {
		var exp time.Time
		tok, exp, err = presign.Token(ctx, cfg, o.ClusterID, presign.Options{Now: deps.now})
		if err != nil {
			return err
		}
		exp = exp.UTC()
		rep.Token.Expires = &exp
	}
	if ask {
		if o.ClusterID == "" {
			return errors.New("cluster id not specified (-i or " + tokenflags.ClusterIDEnv + "): asking the cluster needs a token for it")
		}
		if err := rep.askCluster(ctx, kc, o.kubeContext, tok, &co); err != nil {
			return err
		}
	}
	if o.output == "json" {
		err = writeJSON(streams.Out, rep)
	} else {
		err = rep.print(streams.Out)
	}
	if err == nil && rep.Cluster != nil && !rep.Cluster.Authenticated {
		return &exitError{code: 2, err: fmt.Errorf("the cluster at %s answered Unauthorized to this identity's token (causes above)", rep.Cluster.Server)}
	}
	return err
}

// callerIdentity asks STS (header-signed, through cfg's endpoint) who the
// credentials are, and how far the local clock is from STS's.
func (r *whoamiReport) callerIdentity(ctx context.Context, cfg aws.Config, now func() time.Time) error {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("sts GetCallerIdentity with credentials from %s: %w", r.Credentials.Description, err)
	}
	a, err := arn.Parse(aws.ToString(out.Arn))
	if err != nil {
		return fmt.Errorf("sts reported an ARN iamgate cannot use: %w", err)
	}
	r.Caller = whoamiCaller{ARN: a.String(), Account: aws.ToString(out.Account), UserID: aws.ToString(out.UserId)}
	r.CanonicalARN = a.Canonical().String()
	r.Entry = entryFor(a)
	if server, ok := awsmiddleware.GetServerTime(out.ResultMetadata); ok {
		at, ok := awsmiddleware.GetResponseAt(out.ResultMetadata)
		if !ok {
			at = now()
		}
		r.ClockSkew = at.Sub(server).Round(time.Second).String()
		r.skew = at.Sub(server)
	}
	return nil
}

// entryFor is the aws-auth line that maps principal a.
func entryFor(a arn.ARN) string {
	c := a.Canonical()
	switch c.Type {
	case arn.TypeRole:
		return "mapRoles: - rolearn: " + c.String()
	case arn.TypeUser, arn.TypeRoot:
		return "mapUsers: - userarn: " + c.String()
	}
	return "no aws-auth entry names a " + a.Type + " directly: map its account (mapAccounts: " + a.AccountID + ")"
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
