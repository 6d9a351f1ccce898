package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/certs"
)

// TestInitWritesValidatingWebhook: init writes validating-webhook.yaml next
// to the webhook kubeconfig, with the CA that signs the serving
// certificate, the --hostname and port, and the settings the deploy docs
// explain.
func TestInitWritesValidatingWebhook(t *testing.T) {
	e := newInitEnv(t)
	e.mustRun("--hostname", "iamgate.example.com", "--port", "21400")
	path := filepath.Join(filepath.Dir(e.kubecfg), certs.ValidatingWebhookFile)
	e.wantOut("wrote " + path + " (kubectl apply -f it")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vw admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict(data, &vw); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if vw.Kind != "ValidatingWebhookConfiguration" || len(vw.Webhooks) != 1 {
		t.Fatalf("%s", data)
	}
	w := vw.Webhooks[0]
	if w.ClientConfig.URL == nil || *w.ClientConfig.URL != "https://iamgate.example.com:21400/validate" {
		t.Errorf("url %v", w.ClientConfig.URL)
	}
	if !bytes.Equal(w.ClientConfig.CABundle, e.file(certs.CAFile)) {
		t.Errorf("caBundle is not the state dir's CA")
	}
	if *w.FailurePolicy != admissionregistrationv1.Ignore || *w.SideEffects != admissionregistrationv1.SideEffectClassNone ||
		*w.TimeoutSeconds != 5 || len(w.MatchConditions) != 1 || w.NamespaceSelector == nil {
		t.Errorf("webhook settings: %s", data)
	}
}
