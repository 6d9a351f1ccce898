package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/rbacview"
	"github.com/iamgate/iamgate/internal/token"
)

const explainLong = `Explain what the server decides for an IAM principal, and what RBAC then lets it do.

Give an ARN in any form (an assumed-role session, an IAM role with or without
a path, a user, a federated user, the account root), or a token with --token
(verified at STS like "iamgate verify" first; never printed). explain builds
the identity STS reports for it (a role becomes one of its sessions, without
its path), asks the server's own backends (-c and, with --kubeconfig, the live
aws-auth ConfigMap or IAMIdentityMappings) exactly as the server does, and
prints every backend asked, every entry that concerned the principal with its
verdict, origin and the fix for a near miss, the winning entry, and the
username and groups a TokenReview would return.

With a kubeconfig (--kubeconfig or $KUBECONFIG) it then lists the
RoleBindings and ClusterRoleBindings naming that username or any of its groups
(system:authenticated included) with a summary of their roles' rules;
system:masters is called out as unrestricted. --verb and --resource add the
apiserver's own answer (a SubjectAccessReview) for one request. The
kubeconfig needs the ClusterRole in deploy/rbac/diagnostics-clusterrole.yaml.

Exit status: 0 when explained (allowed or not), 1 on bad input or when the
cluster or STS could not be asked.`

const explainExample = `  # Why is this session Unauthorized? (file backends of the server's config)
  iamgate explain arn:aws:sts::111122223333:assumed-role/Admin/alice -c /etc/iamgate/config.yaml

  # The live aws-auth, and RBAC, of the cluster in the kubeconfig; may it list pods in "apps"?
  iamgate explain arn:aws:iam::111122223333:role/platform/Admin --kubeconfig ~/.kube/config \
      --verb list --resource pods -n apps

  # The identity behind a token, from stdin (kept out of shell history)
  iamgate token -i prod --token-only | iamgate explain --token - -i prod -c config.yaml -o json`

type explainOptions struct {
	adminFlags
	tokenFlag   string
	clusterID   string
	output      string
	session     string
	userID      string
	accessKeyID string
	partition   string
	stsRegions  []string
	stsHosts    []string
	req         requestFlags
}

// NewExplainCommand is "iamgate explain".
func NewExplainCommand(deps Deps, streams Streams) *cobra.Command {
	var o explainOptions
	cmd := &cobra.Command{
		Use:     "explain ARN | --token TOKEN",
		Short:   "Explain the server's decision for an IAM principal, and its RBAC",
		Long:    explainLong,
		Example: explainExample,
		Args: func(_ *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return errors.New("explain takes one ARN")
			case len(args) == 1 && o.tokenFlag != "":
				return errors.New("give an ARN or --token, not both")
			case len(args) == 0 && o.tokenFlag == "":
				return errors.New("give the principal's ARN, or --token TOKEN (--token - reads stdin)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExplain(cmd.Context(), deps, streams, &o, args)
		},
	}
	f := cmd.Flags()
	o.adminFlags.addFlags(f)
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.StringVarP(&o.tokenFlag, "token", "t", "", `explain the identity behind this token ("-" reads stdin), after verifying it at STS`)
	f.StringVarP(&o.clusterID, "cluster-id", "i", "", "cluster `ID` the --token must be bound to (default $"+clusterIDEnv+", then clusterID in the -c file)")
	f.StringVar(&o.session, "session-name", "", `session name for a role ARN (default "`+explainSession+`")`)
	f.StringVar(&o.userID, "user-id", "", "the principal's unique id as STS reports it (AROA..., AIDA...), for entries pinned to one")
	f.StringVar(&o.accessKeyID, "access-key-id", "", "the access key id, for {{AccessKeyID}} usernames")
	f.StringVar(&o.partition, "partition", token.DefaultPartition, "AWS partition of --token's STS host")
	f.StringSliceVar(&o.stsRegions, "sts-region", nil, "also accept --token's STS host in this region (repeatable)")
	f.StringSliceVar(&o.stsHosts, "sts-host", nil, "also accept this exact STS host for --token (repeatable)")
	o.req.addFlags(f)
	return cmd
}

func runExplain(ctx context.Context, deps Deps, streams Streams, o *explainOptions, args []string) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("unsupported output format %q (text or json)", o.output)
	}
	req, asked, err := o.req.request()
	if err != nil {
		return err
	}
	c, err := o.adminFlags.config(deps.getenv)
	if err != nil {
		return err
	}
	var id mapping.Identity
	var note string
	if o.tokenFlag != "" {
		tok, err := verifyReadToken(o.tokenFlag, streams.In)
		if err != nil {
			return err
		}
		cid := o.clusterID
		if cid == "" {
			cid = deps.getenv(clusterIDEnv)
		}
		if cid == "" && o.configFile != "" {
			cid = c.ClusterID
		}
		id, err = identityFromToken(ctx, deps, tok, tokenCheck{clusterID: cid, partition: o.partition, stsRegions: o.stsRegions, stsHosts: o.stsHosts})
		if err != nil {
			return err
		}
		note = "verified at STS for cluster id " + cid
	} else {
		id, note, err = identityFromARN(args[0], o.session, o.userID, o.accessKeyID)
		if err != nil {
			return err
		}
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opened, err := openBackends(ctx, c, nil, log, o.wait)
	if err != nil {
		return err
	}
	defer opened.Close()
	rep := newExplainReport(opened.Chain.Explain(ctx, id), note)

	rc, haveKube, err := o.restConfig(deps.getenv)
	if err != nil {
		return err
	}
	switch {
	case haveKube:
		cs, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return fmt.Errorf("kubernetes client: %w", err)
		}
		if asked {
			if req, err = o.req.resolve(cs.Discovery(), req); err != nil {
				return err
			}
		}
		if err := rep.addRBAC(ctx, cs, rc.Host, req, asked); err != nil {
			return err
		}
	case asked:
		return errors.New("--verb/--resource need a cluster to ask: pass --kubeconfig (or set $KUBECONFIG)")
	}
	if o.output == "json" {
		return writeJSON(streams.Out, rep)
	}
	return rep.print(streams.Out)
}

// addRBAC reads the cluster's bindings for the decided username and groups,
// and the authorizer's answer for req when asked. A denied principal has no
// RBAC side.
func (r *explainReport) addRBAC(ctx context.Context, c kubernetes.Interface, host string, req rbacview.Request, asked bool) error {
	if !r.Decision.Authenticated {
		return nil
	}
	snap, err := rbacview.Load(ctx, c)
	if err != nil {
		return fmt.Errorf("rbac of %s: %w", host, err)
	}
	sub := rbacview.Subjects{User: r.Decision.Username, Groups: r.Decision.Groups}
	v := &explainRBAC{Cluster: host, Unrestricted: rbacview.Unrestricted(sub.Groups)}
	for _, m := range snap.For(sub) {
		v.Bindings = append(v.Bindings, bindingOf(m))
	}
	if asked {
		d, err := rbacview.Review(ctx, c, sub, nil, req)
		if err != nil {
			return fmt.Errorf("ask %s: %w", host, err)
		}
		a := &accessAnswer{Request: req.String(), Decision: d}
		for _, m := range rbacview.Granting(snap.For(sub), req) {
			a.GrantedBy = append(a.GrantedBy, m.Binding.String())
		}
		if v.Unrestricted {
			a.GrantedBy = append(a.GrantedBy, rbacview.Masters)
		}
		v.Access = a
	}
	r.RBAC = v
	return nil
}

func bindingOf(m rbacview.Match) bindingView {
	b := bindingView{Binding: m.Binding.String(), Role: m.Binding.RoleString(), Scope: m.Binding.Scope(), Via: m.Via}
	if m.Binding.Role == nil {
		b.RoleMissing = true
	} else {
		b.Rules = rbacview.Summarize(m.Binding.Role.Rules)
		b.Aggregated = m.Binding.Role.Aggregated
	}
	return b
}

// trimDetail keeps one line of a detail.
func trimDetail(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
