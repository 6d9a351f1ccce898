package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/certs"
	"github.com/iamgate/iamgate/internal/config"
)

type initOptions struct {
	serverFlags
	force bool
}

// NewInitCommand writes the webhook's CA, serving certificate and the
// kubeconfig kube-apiserver needs.
func NewInitCommand(deps Deps, streams Streams) *cobra.Command {
	o := &initOptions{serverFlags: serverFlags{warn: streams.Err}}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the webhook's certificates and kube-apiserver's webhook kubeconfig",
		Long: `Create a small CA, a serving certificate it signs (ECDSA P-256) and the
kubeconfig that kube-apiserver reads with --authentication-token-webhook-config-file.

Files in the state dir: ca.pem, ca-key.pem, cert.pem, key.pem (cert.pem and
key.pem as aws-iam-authenticator names them). The kubeconfig pins the CA, so
a renewed serving certificate keeps working; "iamgate server" reloads it.

Running init again changes nothing unless a name was added or the serving
certificate is within 30 days of expiry; keys are replaced only with --force.

init also accepts the flags only "iamgate server" uses (--backend-mode,
--kubeconfig, --awsiamconfig ...; see "iamgate server --help"), so one
argument list serves both commands; it checks them with the rest of the
config but does not list them here.`,
		Example: `  iamgate init -i my-cluster --state-dir /var/iamgate \
    --hostname iamgate.example.internal --generate-kubeconfig /etc/kubernetes/iamgate/kubeconfig.yaml
  kube-apiserver --authentication-token-webhook-config-file=/etc/kubernetes/iamgate/kubeconfig.yaml ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runInit(cmd, o, deps, streams)
		},
	}
	o.addFlags(cmd.Flags())
	hideServerOnlyFlags(cmd.Flags())
	cmd.Flags().BoolVar(&o.force, "force", false, "replace existing keys and certificates")
	// Shared with server; on init some only pass aws-iam-authenticator's
	// command lines through.
	cmd.Flags().Lookup("log-format").Usage = logFormatNoEffect + " (it prints what it wrote)"
	cmd.Flags().Lookup("feature-gates").Usage = "aws-iam-authenticator feature `gates`, e.g. SSORoleMatch=true: checked; they change what the server does, not init"
	return cmd
}

func runInit(cmd *cobra.Command, o *initOptions, deps Deps, streams Streams) error {
	c, err := o.load(cmd.Flags(), deps.getenv)
	if err != nil {
		return err
	}
	// Refuse now what "iamgate server" would refuse at start, before
	// anything is written.
	if _, err := mountedFile(c, mappingOptions(c, config.BackendMountedFile)); err != nil {
		return err
	}
	for _, d := range []struct{ flag, path, def string }{
		{"--state-dir", c.Server.StateDir, config.DefaultStateDir},
		{"--generate-kubeconfig", c.Server.GenerateKubeconfig, config.DefaultGenerateKubeconfig},
	} {
		if d.path == d.def && !cmd.Flags().Changed(strings.TrimPrefix(d.flag, "--")) {
			fmt.Fprintf(streams.Err, "using the default %s (%s to choose another)\n", d.path, d.flag)
		}
	}
	res, kcPath, err := ensureServingFiles(c, o.force, deps)
	if err != nil {
		return err
	}
	say := func(done bool, what string) {
		verb := "kept"
		if done {
			verb = "wrote"
		}
		fmt.Fprintf(streams.Out, "%s %s\n", verb, what)
	}
	if res.Adopted {
		fmt.Fprintf(streams.Out, "kept %s/%s (a pair without %s, e.g. aws-iam-authenticator's: pinned as it is; --force replaces it)\n",
			c.Server.StateDir, certs.CertFile, certs.CAFile)
		if len(res.Missing) > 0 {
			fmt.Fprintf(streams.Err, "warning: %s/%s does not cover %s; --force issues a CA-signed one that does\n",
				c.Server.StateDir, certs.CertFile, strings.Join(res.Missing, ", "))
		}
	} else {
		say(res.CreatedCA, c.Server.StateDir+"/"+certs.CAFile)
		say(res.CreatedLeaf, c.Server.StateDir+"/"+certs.CertFile)
	}
	if kcPath != "" {
		fmt.Fprintf(streams.Out, "wrote %s (pass it to kube-apiserver --authentication-token-webhook-config-file)\n", kcPath)
	}
	vwPath, err := writeValidatingWebhook(c, res.CAPEM)
	if err != nil {
		return err
	}
	fmt.Fprintf(streams.Out, "wrote %s (kubectl apply -f it to have iamgate check aws-auth edits)\n", vwPath)
	return nil
}

// writeValidatingWebhook writes the admission webhook registration next to
// the webhook kubeconfig (in the state dir when none is generated), with
// the same host, port and CA.
func writeValidatingWebhook(c *config.Config, caPEM []byte) (string, error) {
	dir := c.Server.StateDir
	if c.Server.GenerateKubeconfig != "" {
		dir = filepath.Dir(c.Server.GenerateKubeconfig)
	}
	path := filepath.Join(dir, certs.ValidatingWebhookFile)
	_, _, host := certNames(&c.Server)
	if err := certs.WriteValidatingWebhook(path, host, c.Server.Port, caPEM); err != nil {
		return "", err
	}
	return path, nil
}

// ensureServingFiles creates or renews the certificates and (unless
// pregenerated) writes the webhook kubeconfig. Both init and server use it.
func ensureServingFiles(c *config.Config, force bool, deps Deps) (certs.Result, string, error) {
	dns, ips, host := certNames(&c.Server)
	res, err := certs.Ensure(certs.Options{StateDir: c.Server.StateDir, Hostnames: dns, IPs: ips, Force: force, Now: deps.Now})
	if err != nil {
		return res, "", fmt.Errorf("state dir %s: %w", c.Server.StateDir, err)
	}
	if c.Server.KubeconfigPregenerated || c.Server.GenerateKubeconfig == "" {
		return res, "", nil
	}
	if err := certs.WebhookKubeconfig(c.Server.GenerateKubeconfig, host, c.Server.Port, res.CAPEM); err != nil {
		return res, "", err
	}
	return res, c.Server.GenerateKubeconfig, nil
}
