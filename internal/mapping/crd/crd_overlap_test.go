package crd

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
)

// wantCondition waits until name's Valid condition has reason and a message
// containing every part.
func wantCondition(t *testing.T, dyn dynamic.Interface, name, reason string, parts ...string) {
	t.Helper()
	eventually(t, reason+" on "+name, func() bool {
		c, ok := validCondition(t, dyn, name)
		if !ok || c.Reason != reason || c.Status != conditionStatus(reason == ReasonValid) {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(c.Message, p) {
				return false
			}
		}
		return true
	})
}

func deleteObject(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	if err := dyn.Resource(GVR).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete %s: %v", name, err)
	}
}

// testOverlappingPatterns: the security review's repro. A pattern object
// overlapping an older one is rejected, and so is the older one; replacing
// the older one (or deleting it once replaced) brings neither into force.
func testOverlappingPatterns(t *testing.T, dyn dynamic.Interface) {
	deleteAll(t, dyn)
	create(t, dyn, object("ci-b", roleARN("ci-*"), "ci-old", nil, ""))
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has one-second resolution
	create(t, dyn, object("ci-a", roleARN("ci-*x"), "ci-admin", []string{"system:masters"}, ""))
	b := start(t, dyn, Options{})
	waitObjects(t, b, "ci-b", "ci-a")
	noGrant := func(when string) {
		t.Helper()
		for _, role := range []string{"ci-foo", "ci-foox"} {
			if id := session(role, "s"); !denied(b, id) {
				t.Errorf("%s: %s maps to %q, want a deny", when, role, username(b, id))
			}
		}
	}
	noGrant("overlapping pair")
	wantCondition(t, dyn, "ci-a", ReasonInvalidSpec, "same literal prefix", `"ci-b"`)
	wantCondition(t, dyn, "ci-b", ReasonInvalidSpec, "same literal prefix", `"ci-a"`)

	time.Sleep(1100 * time.Millisecond)
	create(t, dyn, object("ci-c", roleARN("ci-*"), "ci-new", nil, ""))
	waitObjects(t, b, "ci-b", "ci-a", "ci-c")
	noGrant("ci-c replaces ci-b")
	wantCondition(t, dyn, "ci-b", ReasonDuplicateARN, `"ci-c"`)
	wantCondition(t, dyn, "ci-c", ReasonInvalidSpec, "same literal prefix", `"ci-a"`)
	wantCondition(t, dyn, "ci-a", ReasonInvalidSpec, "same literal prefix", `"ci-c"`)

	deleteObject(t, dyn, "ci-b")
	waitObjects(t, b, "ci-a", "ci-c")
	noGrant("superseded ci-b deleted")

	// Deleting the last object for ci-* ends the conflict.
	deleteObject(t, dyn, "ci-c")
	waitObjects(t, b, "ci-a")
	if got := username(b, session("ci-foox", "s")); got != "ci-admin" {
		t.Errorf("ci-foox maps to %q once ci-a overlaps nothing, want ci-admin", got)
	}
	wantCondition(t, dyn, "ci-a", ReasonValid)
}

// testSameSecondTie: an older valid object and a newer invalid one created
// in the same second (the name would have made the valid one win): the
// role is denied and both statuses say why.
func testSameSecondTie(t *testing.T, dyn dynamic.Interface) {
	for try := 0; ; try++ {
		deleteAll(t, dyn)
		create(t, dyn, object("b-older", roleARN("tied"), "admin", []string{"system:masters"}, ""))
		create(t, dyn, object("a-newer-invalid", roleARN("tied"), "aws:admin", nil, ""))
		x, y := get(t, dyn, "b-older").GetCreationTimestamp(), get(t, dyn, "a-newer-invalid").GetCreationTimestamp()
		if x.Equal(&y) {
			break
		}
		if try == 5 {
			t.Fatal("could not create two objects in one second")
		}
	}
	b := start(t, dyn, Options{})
	waitObjects(t, b, "b-older", "a-newer-invalid")
	if !denied(b, session("tied", "s")) {
		t.Errorf("tied maps to %q, want a deny", username(b, session("tied", "s")))
	}
	wantCondition(t, dyn, "b-older", ReasonDuplicateARN, "same second", `"a-newer-invalid"`, "delete")
	wantCondition(t, dyn, "a-newer-invalid", ReasonInvalidSpec, "same second", `"b-older"`, "denied")

	deleteObject(t, dyn, "a-newer-invalid")
	waitObjects(t, b, "b-older")
	if got := username(b, session("tied", "s")); got != "admin" {
		t.Errorf("tied maps to %q after the delete, want admin", got)
	}
	wantCondition(t, dyn, "b-older", ReasonValid)
}
