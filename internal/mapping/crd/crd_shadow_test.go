package crd

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/iamgate/iamgate/internal/mapping"
)

// denied reports whether b denies id with a mapping error (neither a result
// nor ErrNotMapped, which would let a later backend decide).
func denied(b *Backend, id mapping.Identity) bool {
	_, err := b.Map(context.Background(), id)
	return err != nil && !errors.Is(err, mapping.ErrNotMapped) && !errors.Is(err, ErrNotSynced)
}

// username is what b maps id to, "" when it does not (for any reason).
func username(b *Backend, id mapping.Identity) string {
	r, err := b.Map(context.Background(), id)
	if err != nil {
		return ""
	}
	return r.Username
}

func statusUserID(t *testing.T, dyn dynamic.Interface, name string) (string, bool) {
	t.Helper()
	uid, found, _ := unstructured.NestedString(get(t, dyn, name).Object, "status", "userID")
	return uid, found
}

func patchSpec(t *testing.T, dyn dynamic.Interface, name, spec string) {
	t.Helper()
	if _, err := dyn.Resource(GVR).Patch(context.Background(), name, types.MergePatchType,
		[]byte(`{"spec":`+spec+`}`), metav1.PatchOptions{}); err != nil {
		t.Fatalf("patch %s: %v", name, err)
	}
}

// testInvalidNewerShadows: an admin replaces a broad grant with a newer
// object that turns out invalid. The role is denied (not given the older,
// broader mapping) until the newer object is fixed or deleted; statuses say
// so; status.userID mirrors spec.userID only while the object is in use.
func testInvalidNewerShadows(t *testing.T, dyn dynamic.Interface) {
	deleteAll(t, dyn)
	create(t, dyn, object("z-broad", roleARN("shadowed"), "old", []string{"system:masters"}, ""))
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has one-second resolution
	create(t, dyn, object("a-narrow", roleARN("Shadowed"), "aws:narrow", []string{"viewers"}, ""))
	b := start(t, dyn, Options{})
	waitObjects(t, b, "z-broad", "a-narrow")
	if !denied(b, session("shadowed", "s")) {
		r, err := b.Map(context.Background(), session("shadowed", "s"))
		t.Fatalf("shadowed: %+v, %v; want a deny: the newest object for the role is invalid", r, err)
	}
	eventually(t, "DuplicateARN on the older object", func() bool {
		c, ok := validCondition(t, dyn, "z-broad")
		return ok && c.Status == "False" && c.Reason == ReasonDuplicateARN &&
			strings.Contains(c.Message, `"a-narrow"`) && strings.Contains(c.Message, "denied")
	})
	eventually(t, "InvalidSpec on the newer object", func() bool {
		c, ok := validCondition(t, dyn, "a-narrow")
		return ok && c.Status == "False" && c.Reason == ReasonInvalidSpec && strings.Contains(c.Message, "denied here")
	})

	// Fixed (and pinned): the newer object applies, its pin shows in status.
	patchSpec(t, dyn, "a-narrow", `{"username":"narrow","userID":"AROAEXAMPLE1111"}`)
	eventually(t, "fixed newer object used", func() bool { return username(b, session("shadowed", "s")) == "narrow" })
	eventually(t, "status.userID mirrors the pin in force", func() bool {
		c, ok := validCondition(t, dyn, "a-narrow")
		uid, _ := statusUserID(t, dyn, "a-narrow")
		return ok && c.Status == "True" && uid == "AROAEXAMPLE1111"
	})
	if uid, found := statusUserID(t, dyn, "z-broad"); found {
		t.Errorf("superseded object has status.userID %q", uid)
	}

	// Broken again by a live edit: denied again, and the pin is no longer
	// in force, so status.userID goes.
	patchSpec(t, dyn, "a-narrow", `{"userID":"AROA:bad"}`)
	eventually(t, "broken newer object denies", func() bool { return denied(b, session("shadowed", "s")) })
	eventually(t, "status.userID removed from the invalid object", func() bool {
		c, ok := validCondition(t, dyn, "a-narrow")
		_, found := statusUserID(t, dyn, "a-narrow")
		return ok && c.Reason == ReasonInvalidSpec && c.ObservedGeneration == 3 && !found
	})

	// An invalid object whose ARN does not parse names no one: it does not
	// shadow the older object.
	patchSpec(t, dyn, "a-narrow", `{"arn":"arn:aws:iam::1234:role/shadowed","userID":null}`)
	eventually(t, "older object used again", func() bool { return username(b, session("shadowed", "s")) == "old" })

	// Deleting the newer object leaves the older one in use.
	if err := dyn.Resource(GVR).Delete(context.Background(), "a-narrow", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitObjects(t, b, "z-broad")
	eventually(t, "older object Valid=True", func() bool {
		c, ok := validCondition(t, dyn, "z-broad")
		return ok && c.Status == "True"
	})
	if got := mapped(t, b, session("shadowed", "s")); got != "old" {
		t.Errorf("shadowed maps to %q after the delete, want old", got)
	}
}
