package rbacview

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Request is one resource request, as kubectl auth can-i spells it.
type Request struct {
	Verb        string
	Group       string // API group; "" is the core group
	Resource    string
	Subresource string
	Namespace   string // "" for a cluster-scoped resource or all namespaces
	Name        string
}

// String reads like "get pods/log (name web) in namespace ns".
func (r Request) String() string {
	var b strings.Builder
	b.WriteString(r.Verb + " " + r.Resource)
	if r.Group != "" {
		b.WriteString("." + r.Group)
	}
	if r.Subresource != "" {
		b.WriteString("/" + r.Subresource)
	}
	if r.Name != "" {
		b.WriteString(" (name " + r.Name + ")")
	}
	if r.Namespace != "" {
		b.WriteString(" in namespace " + r.Namespace)
	} else {
		b.WriteString(" cluster-wide")
	}
	return b.String()
}

// RulesAllow says whether any rule allows req, following RBAC's matching:
// "*" matches any verb, group or resource, "*/sub" any resource's
// subresource sub, and a rule with resourceNames only requests naming one.
func RulesAllow(rules []rbacv1.PolicyRule, req Request) bool {
	for i := range rules {
		if ruleAllows(&rules[i], req) {
			return true
		}
	}
	return false
}

func ruleAllows(r *rbacv1.PolicyRule, req Request) bool {
	if !has(r.Verbs, req.Verb) || !has(r.APIGroups, req.Group) {
		return false
	}
	res := req.Resource
	if req.Subresource != "" {
		res += "/" + req.Subresource
	}
	ok := false
	for _, x := range r.Resources {
		if x == rbacv1.ResourceAll || x == res || (req.Subresource != "" && x == "*/"+req.Subresource) {
			ok = true
			break
		}
	}
	if !ok {
		return false
	}
	return len(r.ResourceNames) == 0 || (req.Name != "" && slices.Contains(r.ResourceNames, req.Name))
}

func has(set []string, v string) bool {
	return slices.Contains(set, "*") || slices.Contains(set, v)
}

// Summarize writes rules compactly, one line per rule:
// "get,list,watch pods,pods/log" or "* *.* (names a,b)" or "get /healthz".
func Summarize(rules []rbacv1.PolicyRule) []string {
	out := make([]string, 0, len(rules))
	for _, r := range rules {
		out = append(out, summarize(r))
	}
	return out
}

func summarize(r rbacv1.PolicyRule) string {
	verbs := strings.Join(r.Verbs, ",")
	if len(r.NonResourceURLs) > 0 {
		return verbs + " " + strings.Join(r.NonResourceURLs, ",")
	}
	var res []string
	for _, g := range r.APIGroups {
		for _, x := range r.Resources {
			switch g {
			case "":
				res = append(res, x)
			default:
				res = append(res, x+"."+g)
			}
		}
	}
	s := verbs + " " + strings.Join(res, ",")
	if len(r.ResourceNames) > 0 {
		s += " (names " + strings.Join(r.ResourceNames, ",") + ")"
	}
	return s
}
