package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/awscreds"
	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/execcred"
	"github.com/iamgate/iamgate/internal/token"
	"github.com/iamgate/iamgate/internal/token/presign"
	"github.com/iamgate/iamgate/internal/tokencache"
	"github.com/iamgate/iamgate/internal/tokenflags"
)

// tokenLockWait bounds how long a call waits for another iamgate process
// that is refreshing the cache (possibly waiting for an MFA code). After
// that it goes ahead on its own: the lock only saves duplicate work, since
// cache files are replaced atomically.
const tokenLockWait = 60 * time.Second

const tokenLong = `Print a bearer token for Kubernetes, signed with your AWS identity.

kubectl runs this command as an exec credential plugin. The token is a
presigned STS GetCallerIdentity request bound to the cluster id (-i); the
iamgate (or aws-iam-authenticator) server asks STS who signed it and maps that
ARN to a Kubernetes user. The output is an ExecCredential document whose
apiVersion follows KUBERNETES_EXEC_INFO.

Credentials come from the AWS SDK default chain: environment variables, the
shared config and credentials files (AWS_PROFILE or --profile, role_arn with
source_profile, mfa_serial, SSO, credential_process), web identity, container
credentials and EC2 instance metadata. MFA prompts are written to stderr.
Custom endpoints (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's
services section or endpoint_url) are used to get credentials; the token
always names the real regional STS host, which is what servers accept.
Credentials that expire within a minute are refused.

--debug explains on stderr where the token came from, including its
tokenHash: the value the server's audit line shows for requests carrying it.

Tokens are cached until a minute before they expire, and assumed-role
credentials while more than 15 minutes remain, under
~/.kube/cache/iamgate (or $IAMGATE_CACHE_DIR). "iamgate cache clear" empties it.

aws-iam-authenticator's command lines work unchanged, its global flags
included, before or after "token": the cluster id comes from -i, else
$KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID, else clusterID in the -c file;
--role defaults to $DEFAULT_ROLE; -l and --feature-gates are accepted and
change nothing here. "iamgate -l json token -i my-cluster" is the same as
"iamgate token -i my-cluster".

Use it from a kubeconfig:

  users:
  - name: my-cluster
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: iamgate
        args: ["token", "-i", "my-cluster"]
        env:
        - name: AWS_PROFILE
          value: dev
        interactiveMode: IfAvailable`

// NewTokenCommand is "iamgate token". Its flags are those of the lean front
// binary (internal/tokenflags), which answers cache hits before this code is
// even loaded; this is the path for misses.
func NewTokenCommand(deps Deps, streams Streams) *cobra.Command {
	var o tokenflags.Options
	var a aiaFlags
	cmd := &cobra.Command{
		Use:   "token -i CLUSTER_ID",
		Short: "Print a token for kubectl (exec credential plugin)",
		Long:  tokenLong,
		Example: `  iamgate token -i my-cluster
  iamgate token -i my-cluster -r arn:aws:iam::111122223333:role/k8s-admin
  iamgate token -i my-cluster --profile dev --region eu-west-1 --token-only
  iamgate token -i my-cluster --debug   # stderr: cache, region, STS host, credentials, tokenHash
  iamgate token -c /etc/aws-iam-authenticator/config.yaml   # clusterID from the file`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			file, err := a.load(cmd.Flags(), streams.Err)
			if err != nil {
				return err
			}
			if err := a.featureGates.apply(file); err != nil {
				return err
			}
			return runToken(cmd.Context(), deps, streams, o, file)
		},
	}
	o.AddFlags(cmd.Flags())
	if f := cmd.Flags().Lookup("role"); f != nil {
		f.Usage += " (default $" + tokenflags.DefaultRoleEnv + ", as in aws-iam-authenticator)"
	}
	a.addFlags(cmd.Flags(), aiaHelp{
		config: "aws-iam-authenticator config `file`: its clusterID is used when neither -i nor " +
			clusterIDEnv + " is set (other keys are checked, not used)",
		logFormat:    logFormatNoEffect,
		featureGates: gatesNoEffect,
	})
	return cmd
}

func tokenEnv(deps Deps) func(string) string {
	if deps.Getenv != nil {
		return deps.Getenv
	}
	return os.Getenv
}

func runToken(ctx context.Context, deps Deps, streams Streams, o tokenflags.Options, file *config.Config) error {
	getenv := tokenEnv(deps)
	o.ApplyEnv(getenv)
	if o.ClusterID == "" && file != nil {
		o.ClusterID = file.ClusterID
	}
	if err := o.Validate(); err != nil {
		return err
	}
	if err := checkRole(o.Role, getenv); err != nil {
		return err
	}
	dbg := debugf(o.Debug, streams.Err)
	info := execcred.ParseInfo(getenv(execcred.EnvExecInfo))
	emit := func(tok string, exp time.Time) error {
		dbg("token: tokenHash=%s (the server's audit line shows the same), expires %s",
			token.Hash(tok), exp.UTC().Format(time.RFC3339))
		return execcred.Write(streams.Out, streams.Err, info, o.TokenOnly, tok, exp)
	}

	var store *tokencache.Store
	key := o.TokenKey(getenv)
	if o.NoCache {
		dbg("cache: off (--no-cache)")
	} else {
		dir, err := tokencache.DefaultDir(getenv)
		if err != nil {
			fmt.Fprintf(streams.Err, "warning: token cache disabled: %v\n", err)
		} else {
			store = &tokencache.Store{Dir: dir}
		}
	}
	if store != nil {
		file := filepath.Join(store.Dir, tokencache.TokenFile(key))
		if e, ok := store.ReadToken(key, deps.now()); ok {
			dbg("cache: hit %s (no credentials resolved)", file)
			return emit(e.Token, e.Expires)
		}
		dbg("cache: miss %s", file)
		unlock, err := store.Lock(ctx, tokenLockWait)
		switch {
		case errors.Is(err, tokencache.ErrLockTimeout):
			fmt.Fprintf(streams.Err, "warning: %v; continuing without it\n", err)
		case err != nil:
			// The directory cannot be made safe; work without any cache.
			fmt.Fprintf(streams.Err, "warning: cache disabled: %v\n", err)
			store = nil
		default:
			defer unlock()
			// Another kubectl may have refreshed it while we waited.
			if e, ok := store.ReadToken(key, deps.now()); ok {
				dbg("cache: hit %s after waiting for another iamgate", file)
				return emit(e.Token, e.Expires)
			}
		}
	}

	co := awscreds.Options{
		Profile:            o.Profile,
		Region:             o.Region,
		Role:               o.Role,
		ExternalID:         o.ExternalID,
		SessionName:        o.SessionName,
		ForwardSessionName: o.ForwardSessionName,
		Interactive:        info.Interactive,
		In:                 streams.In,
		Prompt:             streams.Err,
		Cache:              store,
		CredentialsKey:     o.CredentialsKey(getenv),
		BaseCredentialsKey: o.BaseCredentialsKey(getenv),
		Warn:               streams.Err,
		Now:                deps.now,
		Getenv:             getenv,
	}
	cfg, err := awscreds.Load(ctx, co)
	if err != nil {
		return err
	}
	host, err := checkSTS(ctx, cfg, streams.Err, dbg)
	if err != nil {
		return err
	}
	creds, fixed, err := co.Retrieve(ctx, cfg)
	if err != nil {
		return err
	}
	debugCreds(dbg, &co, creds, host)
	cfg.Credentials = fixed
	tok, exp, err := presign.Token(ctx, cfg, o.ClusterID, presign.Options{Now: deps.now})
	if err != nil {
		return err
	}
	if store != nil {
		if err := store.WriteToken(key, tokencache.Entry{Token: tok, Expires: exp}); err != nil {
			fmt.Fprintf(streams.Err, "warning: could not cache the token: %v\n", err)
		}
	}
	return emit(tok, exp)
}
