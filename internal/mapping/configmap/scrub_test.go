package configmap

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
)

// Events are written to the cluster, where anyone who may read Events in
// kube-system sees them: a scrubbed account's id must not be in them.
func TestEventsScrubbed(t *testing.T) {
	rec := record.NewFakeRecorder(10)
	b, err := New(unreachableClient(t), Options{Recorder: rec, Logger: testLogger(t),
		Scrub: func(s string) string { return strings.ReplaceAll(s, "444455556666", "[scrubbed]") }})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []map[string]string{
		{"mapRoles": "- rolearn: arn:aws:iam::444455556666:role/a\n  username: system:admin\n"},                                                   // skipped entry
		{"mapRoles": "- rolearn: arn:aws:iam::444455556666:role/*\n  username: a\n- rolearn: arn:aws:iam::444455556666:role/*x\n  username: b\n"}, // refused
	} {
		b.mu.Lock()
		b.apply(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: DefaultNamespace, Name: DefaultName, ResourceVersion: "1"}, Data: data})
		b.mu.Unlock()
		select {
		case ev := <-rec.Events:
			if strings.Contains(ev, "444455556666") || !strings.Contains(ev, "[scrubbed]") {
				t.Errorf("event = %q, want the account scrubbed", ev)
			}
		default:
			t.Errorf("no event for %v", data)
		}
	}
}
