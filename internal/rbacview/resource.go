package rbacview

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/client-go/discovery"
)

// ParseResource splits kubectl's RESOURCE[.GROUP][/SUBRESOURCE] form, e.g.
// "deployments.apps", "pods/log". ok is false when no group was written,
// so the caller may ask discovery for it.
func ParseResource(s string) (r Request, ok bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return r, false, errors.New("no resource given (e.g. pods, deployments.apps, pods/log)")
	}
	res, sub, _ := strings.Cut(s, "/")
	name, group, dotted := strings.Cut(res, ".")
	if name == "" || strings.Contains(sub, "/") {
		return r, false, fmt.Errorf("resource %q: want RESOURCE[.GROUP][/SUBRESOURCE], e.g. deployments.apps or pods/log", s)
	}
	r.Resource, r.Group, r.Subresource = strings.ToLower(name), group, sub
	return r, dotted, nil
}

// ResolveGroup finds the API group serving resource by name (plural,
// singular or short name) the way kubectl does, core group first. A
// resource discovery does not know is an error naming it.
func ResolveGroup(d discovery.DiscoveryInterface, resource string) (group, plural string, err error) {
	_, lists, err := d.ServerGroupsAndResources()
	if err != nil && len(lists) == 0 {
		return "", "", Explain(err, "discover", "API resources", "")
	}
	var found []string
	for _, l := range lists {
		gv := l.GroupVersion
		g, _, isGrouped := strings.Cut(gv, "/")
		if !isGrouped {
			g = ""
		}
		for _, ar := range l.APIResources {
			if strings.Contains(ar.Name, "/") {
				continue
			}
			match := ar.Name == resource || ar.SingularName == resource
			for _, sn := range ar.ShortNames {
				match = match || sn == resource
			}
			if match {
				if g == "" {
					return "", ar.Name, nil
				}
				found = append(found, g+"\x00"+ar.Name)
			}
		}
	}
	if len(found) == 0 {
		return "", "", fmt.Errorf("the cluster serves no resource %q (kubectl api-resources lists them)", resource)
	}
	g, p, _ := strings.Cut(found[0], "\x00")
	return g, p, nil
}
