package cli

import (
	"errors"

	"github.com/spf13/pflag"
	"k8s.io/client-go/discovery"

	"github.com/iamgate/iamgate/internal/rbacview"
)

// requestFlags name one Kubernetes request for the authorizer, as kubectl
// auth can-i does.
type requestFlags struct {
	verb, resource, namespace, subresource, name string
}

func (f *requestFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.verb, "verb", "", "ask the apiserver whether the principal may do this `verb` (with --resource)")
	fs.StringVar(&f.resource, "resource", "", "`resource` of --verb: pods, deployments.apps, pods/log")
	f.addScope(fs)
}

func (f *requestFlags) addScope(fs *pflag.FlagSet) {
	fs.StringVarP(&f.namespace, "namespace", "n", "", "`namespace` of the request (default: cluster-wide / all namespaces)")
	fs.StringVar(&f.subresource, "subresource", "", "`subresource`, e.g. log, exec, scale")
	fs.StringVar(&f.name, "name", "", "the object's `name`, for roles restricted by resourceNames")
}

// request is the request the flags name; asked is false when none was.
// The API group is left for resolve when RESOURCE has none.
func (f *requestFlags) request() (r rbacview.Request, asked bool, err error) {
	if f.verb == "" && f.resource == "" {
		if f.subresource != "" || f.name != "" {
			return r, false, errors.New("--subresource and --name need --verb and --resource")
		}
		return r, false, nil
	}
	if f.verb == "" || f.resource == "" {
		return r, false, errors.New("--verb and --resource go together (e.g. --verb get --resource pods)")
	}
	r, _, err = rbacview.ParseResource(f.resource)
	if err != nil {
		return r, false, err
	}
	if f.subresource != "" {
		if r.Subresource != "" {
			return r, false, errors.New("subresource given twice (in --resource and --subresource)")
		}
		r.Subresource = f.subresource
	}
	r.Verb, r.Namespace, r.Name = f.verb, f.namespace, f.name
	return r, true, nil
}

// resolve fills in the API group of a resource written without one, from
// the cluster's discovery (so "deployments" is apps/deployments).
func (f *requestFlags) resolve(d discovery.DiscoveryInterface, r rbacview.Request) (rbacview.Request, error) {
	if _, dotted, _ := rbacview.ParseResource(f.resource); dotted {
		return r, nil
	}
	g, plural, err := rbacview.ResolveGroup(d, r.Resource)
	if err != nil {
		return r, err
	}
	r.Group, r.Resource = g, plural
	return r, nil
}
