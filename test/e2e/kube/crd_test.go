package kube_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The CRD scenarios: IAMIdentityMapping objects created, edited and deleted
// with kubectl as admin, with the CRD installed from deploy/crd.

// TestCRD shares one control plane and one iamgate server (--backend-mode
// CRD) between the IAMIdentityMapping scenarios; each uses its own role and
// object.
func TestAPIServerCRD(t *testing.T) {
	c := startClusterWith(t, clusterOptions{
		serverArgs: []string{"--backend-mode", "CRD"},
		beforeServer: func(t *testing.T, c *cluster) {
			c.admin(t, "apply", "-k", filepath.Join("..", "..", "..", "deploy", "crd"))
			c.admin(t, "wait", "--for", "condition=Established", "--timeout", "30s",
				"crd/iamidentitymappings.iamauthenticator.k8s.aws")
		},
	}, "")
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *cluster)
	}{
		{"ObjectGrants", testCRDObjectGrants},
		{"StatusCanonicalARN", testCRDStatusCanonicalARN},
		{"EditChangesOutcome", testCRDEditChangesOutcome},
		{"DeletedObjectIsUnauthorized", testCRDDeletedObjectIsUnauthorized},
		{"InvalidObjectIsValidFalseAndGrantsNothing", testCRDInvalidObjectGrantsNothing},
		{"InvalidNewerObjectDeniesOlderGrant", testCRDInvalidNewerObjectDenies},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
	}
}

// An IAMIdentityMapping for a role lets the role's sessions in with its
// username and groups.
func testCRDObjectGrants(t *testing.T, c *cluster) {
	if !c.unauthorized(t, c.roleSession(t, "crd-devs", "carol@example.com")) {
		t.Fatal("the crd-devs role got in before any IAMIdentityMapping mapped it")
	}
	c.applyMapping(t, "devs", "arn:aws:iam::111122223333:role/crd-devs", "devs:{{SessionName}}", "crd:devs")

	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "crd-devs", "carol@example.com"), c.id))
	if u.Username != "devs:carol-example.com" || !slices.Contains(u.Groups, "crd:devs") {
		t.Errorf("whoami = %q %v, want devs:carol-example.com in crd:devs", u.Username, u.Groups)
	}
}

// iamgate writes status.canonicalARN (lower-cased, as aws-iam-authenticator
// writes it) and a Valid=True condition on a valid object; the role matches
// ignoring case.
func testCRDStatusCanonicalARN(t *testing.T, c *cluster) {
	c.applyMapping(t, "platform", "arn:aws:iam::111122223333:role/Platform-Admins", "platform:{{SessionName}}", "crd:platform")

	if got := c.mappingField(t, "platform", "{.status.canonicalARN}"); got != "arn:aws:iam::111122223333:role/platform-admins" {
		t.Errorf("status.canonicalARN = %q, want arn:aws:iam::111122223333:role/platform-admins", got)
	}
	if got := c.mappingField(t, "platform", `{.status.conditions[?(@.type=="Valid")].status}`); got != "True" {
		t.Errorf("Valid condition = %q, want True", got)
	}
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "Platform-Admins", "pat"), c.id)); u.Username != "platform:pat" {
		t.Errorf("whoami = %q, want platform:pat", u.Username)
	}
}

// Editing an object changes what its role gets, at once (fresh token).
func testCRDEditChangesOutcome(t *testing.T, c *cluster) {
	c.applyMapping(t, "qa", "arn:aws:iam::111122223333:role/crd-qa", "qa:{{SessionName}}", "crd:qa")
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "crd-qa", "quinn"), c.id)); u.Username != "qa:quinn" {
		t.Fatalf("whoami before the edit = %q, want qa:quinn", u.Username)
	}

	c.applyMapping(t, "qa", "arn:aws:iam::111122223333:role/crd-qa", "qa-lead:{{SessionName}}", "crd:qa-leads")
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "crd-qa", "quinn"), c.id))
	if u.Username != "qa-lead:quinn" || !slices.Contains(u.Groups, "crd:qa-leads") || slices.Contains(u.Groups, "crd:qa") {
		t.Errorf("whoami after the edit = %q %v, want qa-lead:quinn in crd:qa-leads (not crd:qa)", u.Username, u.Groups)
	}
}

// Deleting an object locks its role out: a fresh token is Unauthorized.
func testCRDDeletedObjectIsUnauthorized(t *testing.T, c *cluster) {
	c.applyMapping(t, "ops", "arn:aws:iam::111122223333:role/crd-ops", "ops:{{SessionName}}", "crd:ops")
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "crd-ops", "olga"), c.id)); u.Username != "ops:olga" {
		t.Fatalf("whoami before the delete = %q, want ops:olga", u.Username)
	}

	c.admin(t, "delete", "iamidentitymapping", "ops")
	eventually(t, "crd-ops Unauthorized after its IAMIdentityMapping was deleted", func() bool {
		return c.unauthorized(t, c.roleSession(t, "crd-ops", "olga"))
	})
}

// An object iamgate cannot use (a misspelt template) gets the status
// condition Valid=False with reason InvalidSpec, and grants nothing.
func testCRDInvalidObjectGrantsNothing(t *testing.T, c *cluster) {
	c.applyMapping(t, "typo", "arn:aws:iam::111122223333:role/crd-typo", "dev-{{SesionName}}", "crd:devs")

	valid := c.mappingField(t, "typo", `{.status.conditions[?(@.type=="Valid")].status}`)
	reason := c.mappingField(t, "typo", `{.status.conditions[?(@.type=="Valid")].reason}`)
	msg := c.mappingField(t, "typo", `{.status.conditions[?(@.type=="Valid")].message}`)
	if valid != "False" || reason != "InvalidSpec" || !strings.Contains(msg, "SesionName") {
		t.Errorf("Valid condition = %s %s %q, want False InvalidSpec naming {{SesionName}}", valid, reason, msg)
	}
	if !c.unauthorized(t, c.roleSession(t, "crd-typo", "tom")) {
		t.Error("the invalid object's role got in")
	}
}

// An admin narrows a role by creating a newer object for it and gets the
// new one wrong: the role is locked out (fail closed) instead of keeping
// the older, broader grant; fixing the new object lets the role in with it.
func testCRDInvalidNewerObjectDenies(t *testing.T, c *cluster) {
	const role = "arn:aws:iam::111122223333:role/crd-lead"
	c.applyMapping(t, "lead-v1", role, "lead:{{SessionName}}", "system:masters")
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "crd-lead", "lee"), c.id)); u.Username != "lead:lee" {
		t.Fatalf("whoami before the newer object = %q, want lead:lee", u.Username)
	}
	// creationTimestamp has one-second resolution; the newer object must be
	// newer by it, not by name.
	time.Sleep(1100 * time.Millisecond)
	c.applyMapping(t, "a-lead-v2", role, "lead-ro:{{SesionName}}", "crd:readonly")
	if got := c.mappingField(t, "lead-v1", `{.status.conditions[?(@.type=="Valid")].reason}`); got != "DuplicateARN" {
		t.Errorf("older object's Valid reason = %q, want DuplicateARN", got)
	}
	if !c.unauthorized(t, c.roleSession(t, "crd-lead", "lee")) {
		t.Fatal("the role kept its older system:masters grant while the newer object for it is invalid")
	}
	c.applyMapping(t, "a-lead-v2", role, "lead-ro:{{SessionName}}", "crd:readonly")
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "crd-lead", "lee"), c.id))
	if u.Username != "lead-ro:lee" || slices.Contains(u.Groups, "system:masters") {
		t.Errorf("whoami after the fix = %q %v, want lead-ro:lee without system:masters", u.Username, u.Groups)
	}
}

// applyMapping applies the cluster-scoped IAMIdentityMapping name with
// kubectl as admin and waits until iamgate has judged this generation of it
// (its Valid condition's observedGeneration caught up), which iamgate
// writes only after the new mappings are in effect.
func (c *cluster) applyMapping(t *testing.T, name, arn, username string, groups ...string) {
	t.Helper()
	c.apply(t, fmt.Sprintf(`apiVersion: iamauthenticator.k8s.aws/v1alpha1
kind: IAMIdentityMapping
metadata:
  name: %s
spec:
  arn: %s
  username: %q
  groups: [%s]
`, name, arn, username, strings.Join(groups, ", ")))
	eventually(t, "iamgate judged IAMIdentityMapping "+name, func() bool {
		gen := c.mappingField(t, name, "{.metadata.generation}")
		return gen != "" && gen == c.mappingField(t, name, `{.status.conditions[?(@.type=="Valid")].observedGeneration}`)
	})
}

// mappingField is `kubectl get iamidentitymapping name -o jsonpath=...`.
func (c *cluster) mappingField(t *testing.T, name, jsonpath string) string {
	t.Helper()
	return c.kubectlAdmin(t, "get", "iamidentitymapping", name, "-o", "jsonpath="+jsonpath)
}
