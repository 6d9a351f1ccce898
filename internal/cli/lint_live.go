package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	yaml "sigs.k8s.io/yaml"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/lint"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

var iamIdentityMappings = schema.GroupVersionResource{Group: "iamauthenticator.k8s.aws", Version: "v1alpha1", Resource: "iamidentitymappings"}

// lintLive reads the cluster's aws-auth and IAMIdentityMapping objects and
// the groups its RoleBindings and ClusterRoleBindings name, and lints them.
// With -c, the config file's own mappings (MountedFile, asked first) are
// the earlier backend.
func lintLive(ctx context.Context, _ Deps, o *lintOptions, opts lint.Options) ([]lint.Finding, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	kc := o.admin.kubeconfig
	if kc == "" {
		kc = os.Getenv("KUBECONFIG")
	}
	rules0 := clientcmd.NewDefaultClientConfigLoadingRules()
	if kc != "" {
		rules0.ExplicitPath = kc
	}
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules0, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	if o.admin.configFile != "" {
		c, err := config.Load(o.admin.configFile)
		if err != nil {
			return nil, err
		}
		t, _ := rules.Build(config.BackendMountedFile, c.Server.Mappings, rules.Options{})
		opts.Earlier = []mapping.Mapper{t}
	}
	if opts.BoundGroups, err = boundGroups(ctx, cs); err != nil {
		return nil, err
	}
	var out []lint.Finding
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "aws-auth", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		out = append(out, lint.Finding{Severity: lint.Warning, Rule: "no-aws-auth", Object: "kube-system/aws-auth", Index: -1,
			Message: "the cluster has no kube-system/aws-auth ConfigMap: nodes cannot join through it; create it with the node role's entry"})
	case err != nil:
		return nil, fmt.Errorf("get kube-system/aws-auth: %w", err)
	default:
		out = append(out, lint.ConfigMapData(cm.Data, awsauth.Source{Backend: config.BackendEKSConfigMap, Object: "kube-system/aws-auth"}, opts)...)
	}
	dc, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	list, err := dc.Resource(iamIdentityMappings).List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsNotFound(err) || isNoMatch(err):
	case err != nil:
		return nil, fmt.Errorf("list iamidentitymappings: %w", err)
	case len(list.Items) > 0:
		// Lint them as the manifest kubectl would print; lines are those
		// of that rendering.
		data, err := yaml.Marshal(list.UnstructuredContent())
		if err != nil {
			return nil, err
		}
		out = append(out, lint.File("iamidentitymappings (kubectl get iamidentitymappings -o yaml)", data, opts)...)
	}
	return out, nil
}

func isNoMatch(err error) bool {
	var se *apierrors.StatusError
	return errors.As(err, &se) && se.ErrStatus.Code == 404
}

// boundGroups are the groups any RoleBinding or ClusterRoleBinding names.
func boundGroups(ctx context.Context, cs kubernetes.Interface) (map[string]bool, error) {
	out := map[string]bool{}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list clusterrolebindings (for bound groups): %w", err)
	}
	for _, b := range crbs.Items {
		for _, s := range b.Subjects {
			if s.Kind == "Group" {
				out[s.Name] = true
			}
		}
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list rolebindings (for bound groups): %w", err)
	}
	for _, b := range rbs.Items {
		for _, s := range b.Subjects {
			if s.Kind == "Group" {
				out[s.Name] = true
			}
		}
	}
	return out, nil
}
