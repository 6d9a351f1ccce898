package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// adminFlags choose the mappings the admin commands (mappings, explain,
// who-can, graph, export, lint --live) look at: the server's config file,
// and the live cluster through a kubeconfig.
type adminFlags struct {
	configFile  string
	kubeconfig  string
	backendMode []string
	wait        time.Duration
	gates       string
}

func (f *adminFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.configFile, "config", "c", "", "the server's config `file`: its mappings and backendMode")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig for the live aws-auth ConfigMap and IAMIdentityMapping objects (default: $KUBECONFIG, ~/.kube/config when --backend-mode names them)")
	fs.StringSliceVar(&f.backendMode, "backend-mode", nil, "backends to read, in order (default: the config file's; with --kubeconfig and no config, EKSConfigMap)")
	fs.DurationVar(&f.wait, "timeout", 20*time.Second, "how long to wait for each live backend's first read")
	fs.StringVar(&f.gates, "feature-gates", "", "the server's --feature-gates, e.g. SSORoleMatch=true (they change what entries match)")
}

// config loads what f names. Without -c it is an empty config whose
// backends come from --backend-mode or, with --kubeconfig, EKSConfigMap.
func (f *adminFlags) config(getenv func(string) string) (*config.Config, error) {
	c := &config.Config{}
	if f.configFile != "" {
		var err error
		if c, err = config.Load(f.configFile); err != nil {
			return nil, err
		}
	}
	if len(f.backendMode) > 0 {
		c.Server.BackendMode = f.backendMode
	}
	if f.gates != "" {
		if err := c.SetFeatureGates(f.gates); err != nil {
			return nil, fmt.Errorf("--feature-gates: %w", err)
		}
	}
	if f.kubeconfig != "" {
		c.Server.Kubeconfig = f.kubeconfig
	} else if c.Server.Kubeconfig == "" {
		c.Server.Kubeconfig = getenv("KUBECONFIG")
	}
	if len(c.Server.BackendMode) == 0 {
		switch {
		case f.kubeconfig != "" && f.configFile != "":
			// The file's own mappings (the server's default backend), then
			// the cluster's aws-auth.
			c.Server.BackendMode = []string{config.BackendMountedFile, config.BackendEKSConfigMap}
		case f.kubeconfig != "":
			c.Server.BackendMode = []string{config.BackendEKSConfigMap}
		default:
			c.Server.BackendMode = []string{config.BackendMountedFile}
		}
	} else if f.kubeconfig != "" && f.configFile != "" && len(f.backendMode) == 0 && !slices.Contains(c.Server.BackendMode, config.BackendEKSConfigMap) &&
		!slices.Contains(c.Server.BackendMode, config.BackendCRD) {
		// Asked to look at the cluster: its aws-auth comes after the file
		// (an explicit --backend-mode is taken as written).
		c.Server.BackendMode = append(slices.Clone(c.Server.BackendMode), config.BackendEKSConfigMap)
	}
	if c.ClusterID == "" {
		c.ClusterID = "iamgate-admin" // not used: no token is checked against it
	}
	c.Default()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// namedTable is one backend's table, as the admin commands list it.
type namedTable struct {
	Name  string
	Table *rules.Table
}

// opened are the configured backends started as the server starts them,
// each read once: what they decide is what the server decides.
type opened struct {
	Chain  mapping.Chain
	Tables []namedTable
	stop   context.CancelFunc
	done   chan struct{}
}

// Close stops the live backends' watches.
func (o *opened) Close() {
	o.stop()
	<-o.done
}

// tabler is a backend that can show its table (every backend does).
type tabler interface {
	Table() *rules.Table
}

// openBackends builds c's backends with the server's own options
// (mappingOptions) and starts the live ones, waiting up to wait for each
// first read. lookups, when non-nil, are the IAM group and EC2 resolvers;
// without them group and {{EC2PrivateDNSName}} entries deny, as in a
// server without AWS credentials.
func openBackends(ctx context.Context, c *config.Config, lookups *resolvers, log *slog.Logger, wait time.Duration) (*opened, error) {
	bs, err := buildBackends(c, func(n string) rules.Options {
		o := mappingOptions(c, n)
		o.Logger = log
		if lookups != nil {
			o.Groups, o.EC2 = lookups.groups, lookups.ec2
		}
		return o
	}, log, nil)
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	o := &opened{Chain: bs.mappers, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		bs.start(runCtx, log)
		<-runCtx.Done()
	}()
	deadline := time.Now().Add(wait)
	for !bs.ready() {
		if time.Now().After(deadline) {
			o.Close()
			return nil, fmt.Errorf("backends %s did not read their source within %s (is the cluster reachable, may this kubeconfig get configmaps and iamidentitymappings?)", notReady(bs), wait)
		}
		select {
		case <-ctx.Done():
			o.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, m := range bs.mappers {
		t, ok := m.(tabler)
		if !ok || t.Table() == nil {
			o.Close()
			return nil, errors.New("backend " + m.Name() + " has no table to show")
		}
		o.Tables = append(o.Tables, namedTable{Name: m.Name(), Table: t.Table()})
	}
	return o, nil
}

func notReady(bs *backends) string {
	var names []string
	for _, r := range bs.runners {
		if !r.HasSynced() {
			names = append(names, r.(mapping.Mapper).Name())
		}
	}
	return fmt.Sprint(names)
}

// restConfig is the kubeconfig the admin commands read RBAC through:
// --kubeconfig, else $KUBECONFIG. ok is false when neither is set (the
// commands then say the RBAC side was not read rather than guess).
func (f *adminFlags) restConfig(getenv func(string) string) (rc *rest.Config, ok bool, err error) {
	path := f.kubeconfig
	if path == "" {
		path = getenv("KUBECONFIG")
	}
	if path == "" {
		return nil, false, nil
	}
	rc, err = clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, true, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	rc.UserAgent = "iamgate-diagnostics"
	// who-can sends one SubjectAccessReview per distinct username and
	// groups: client-go's default 5 requests/s would make 2,000 of them
	// take minutes. The apiserver's own priority and fairness still applies.
	rc.QPS, rc.Burst = 500, 1000
	return rc, true, nil
}
