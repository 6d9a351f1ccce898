package certs

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// ValidatingWebhookFile is the name init gives the admission webhook
// registration, written next to the TokenReview webhook kubeconfig.
const ValidatingWebhookFile = "validating-webhook.yaml"

// ValidatingWebhookName is the ValidatingWebhookConfiguration's name.
const ValidatingWebhookName = "iamgate-aws-auth"

// awsAuthOnly keeps every other ConfigMap away from the webhook: rules can
// only name resources, so the name is matched here.
const awsAuthOnly = `request.resource.group != "" || (request.namespace == "kube-system" && request.name == "aws-auth")`

// ValidatingWebhook returns the ValidatingWebhookConfiguration that sends
// aws-auth and IAMIdentityMapping edits to iamgate's POST /validate at
// host:port, trusting caPEM only.
//
// failurePolicy is Ignore: with Fail, every aws-auth edit (the one that
// would fix iamgate, too) is refused while iamgate is down or unreachable.
// An edit made then is not checked; the server still reads it with its
// last-known-good rules.
func ValidatingWebhook(host string, port int, caPEM []byte) ([]byte, error) {
	url := "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/validate"
	ignore := admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(5)
	equivalent := admissionregistrationv1.Equivalent
	ops := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete}
	namespaced, any := admissionregistrationv1.NamespacedScope, admissionregistrationv1.AllScopes
	cfg := admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: ValidatingWebhookName, Labels: map[string]string{"app.kubernetes.io/name": "iamgate"}},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "aws-auth.iamgate.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caPEM},
			AdmissionReviewVersions: []string{"v1"},
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			FailurePolicy:           &ignore,
			MatchPolicy:             &equivalent,
			Rules: []admissionregistrationv1.RuleWithOperations{
				{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}, Scope: &namespaced}},
				{Operations: ops, Rule: admissionregistrationv1.Rule{APIGroups: []string{"iamauthenticator.k8s.aws"}, APIVersions: []string{"*"}, Resources: []string{"iamidentitymappings"}, Scope: &any}},
			},
			// Cluster-scoped objects (IAMIdentityMapping) are never
			// skipped by a namespace selector.
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: []string{"kube-system"}}}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "aws-auth-only", Expression: awsAuthOnly}},
		}},
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode validating webhook: %w", err)
	}
	return bytes.Replace(data, []byte("  creationTimestamp: null\n"), nil, 1), nil
}

// WriteValidatingWebhook writes ValidatingWebhook's manifest to path.
func WriteValidatingWebhook(path, host string, port int, caPEM []byte) error {
	data, err := ValidatingWebhook(host, port, caPEM)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write validating webhook: %w", err)
	}
	return WriteFileAtomic(path, data, 0o644)
}
