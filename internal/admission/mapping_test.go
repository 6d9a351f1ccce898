package admission

import (
	"encoding/json"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

func mappingObj(arn, username string, groups []string, annotations map[string]string) []byte {
	o := map[string]any{
		"apiVersion": "iamauthenticator.k8s.aws/v1alpha1", "kind": "IAMIdentityMapping",
		"metadata": map[string]any{"name": "m", "annotations": annotations},
		"spec":     map[string]any{"arn": arn, "username": username, "groups": groups},
	}
	b, _ := json.Marshal(o)
	return b
}

func mappingReview(op admissionv1.Operation, obj, old []byte) []byte {
	rv := admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID("uid-1"), Operation: op, Name: "m",
			Kind:     metav1.GroupVersionKind{Group: crdGroup, Version: "v1alpha1", Kind: "IAMIdentityMapping"},
			Resource: metav1.GroupVersionResource{Group: crdGroup, Version: "v1alpha1", Resource: crdResource},
			Object:   runtime.RawExtension{Raw: obj}, OldObject: runtime.RawExtension{Raw: old}}}
	b, _ := json.Marshal(rv)
	return b
}

// TestIAMIdentityMapping: the same rules for IAMIdentityMapping objects.
func TestIAMIdentityMapping(t *testing.T) {
	s := server(t, New(Config{Logger: quiet}))
	admin := mappingObj("arn:aws:iam::111122223333:role/admin", "admin", []string{"system:masters"}, nil)
	cases := []struct {
		name    string
		body    []byte
		allowed bool
		want    string
	}{
		{"good", mappingReview(admissionv1.Create, mappingObj("arn:aws:iam::111122223333:role/dev", "dev", []string{"devs"}, nil), nil), true, ""},
		{"assumed role", mappingReview(admissionv1.Create, mappingObj("arn:aws:sts::111122223333:assumed-role/A/s", "a", nil, nil), nil), false, "[assumed-role-arn]"},
		{"reserved username", mappingReview(admissionv1.Create, mappingObj("arn:aws:iam::111122223333:role/x", "system:x", nil, nil), nil), false, "[reserved-name]"},
		{"masters removed", mappingReview(admissionv1.Update, mappingObj("arn:aws:iam::111122223333:role/admin", "admin", []string{"ops"}, nil), admin), false, "last system:masters grant"},
		{"masters removed on purpose", mappingReview(admissionv1.Update,
			mappingObj("arn:aws:iam::111122223333:role/admin", "admin", []string{"ops"}, map[string]string{AnnotationAllowLockout: "true"}), admin), true, ""},
		{"delete", mappingReview(admissionv1.Delete, nil, admin), true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, r, raw := post(t, s, "application/json", c.body)
			if r.Allowed != c.allowed || (c.want != "" && (r.Result == nil || !strings.Contains(r.Result.Message, c.want))) {
				t.Errorf("allowed %v, want %v with %q: %s", r.Allowed, c.allowed, c.want, raw)
			}
		})
	}
}
