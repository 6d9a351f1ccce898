package cli

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/iamgate/iamgate/internal/admission"
	"github.com/iamgate/iamgate/internal/certs"
	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/lint"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/metrics/aiacompat"
	"github.com/iamgate/iamgate/internal/scrub"
	"github.com/iamgate/iamgate/internal/server"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

// NewServerCommand runs the TokenReview webhook kube-apiserver calls.
func NewServerCommand(deps Deps, streams Streams) *cobra.Command {
	o := &serverFlags{warn: streams.Err}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the authentication webhook for kube-apiserver",
		Long: `Serve kube-apiserver's TokenReviews: check each token locally, ask STS who
signed it, and map that IAM identity to a Kubernetes user and groups.

Reads aws-iam-authenticator's config file (-c) and flags unchanged. Serves
HTTPS POST /authenticate on --port (21362) and /healthz, /readyz, /metrics
on --health-port (21363). Unless --kubeconfig-pregenerated, missing
certificates and the webhook kubeconfig are created at start, as "iamgate init"
does. Every decision is logged as one audit line; tokens are never logged.

The cluster id comes from -i, else $KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID,
else clusterID in the -c file, as in aws-iam-authenticator. Its global flags
(-c, -l, -i, --feature-gates) may come before "server" too.`,
		Example: `  iamgate server -c /etc/iamgate/config.yaml
  iamgate server -i my-cluster --state-dir /var/iamgate --backend-mode MountedFile --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd, o, deps, streams)
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func runServer(cmd *cobra.Command, o *serverFlags, deps Deps, streams Streams) error {
	c, err := o.load(cmd.Flags(), deps.getenv)
	if err != nil {
		return err
	}
	scrubbed := scrub.New(c.Server.ScrubbedAccounts)
	log := slog.New(scrub.Handler(newLogger(c.Server.LogFormat, streams.Err).Handler(), scrubbed))
	for _, p := range c.Skipped {
		log.Warn("mapping entry skipped", "file", p.Origin.File, "line", p.Origin.Line, "problem", p.Error())
	}
	if !c.Server.KubeconfigPregenerated {
		if _, _, err := ensureServingFiles(c, false, deps); err != nil {
			return err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	res, err := newResolvers(cmd.Context(), c, log, reg)
	if err != nil {
		return err
	}
	bs, err := buildBackends(c, func(n string) rules.Options {
		o := mappingOptions(c, n)
		o.Groups, o.EC2, o.Logger = res.groups, res.ec2, log
		return o
	}, log, reg)
	if err != nil {
		return err
	}
	bs.start(cmd.Context(), log)
	aiacompat.SetBackendMode(reg, c.Server.BackendMode)
	stsMetrics := sts.NewMetrics(reg)
	client := sts.New(sts.Options{Transport: deps.STSTransport, Timeout: c.Server.STSTimeout, Metrics: stsMetrics, Logger: log,
		ExtraRegions: c.Server.STSRegions})
	verifier := sts.NewCachingVerifier(client, sts.CacheOptions{MaxEntries: c.Server.IdentityCacheSize,
		TTL: *c.Server.STSCacheTTL, MaxInFlight: c.Server.STSMaxInFlight, Metrics: stsMetrics, Now: deps.Now})
	srv, err := server.New(server.Config{
		ClusterID:  c.ClusterID,
		Address:    c.Server.Address,
		Port:       c.Server.Port,
		HealthPort: c.Server.HealthPort,
		CertFile:   c.Server.StateDir + "/" + certs.CertFile,
		KeyFile:    c.Server.StateDir + "/" + certs.KeyFile,
		Validator: &token.Validator{
			Partition:  c.Server.Partition,
			STSRegions: c.Server.STSRegions,
			ExtraHosts: c.Server.STSHosts,
			Now:        deps.Now,
		},
		Verifier:         verifier,
		Mappers:          bs.mappers,
		Ready:            bs.ready,
		ScrubbedAccounts: c.Server.ScrubbedAccounts,
		Logger:           log,
		Registry:         reg,
		Now:              deps.Now,
		Version:          Version,
		Admission:        admission.New(admission.Config{Lint: lint.Options{Rules: mappingOptions(c, config.BackendEKSConfigMap)}, Logger: log}),
	})
	if err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	log.Info("iamgate server starting", "clusterID", c.ClusterID, "address", c.Server.Address, "port", c.Server.Port,
		"healthPort", c.Server.HealthPort, "backendMode", c.Server.BackendMode, "partition", c.Server.Partition)
	return srv.Run(cmd.Context())
}

// buildMappers builds the backends without starting them (tests of the
// matching rules use it).
func buildMappers(c *config.Config) ([]mapping.Mapper, error) {
	b, err := buildBackends(c, func(n string) rules.Options { return mappingOptions(c, n) }, slog.Default(), nil)
	if err != nil {
		return nil, err
	}
	return b.mappers, nil
}

// mappingOptions are the rules every backend applies. SSO matching follows
// AIA's SSORoleMatch gate so an AIA config never grants more than it did.
func mappingOptions(c *config.Config, backend string) rules.Options {
	return rules.Options{
		SSORoleMatch:             c.Gate("SSORoleMatch"),
		ReservedUsernamePrefixes: c.Server.ReservedPrefixConfig[backend],
		AllowReserved:            c.Server.ReservedAllowlist,
	}
}
