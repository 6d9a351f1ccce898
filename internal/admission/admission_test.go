package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/iamgate/iamgate/internal/lint"
	"github.com/iamgate/iamgate/internal/mapping"
)

const nodeRoles = `- rolearn: arn:aws:iam::111122223333:role/eks-node
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/admin
  username: admin
  groups: [system:masters]
`

func cm(mapRoles string, annotations map[string]string) []byte {
	c := corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system", Annotations: annotations},
		Data:       map[string]string{"mapRoles": mapRoles}}
	b, _ := json.Marshal(c)
	return b
}

func reviewOf(op admissionv1.Operation, obj, old []byte) []byte {
	rv := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID("uid-1"), Operation: op, Namespace: "kube-system", Name: "aws-auth",
			Kind:     metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
			Object:   runtime.RawExtension{Raw: obj}, OldObject: runtime.RawExtension{Raw: old}}}
	b, _ := json.Marshal(rv)
	return b
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// server is the handler on a real TLS listener.
func server(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewTLSServer(h)
	t.Cleanup(s.Close)
	return s
}

func post(t *testing.T, s *httptest.Server, ctype string, body []byte) (int, *admissionv1.AdmissionResponse, string) {
	t.Helper()
	resp, err := s.Client().Post(s.URL+"/validate", ctype, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, string(data)
	}
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &rv); err != nil || rv.Response == nil {
		t.Fatalf("answer %s: %v", data, err)
	}
	if rv.Response.UID != "uid-1" || rv.APIVersion != "admission.k8s.io/v1" || rv.Kind != "AdmissionReview" {
		t.Errorf("answer does not echo the review: %s", data)
	}
	return resp.StatusCode, rv.Response, string(data)
}

func TestDecisions(t *testing.T) {
	s := server(t, New(Config{Logger: quiet}))
	good := cm(nodeRoles, nil)
	cases := []struct {
		name     string
		body     []byte
		allowed  bool
		contains []string
		warnings int
	}{
		{"clean create", reviewOf(admissionv1.Create, good, nil), true, nil, 1}, // the system:masters warning
		{"error refused with its line", reviewOf(admissionv1.Update, cm(nodeRoles+"- rolearn: arn:aws:sts::111122223333:assumed-role/A/s\n  username: a\n", nil), good),
			false, []string{"mapRoles line 7: rolearn is an STS assumed-role ARN", "[assumed-role-arn]"}, 1},
		{"warning only allowed", reviewOf(admissionv1.Update, cm(nodeRoles+"- rolearn: arn:aws:iam::111122223333:role/teams/dev\n  username: dev\n", nil), good),
			true, nil, 2},
		{"node role removed", reviewOf(admissionv1.Update, cm("- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n", nil), good),
			false, []string{"last node-role entry", AnnotationAllowLockout}, 1},
		{"masters removed", reviewOf(admissionv1.Update, cm(nodeRoles[:strings.Index(nodeRoles, "- rolearn: arn:aws:iam::111122223333:role/admin")], nil), good),
			false, []string{"last system:masters grant"}, 0},
		{"lockout annotated", reviewOf(admissionv1.Update, cm("- rolearn: arn:aws:iam::111122223333:role/admin\n  username: admin\n  groups: [system:masters]\n", map[string]string{AnnotationAllowLockout: "true"}), good),
			true, nil, 1},
		{"delete refused", reviewOf(admissionv1.Delete, nil, good), false, []string{AnnotationAllowDelete}, 0},
		{"delete annotated", reviewOf(admissionv1.Delete, nil, cm(nodeRoles, map[string]string{AnnotationAllowDelete: "true"})), true, nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, r, raw := post(t, s, "application/json", c.body)
			if code != 200 || r.Allowed != c.allowed || len(r.Warnings) != c.warnings {
				t.Fatalf("code %d allowed %v warnings %d: %s", code, r != nil && r.Allowed, len(r.Warnings), raw)
			}
			for _, want := range c.contains {
				if r.Result == nil || !strings.Contains(r.Result.Message, want) {
					t.Errorf("message lacks %q: %s", want, raw)
				}
			}
		})
	}
}

// TestAtMostTenFindings: the message lists ten errors and says how many
// more there are.
func TestAtMostTenFindings(t *testing.T) {
	var b strings.Builder
	b.WriteString(nodeRoles)
	for i := 0; i < 14; i++ {
		b.WriteString("- rolearn: <role-arn>\n  username: x\n")
	}
	_, r, _ := post(t, server(t, New(Config{Logger: quiet})), "application/json", reviewOf(admissionv1.Create, cm(b.String(), nil), nil))
	if r.Allowed || strings.Count(r.Result.Message, "[placeholder]") != MaxFindings || !strings.Contains(r.Result.Message, "and 4 more") {
		t.Fatalf("%s", r.Result.Message)
	}
}

// TestStrictRequests: anything but one well-formed AdmissionReview v1 is
// refused with a 4xx, never a 500.
func TestStrictRequests(t *testing.T) {
	s := server(t, New(Config{Logger: quiet}))
	good := reviewOf(admissionv1.Create, cm(nodeRoles, nil), nil)
	var unknown map[string]any
	_ = json.Unmarshal(good, &unknown)
	unknown["extra"] = true
	withUnknown, _ := json.Marshal(unknown)
	cases := []struct {
		name, method, ctype string
		body                []byte
		code                int
	}{
		{"GET", http.MethodGet, "application/json", nil, 405},
		{"text", http.MethodPost, "text/plain", good, 415},
		{"too large", http.MethodPost, "application/json", append(good, bytes.Repeat([]byte(" "), MaxBody)...), 413},
		{"unknown field", http.MethodPost, "application/json", withUnknown, 400},
		{"wrong version", http.MethodPost, "application/json", bytes.Replace(good, []byte("admission.k8s.io/v1"), []byte("admission.k8s.io/v1beta1"), 1), 400},
		{"no request", http.MethodPost, "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400},
		{"two documents", http.MethodPost, "application/json", append(append([]byte{}, good...), good...), 400},
		{"not JSON", http.MethodPost, "application/json", []byte("{"), 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, s.URL+"/validate", bytes.NewReader(c.body))
			req.Header.Set("Content-Type", c.ctype)
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.code {
				t.Errorf("status %d, want %d", resp.StatusCode, c.code)
			}
		})
	}
	if code, r, _ := post(t, s, "application/json; charset=utf-8", good); code != 200 || !r.Allowed {
		t.Errorf("a charset parameter is fine: %d", code)
	}
}

// backendAsked is an earlier backend the lint asks about each entry: it
// can take its time or panic.
type backendAsked struct {
	delay time.Duration
	panic bool
}

func (b backendAsked) Name() string { return "MountedFile" }
func (b backendAsked) Map(ctx context.Context, _ mapping.Identity) (*mapping.Result, error) {
	if b.panic {
		panic("backend broke")
	}
	select {
	case <-time.After(b.delay):
	case <-ctx.Done():
	}
	return nil, mapping.ErrNotMapped
}
func (b backendAsked) Explain(context.Context, mapping.Identity) mapping.Trace {
	return mapping.Trace{}
}

// TestDeadlineAndPanic: a review that cannot finish in time, or panics,
// answers allowed: false with a message, not an HTTP error.
func TestDeadlineAndPanic(t *testing.T) {
	slow := New(Config{Logger: quiet, Deadline: 200 * time.Millisecond, Lint: lint.Options{Earlier: []mapping.Mapper{backendAsked{delay: 3 * time.Second}}}})
	start := time.Now()
	code, r, raw := post(t, server(t, slow), "application/json", reviewOf(admissionv1.Create, cm(nodeRoles, nil), nil))
	if code != 200 || r.Allowed || !strings.Contains(r.Result.Message, "could not check this edit within 200ms") {
		t.Errorf("deadline: %s", raw)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %s", d)
	}
	broken := New(Config{Logger: quiet, Lint: lint.Options{Earlier: []mapping.Mapper{backendAsked{panic: true}}}})
	code, r, raw = post(t, server(t, broken), "application/json", reviewOf(admissionv1.Create, cm(nodeRoles, nil), nil))
	if code != 200 || r.Allowed || !strings.Contains(r.Result.Message, "internal error") {
		t.Errorf("panic: %s", raw)
	}
}
