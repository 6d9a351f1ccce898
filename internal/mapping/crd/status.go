package crd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// condition is the Valid condition as stored in status.conditions.
type condition struct {
	Type               string `json:"type"`
	Status             string `json:"status"`
	Reason             string `json:"reason"`
	Message            string `json:"message"`
	ObservedGeneration int64  `json:"observedGeneration"`
	LastTransitionTime string `json:"lastTransitionTime"`
}

// currentCondition returns the object's Valid condition, if any.
func currentCondition(o *unstructured.Unstructured) (condition, bool) {
	conds, _, _ := unstructured.NestedSlice(o.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != ConditionValid {
			continue
		}
		var out condition
		out.Type = ConditionValid
		out.Status, _ = m["status"].(string)
		out.Reason, _ = m["reason"].(string)
		out.Message, _ = m["message"].(string)
		out.LastTransitionTime, _ = m["lastTransitionTime"].(string)
		switch g := m["observedGeneration"].(type) {
		case int64:
			out.ObservedGeneration = g
		case float64:
			out.ObservedGeneration = int64(g)
		}
		return out, true
	}
	return condition{}, false
}

func conditionStatus(valid bool) string {
	if valid {
		return string(metav1.ConditionTrue)
	}
	return string(metav1.ConditionFalse)
}

// statusMatches reports whether o's status already says v (the transition
// time aside), so no write is needed. Comparing instead of writing blindly
// keeps several iamgate replicas from rewriting each other.
func statusMatches(o *unstructured.Unstructured, v verdict) bool {
	canon, _, _ := unstructured.NestedString(o.Object, "status", "canonicalARN")
	uid, _, _ := unstructured.NestedString(o.Object, "status", "userID")
	c, ok := currentCondition(o)
	// An invalid object gets no canonicalARN from us, and an object not in
	// use no userID; a value another writer left there is not ours to
	// remove. (One we wrote goes with our next apply: the condition always
	// changes along with it.)
	return ok && (canon == v.canonicalARN || v.canonicalARN == "") && (uid == v.userID || v.userID == "") &&
		c.Status == conditionStatus(v.valid) && c.Reason == v.reason &&
		c.Message == v.message && c.ObservedGeneration == v.generation && c.LastTransitionTime != ""
}

// statusWorker writes queued status updates until the queue shuts down.
func (b *Backend) statusWorker(ctx context.Context) {
	for {
		name, shutdown := b.queue.Get()
		if shutdown {
			return
		}
		wrote, err := b.syncStatus(ctx, name)
		switch {
		case err != nil:
			b.log.Warn("cannot write IAMIdentityMapping status; will retry", "name", name, "err", err)
			b.queue.AddRateLimited(name)
		case !wrote:
			b.queue.Forget(name)
		}
		// After a write the backoff is kept until the status is seen
		// unchanged, so a writer fighting us slows both down.
		b.queue.Done(name)
	}
}

// syncStatus applies the latest verdict for name to its status subresource
// with server-side apply: iamgate owns status.canonicalARN, status.userID
// and the Valid condition only (conditions is a list-map keyed by type).
// status.userID is spec.userID while the object is in use (the pin in
// force), and absent otherwise: iamgate does not look IDs up in IAM, and
// aws-iam-authenticator never fills the field. Fields left out of an apply
// that we applied before are removed by the apiserver.
func (b *Backend) syncStatus(ctx context.Context, name string) (bool, error) {
	item, exists, err := b.informer.GetStore().GetByKey(name)
	if err != nil || !exists {
		return false, err
	}
	o, ok := item.(*unstructured.Unstructured)
	if !ok {
		return false, nil
	}
	v, ok := b.snap.Load().verdicts[name]
	if !ok || v.generation != o.GetGeneration() || statusMatches(o, v) {
		return false, nil // a rebuild for the newer spec is pending and will queue it again
	}
	c := condition{Type: ConditionValid, Status: conditionStatus(v.valid), Reason: v.reason,
		Message: v.message, ObservedGeneration: v.generation}
	if cur, ok := currentCondition(o); ok && cur.Status == c.Status && cur.LastTransitionTime != "" {
		c.LastTransitionTime = cur.LastTransitionTime
	} else {
		c.LastTransitionTime = b.now().UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	status := map[string]any{"conditions": []condition{c}}
	if v.canonicalARN != "" {
		status["canonicalARN"] = v.canonicalARN
	}
	if v.userID != "" {
		status["userID"] = v.userID
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": Group + "/" + Version,
		"kind":       Kind,
		"metadata":   map[string]any{"name": name},
		"status":     status,
	})
	if err != nil {
		return false, fmt.Errorf("encode status: %w", err)
	}
	force := true
	_, err = b.client.Resource(GVR).Patch(ctx, name, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: FieldManager, Force: &force}, "status")
	if apierrors.IsNotFound(err) || ctx.Err() != nil {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("apply status of %s: %w", name, err)
	}
	return true, nil
}
