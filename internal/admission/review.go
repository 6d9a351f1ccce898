package admission

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/iamgate/iamgate/internal/lint"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

const (
	crdGroup    = "iamauthenticator.k8s.aws"
	crdResource = "iamidentitymappings"
)

func allow(warnings []string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: true, Warnings: warnings}
}

func deny(msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{Allowed: false, Result: &metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: msg}}
}

// review decides one request.
func review(req *admissionv1.AdmissionRequest, o lint.Options) *admissionv1.AdmissionResponse {
	switch {
	case req.Resource.Group == "" && req.Resource.Resource == "configmaps":
		if req.Namespace != "kube-system" || req.Name != "aws-auth" {
			return allow(nil) // not ours: the selectors should not have sent it
		}
		return reviewConfigMap(req, o)
	case req.Resource.Group == crdGroup && req.Resource.Resource == crdResource:
		return reviewMapping(req, o)
	}
	return allow(nil)
}

type object struct {
	metav1.ObjectMeta `json:"metadata"`
}

func annotated(raw []byte, key string) bool {
	var o object
	if len(raw) == 0 || json.Unmarshal(raw, &o) != nil {
		return false
	}
	return o.Annotations[key] == "true"
}

func reviewConfigMap(req *admissionv1.AdmissionRequest, o lint.Options) *admissionv1.AdmissionResponse {
	if req.Operation == admissionv1.Delete {
		if annotated(req.OldObject.Raw, AnnotationAllowDelete) {
			return allow([]string{"kube-system/aws-auth deleted: nodes and users mapped only there can no longer authenticate"})
		}
		return deny(fmt.Sprintf("refusing to delete kube-system/aws-auth: every node and user mapped there would lose access; "+
			"to delete it anyway, first annotate it: kubectl annotate -n kube-system configmap aws-auth %s=true", AnnotationAllowDelete))
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow(nil)
	}
	var cm corev1.ConfigMap
	if err := json.Unmarshal(req.Object.Raw, &cm); err != nil {
		return deny("iamgate could not read the ConfigMap: " + err.Error())
	}
	src := awsauth.Source{Backend: "EKSConfigMap", Object: "kube-system/aws-auth"}
	fs := lint.ConfigMapData(cm.Data, src, o)
	var lost []string
	if req.Operation == admissionv1.Update && cm.Annotations[AnnotationAllowLockout] != "true" {
		var old corev1.ConfigMap
		if err := json.Unmarshal(req.OldObject.Raw, &old); err == nil {
			before, _, _ := awsauth.ParseData(old.Data, src)
			after, ps, _ := awsauth.ParseData(cm.Data, src)
			if !mapping.HasFatal(ps) { // else the lint errors say it all: nothing new loads
				lost = lockout(before, after)
			}
		}
	}
	return answer(fs, lost)
}

func reviewMapping(req *admissionv1.AdmissionRequest, o lint.Options) *admissionv1.AdmissionResponse {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return allow(nil)
	}
	newFs, newEntries, err := lintMapping(req.Object.Raw, o)
	if err != nil {
		return deny(err.Error())
	}
	var lost []string
	if req.Operation == admissionv1.Update && !annotated(req.Object.Raw, AnnotationAllowLockout) {
		if _, oldEntries, err := lintMapping(req.OldObject.Raw, o); err == nil {
			lost = lockout(oldEntries, newEntries)
		}
	}
	return answer(newFs, lost)
}

// lintMapping lints an IAMIdentityMapping given as JSON, rendered as the
// YAML kubectl prints so that lines mean something.
func lintMapping(raw []byte, o lint.Options) ([]lint.Finding, []mapping.Entry, error) {
	data, err := yaml.JSONToYAML(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("iamgate could not read the IAMIdentityMapping: %w", err)
	}
	fs := lint.File("", data, o)
	var spec struct {
		Spec struct {
			ARN      string   `json:"arn"`
			Username string   `json:"username"`
			Groups   []string `json:"groups"`
		} `json:"spec"`
	}
	_ = json.Unmarshal(raw, &spec)
	e := mapping.Entry{Kind: mapping.KindRole, ARN: spec.Spec.ARN, Username: spec.Spec.Username, Groups: spec.Spec.Groups}
	return fs, []mapping.Entry{e}, nil
}

// lockout names what the edit takes away that the old object had: its
// last node-role entry, its last system:masters grant.
func lockout(before, after []mapping.Entry) []string {
	count := func(es []mapping.Entry, f func(mapping.Entry) bool) int {
		n := 0
		for _, e := range es {
			if f(e) {
				n++
			}
		}
		return n
	}
	var lost []string
	if count(before, lint.IsNodeEntry) > 0 && count(after, lint.IsNodeEntry) == 0 {
		lost = append(lost, "it removes the last node-role entry (username system:node:{{EC2PrivateDNSName}}, group system:nodes): nodes could no longer join")
	}
	if count(before, lint.GrantsMasters) > 0 && count(after, lint.GrantsMasters) == 0 {
		lost = append(lost, "it removes the last system:masters grant: nobody mapped here could administer the cluster")
	}
	return lost
}

// answer: errors refuse, listing up to MaxFindings; warnings are passed on.
func answer(fs []lint.Finding, lost []string) *admissionv1.AdmissionResponse {
	var errs, warns []string
	for _, f := range fs {
		line := format(f)
		if f.Severity == lint.Error {
			errs = append(errs, line)
		} else {
			warns = append(warns, line)
		}
	}
	if len(errs) == 0 && len(lost) == 0 {
		return allow(warns)
	}
	var b strings.Builder
	b.WriteString("iamgate refused this edit")
	for _, l := range lost {
		b.WriteString("; " + l)
	}
	if len(lost) > 0 {
		fmt.Fprintf(&b, " (to do it anyway, set the annotation %s: \"true\")", AnnotationAllowLockout)
	}
	if len(errs) > 0 {
		fmt.Fprintf(&b, "; %d lint errors:", len(errs))
		for i, e := range errs {
			if i == MaxFindings {
				fmt.Fprintf(&b, "\n  … and %d more (run iamgate lint on the manifest)", len(errs)-MaxFindings)
				break
			}
			b.WriteString("\n  " + e)
		}
	}
	r := deny(b.String())
	r.Warnings = warns
	return r
}

// format writes a finding as "mapRoles line N: message [rule]"; lines
// count from the start of that data value.
func format(f lint.Finding) string {
	where := f.Section
	if f.Line > 0 {
		where = strings.TrimSpace(fmt.Sprintf("%s line %d", f.Section, f.Line))
	}
	if where == "" {
		return fmt.Sprintf("%s [%s]", f.Message, f.Rule)
	}
	return fmt.Sprintf("%s: %s [%s]", where, f.Message, f.Rule)
}
