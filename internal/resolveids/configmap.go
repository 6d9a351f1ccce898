package resolveids

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// The ConfigMap EKS (and EKS Anywhere) map identities with.
const (
	AWSAuthNamespace = "kube-system"
	AWSAuthName      = "aws-auth"
)

// beforeUpdate, when set by a test, runs between reading the ConfigMap and
// updating it, to make a concurrent edit land in that window.
var beforeUpdate func(attempt int)

// ResolveConfigMap resolves the userids in a ConfigMap's mapRoles and
// mapUsers and, with o.Write, updates it. The update carries the
// resourceVersion of the read, so an edit made by someone else meanwhile is
// never overwritten: on a conflict the ConfigMap is read again and the
// entries are resolved afresh (IAM answers are remembered, so IAM is not
// asked twice). Other keys (mapAccounts, anything else) are left as they
// are; a list that needs no change is left byte for byte.
func ResolveConfigMap(ctx context.Context, client kubernetes.Interface, namespace, name string, l *Lookup, o Options) (*Report, error) {
	var r *Report
	attempt := 0
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		attempt++
		r = &Report{Target: "configmap " + namespace + "/" + name, Account: l.Partition() + ":" + l.Account(), Attempts: attempt}
		cm, err := client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		updated, err := resolveConfigMapData(ctx, cm, l, o, r)
		if err != nil || !updated {
			return err
		}
		if beforeUpdate != nil {
			beforeUpdate(attempt)
		}
		_, err = client.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "iamgate-resolve-ids"})
		if err == nil {
			r.Written = true
		}
		return err // unwrapped: RetryOnConflict must see a Conflict as is
	})
	if err != nil {
		return r, fmt.Errorf("configmap %s/%s: %w", namespace, name, err)
	}
	return r, nil
}

// resolveConfigMapData resolves and edits cm.Data in place. It returns true
// when cm should be written.
func resolveConfigMapData(ctx context.Context, cm *corev1.ConfigMap, l *Lookup, o Options, r *Report) (bool, error) {
	var (
		todo  []section
		found bool
	)
	for _, sec := range []struct {
		key   string
		roles bool
	}{{"mapRoles", true}, {"mapUsers", false}} {
		text, ok := cm.Data[sec.key]
		if !ok {
			continue
		}
		found = true
		s, err := parseEmbedded(sec.key, sec.roles, text)
		if err != nil {
			return false, err
		}
		cs, err := resolveSection(ctx, l, &s, o)
		if err != nil {
			return false, err
		}
		r.Changes = append(r.Changes, cs...)
		if len(s.edits) > 0 {
			todo = append(todo, s)
		}
	}
	if !found {
		return false, fmt.Errorf("no mapRoles or mapUsers in the ConfigMap")
	}
	if n := r.Count(Failed); n > 0 {
		return false, fmt.Errorf("%d %w", n, ErrLookupFailed)
	}
	if !o.Write || len(todo) == 0 {
		return false, nil
	}
	for _, s := range todo {
		text, err := s.emb.render(s.seq, s.edits)
		if err != nil {
			return false, fmt.Errorf("%s: %w", s.where, err)
		}
		cm.Data[s.where] = text
	}
	return true, nil
}
