package rbacview

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Decision is the apiserver's answer to a SubjectAccessReview.
type Decision struct {
	Allowed bool   `json:"allowed"`
	Denied  bool   `json:"denied,omitempty"` // an authorizer said no outright
	Reason  string `json:"reason,omitempty"` // e.g. RBAC's `allowed by ClusterRoleBinding "x" ...`
	Error   string `json:"evaluationError,omitempty"`
}

// Review asks the cluster's own authorizer whether sub may do req. The
// groups are sent with system:authenticated added, as the apiserver adds it
// to a real request; a user that is empty (unknown) is sent as groups only.
func Review(ctx context.Context, c kubernetes.Interface, sub Subjects, extra map[string][]string, req Request) (Decision, error) {
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
		User:   sub.User,
		Groups: WithAuthenticated(sub.Groups),
		ResourceAttributes: &authzv1.ResourceAttributes{
			Namespace: req.Namespace, Verb: req.Verb, Group: req.Group, Resource: req.Resource,
			Subresource: req.Subresource, Name: req.Name,
		},
	}}
	if len(extra) > 0 {
		sar.Spec.Extra = map[string]authzv1.ExtraValue{}
		for k, v := range extra {
			sar.Spec.Extra[k] = v
		}
	}
	got, err := c.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return Decision{}, Explain(err, "create", "subjectaccessreviews.authorization.k8s.io", "")
	}
	return Decision{Allowed: got.Status.Allowed, Denied: got.Status.Denied, Reason: got.Status.Reason, Error: got.Status.EvaluationError}, nil
}

// ErrForbidden is wrapped by Explain when the kubeconfig's identity lacks a
// permission the diagnostics need.
var ErrForbidden = errors.New("missing permission")

// ErrUnreachable is wrapped by Explain when the cluster cannot be reached.
var ErrUnreachable = errors.New("cluster unreachable")

// ClusterRoleFile is the shipped ClusterRole holding every permission the
// diagnostics use; errors point to it.
const ClusterRoleFile = "deploy/rbac/diagnostics-clusterrole.yaml"

// Explain turns a client error into one line saying what is missing and
// how to get it: the permission (verb, resource) for a 403, the
// credentials for a 401, the address for a network error.
func Explain(err error, verb, resource, ns string) error {
	where := "cluster-wide"
	if ns != "" {
		where = "in namespace " + ns
	}
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w: this kubeconfig may not %s %s %s; bind the ClusterRole in %s to it (kubectl apply -f %s; kubectl create clusterrolebinding iamgate-diagnostics --clusterrole=iamgate-diagnostics --user=YOU)",
			ErrForbidden, verb, resource, where, ClusterRoleFile, ClusterRoleFile)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: the cluster rejected this kubeconfig's credentials (401) when trying to %s %s; check them with kubectl auth whoami", ErrForbidden, verb, resource)
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return fmt.Errorf("%w: %s %s: %w (check the kubeconfig's server address and that the cluster is up)", ErrUnreachable, verb, resource, err)
	}
	return fmt.Errorf("%s %s: %w", verb, resource, err)
}
