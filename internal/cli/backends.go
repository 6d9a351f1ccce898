package cli

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/configmap"
	"github.com/iamgate/iamgate/internal/mapping/crd"
	"github.com/iamgate/iamgate/internal/mapping/dynamicfile"
	"github.com/iamgate/iamgate/internal/mapping/file"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/scrub"
)

// runner is a backend that loads in the background.
type runner interface {
	Run(ctx context.Context) error
	HasSynced() bool
}

// backends are the mappers in backendMode order plus those that need Run.
type backends struct {
	mappers []mapping.Mapper
	runners []runner
}

// ready reports whether every background backend has loaded once, so
// /readyz does not send traffic to a server that would deny everyone.
func (b *backends) ready() bool {
	for _, r := range b.runners {
		if !r.HasSynced() {
			return false
		}
	}
	return true
}

// start runs every background backend until ctx ends.
func (b *backends) start(ctx context.Context, log *slog.Logger) {
	for _, r := range b.runners {
		go func() {
			if err := r.Run(ctx); err != nil {
				log.Error("mapping backend stopped", "backend", r.(mapping.Mapper).Name(), "err", err)
			}
		}()
	}
}

// mountedFile builds the MountedFile backend from the config file's
// entries, nil when backendMode does not name it. Any problem is an error:
// init and server refuse the same files.
func mountedFile(c *config.Config, o rules.Options) (*file.Backend, error) {
	if !slices.Contains(c.Server.BackendMode, config.BackendMountedFile) {
		return nil, nil
	}
	b, err := file.New(config.BackendMountedFile, c.Server.Mappings, o)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", config.BackendMountedFile, err)
	}
	return b, nil
}

// buildBackends creates the backends in backendMode order. The registry is
// this switch, fed by the config: no init-time registration.
func buildBackends(c *config.Config, mo func(string) rules.Options, log *slog.Logger, reg prometheus.Registerer) (*backends, error) {
	out := &backends{}
	var restCfg *rest.Config
	kube := func() (*rest.Config, error) {
		if restCfg != nil {
			return restCfg, nil
		}
		// Both empty means in-cluster, as AIA's DaemonSet runs.
		rc, err := clientcmd.BuildConfigFromFlags(c.Server.Master, c.Server.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubernetes client (--kubeconfig/--master or in-cluster): %w", err)
		}
		rc.UserAgent = "iamgate"
		restCfg = rc
		return rc, nil
	}
	for _, name := range c.Server.BackendMode {
		var m mapping.Mapper
		switch name {
		case config.BackendMountedFile:
			b, err := mountedFile(c, mo(name))
			if err != nil {
				return nil, err
			}
			m = b
		case config.BackendEKSConfigMap:
			rc, err := kube()
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			cs, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			b, err := configmap.New(cs, configmap.Options{Logger: log, Registerer: reg, Mapping: mo(name),
				Scrub: scrub.New(c.Server.ScrubbedAccounts).Replace})
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			m = b
			out.runners = append(out.runners, b)
		case config.BackendCRD:
			rc, err := kube()
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			dc, err := dynamic.NewForConfig(rc)
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			b, err := crd.New(dc, crd.Options{Logger: log, Registerer: reg, Mapping: mo(name)})
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			m = b
			out.runners = append(out.runners, b)
		case config.BackendDynamicFile:
			b, err := dynamicfile.New(c.Server.DynamicFilePath, dynamicfile.Options{
				Logger: log, Registerer: reg, UserIDStrict: c.Server.DynamicFileUserIDStrict, Mapping: mo(name),
			})
			if err != nil {
				return nil, fmt.Errorf("backend %s: %w", name, err)
			}
			m = b
			out.runners = append(out.runners, b)
		default:
			return nil, fmt.Errorf("backend %s is not available in this release", name)
		}
		out.mappers = append(out.mappers, m)
	}
	return out, nil
}
