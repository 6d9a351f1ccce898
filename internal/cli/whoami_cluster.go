package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/awscreds"
	"github.com/iamgate/iamgate/internal/rbacview"
)

// askCluster sends a SelfSubjectReview to the kubeconfig's cluster with
// tok as the only credential (the kubeconfig's own user is not used: the
// question is what the cluster makes of this token).
func (r *whoamiReport) askCluster(ctx context.Context, path, kubeContext, tok string, co *awscreds.Options) error {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	if path == "" {
		rules = clientcmd.NewDefaultClientConfigLoadingRules()
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	raw, err := cc.RawConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	base, err := cc.ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	rc := &rest.Config{Host: base.Host, APIPath: base.APIPath, BearerToken: tok, Timeout: 20 * time.Second,
		TLSClientConfig: rest.TLSClientConfig{Insecure: base.Insecure, ServerName: base.ServerName, CAFile: base.CAFile, CAData: base.CAData},
		Proxy:           base.Proxy, UserAgent: "iamgate-whoami"}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	cl := &whoamiCluster{Server: base.Host, Context: currentContext(raw, kubeContext)}
	r.Cluster = cl
	got, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case err == nil:
		u := got.Status.UserInfo
		cl.Authenticated, cl.Username, cl.UID, cl.Groups = true, u.Username, u.UID, u.Groups
		if len(u.Extra) > 0 {
			cl.Extra = map[string][]string{}
			for k, v := range u.Extra {
				cl.Extra[k] = v
			}
		}
		if rbacview.Unrestricted(u.Groups) {
			cl.Note = "system:masters: unrestricted, RBAC does not limit this identity"
		}
		return nil
	case apierrors.IsUnauthorized(err):
		cl.Causes = r.causes(execOf(raw, cl.Context), co)
		return nil
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s has no SelfSubjectReview API (Kubernetes before 1.28): the token could not be tried there", base.Host)
	}
	return rbacview.Explain(err, "create", "selfsubjectreviews.authentication.k8s.io", "")
}

// iamContext reads the kubeconfig kubectl would use (path, else the
// default rules) and reports whether the context's user signs tokens with
// iamgate, aws-iam-authenticator or "aws eks get-token", and for which
// cluster id. A kubeconfig that cannot be read is simply not kubectl's
// context here; asking it later reports the error.
func iamContext(path, kubeContext string) (clusterID string, ok bool) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
	if path == "" {
		rules = clientcmd.NewDefaultClientConfigLoadingRules()
	}
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return "", false
	}
	ex := execOf(raw, currentContext(raw, kubeContext))
	if ex == nil {
		return "", false
	}
	switch filepath.Base(ex.Command) {
	case "iamgate", "iamgate-core", "aws-iam-authenticator":
		return execArg(ex.Args, "-i", "--cluster-id"), true
	case "aws":
		if slices.Contains(ex.Args, "get-token") {
			return execArg(ex.Args, "--cluster-name"), true
		}
	}
	return "", false
}

func currentContext(raw clientcmdapi.Config, override string) string {
	if override != "" {
		return override
	}
	return raw.CurrentContext
}

// exec is the exec plugin of the context's user, nil when it has none.
func execOf(raw clientcmdapi.Config, context string) *clientcmdapi.ExecConfig {
	c := raw.Contexts[context]
	if c == nil || raw.AuthInfos[c.AuthInfo] == nil {
		return nil
	}
	return raw.AuthInfos[c.AuthInfo].Exec
}

// execArg is the value of the first of flags in args ("-i X", "--cluster-id=X").
func execArg(args []string, flags ...string) string {
	for i, a := range args {
		for _, f := range flags {
			if a == f && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, f+"="); ok {
				return v
			}
		}
	}
	return ""
}

func execEnv(e *clientcmdapi.ExecConfig, name string) string {
	for _, v := range e.Env {
		if v.Name == name {
			return v.Value
		}
	}
	return ""
}

// causes lists why a cluster answers 401 to a token STS vouches for, most
// likely first; what the kubeconfig's exec plugin shows to differ from
// this run is marked likely and moved to the front.
func (r *whoamiReport) causes(ex *clientcmdapi.ExecConfig, co *awscreds.Options) []whoamiCause {
	a, _ := arn.Parse(r.Caller.ARN)
	cid := r.Token.ClusterID
	var out []whoamiCause
	add := func(c whoamiCause) { out = append(out, c) }

	c := whoamiCause{Cause: "wrong cluster id: the token is bound to \"" + cid + "\"; the server's clusterID must be the same",
		Check: "compare with clusterID in the server's config (on EKS: the cluster name; aws eks describe-cluster --name " + cid + ")"}
	if ex != nil {
		if k := execArg(ex.Args, "-i", "--cluster-id", "--cluster-name"); k != "" && k != cid {
			c.Likely, c.Cause = true, "wrong cluster id: kubectl's exec plugin signs for \""+k+"\", this run for \""+cid+"\""
		}
	}
	add(c)
	add(whoamiCause{Cause: "wrong account: STS reports account " + r.Caller.Account + "; no aws-auth entry names this principal in it",
		Check: "iamgate explain " + r.Caller.ARN + " --kubeconfig ADMIN-KUBECONFIG (an admin's view of the mappings)"})
	if a.Type == arn.TypeAssumedRole {
		add(whoamiCause{Cause: "assumed-role ARN in aws-auth: the entry must name the role " + r.CanonicalARN + ", not a session ARN (arn:aws:sts::...:assumed-role/...)",
			Check: "kubectl -n kube-system get configmap aws-auth -o yaml | grep -n " + a.Name})
		add(whoamiCause{Cause: "role path: STS drops the role's path; aws-iam-authenticator matches only " + r.CanonicalARN + " (no path), iamgate both",
			Check: "aws iam get-role --role-name " + a.Name + " --query Role.Arn (the entry must match its path, or have none)"})
	}
	c = whoamiCause{Cause: "token expired or clock skew: servers refuse tokens signed more than 15 minutes from their own clock",
		Check: "date -u here and on the server; skew to STS measured now: " + orNone(r.ClockSkew, "unknown")}
	if r.skew > time.Minute || r.skew < -time.Minute {
		c.Likely = true
	}
	add(c)
	c = whoamiCause{Cause: "credentials of another profile: this run used " + r.Credentials.Description + "; kubectl runs the exec plugin with the kubeconfig's env",
		Check: "kubectl config view --minify -o jsonpath='{.users[0].user.exec}'"}
	if ex != nil {
		profile, _ := co.ProfileName()
		if p := orNone(execEnv(ex, "AWS_PROFILE"), execArg(ex.Args, "--profile")); p != "" && p != profile {
			c.Likely, c.Cause = true, "credentials of another profile: kubectl's exec plugin uses profile \""+p+"\", this run \""+profile+"\""
		}
		if role := execArg(ex.Args, "-r", "--role"); role != r.Credentials.Role {
			c.Likely = true
			c.Cause += fmt.Sprintf("; kubectl's exec plugin assumes role %q, this run %q", role, r.Credentials.Role)
		}
	}
	add(c)
	slices.SortStableFunc(out, func(x, y whoamiCause) int {
		switch {
		case x.Likely && !y.Likely:
			return -1
		case y.Likely && !x.Likely:
			return 1
		}
		return 0
	})
	return out
}
