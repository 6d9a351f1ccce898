package kube_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The DynamicFile scenarios: server.dynamicfilepath names a file in a
// directory laid out as kubelet mounts a ConfigMap volume, and every rewrite
// is kubelet's atomic swap of the "..data" symlink.

// mappingVolume is a directory holding mappings.json the way a ConfigMap
// volume does: mappings.json -> ..data/mappings.json, ..data -> ..<version>.
type mappingVolume struct {
	dir     string
	version int
}

func newMappingVolume(t *testing.T) *mappingVolume {
	return &mappingVolume{dir: t.TempDir()}
}

// path is the file iamgate reads (server.dynamicfilepath).
func (v *mappingVolume) path() string { return filepath.Join(v.dir, "mappings.json") }

// write publishes content as kubelet's AtomicWriter does: a new timestamped
// directory, a "..data_tmp" symlink to it renamed over "..data", the old
// directory removed. It returns the first 16 hex digits of the content's
// SHA-256, which iamgate logs with each load.
func (v *mappingVolume) write(t *testing.T, content string) string {
	t.Helper()
	v.version++
	ts := fmt.Sprintf("..2026_01_01_00_00_%02d.%d", v.version%60, v.version)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(v.dir, ts, "mappings.json"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old, _ := os.Readlink(filepath.Join(v.dir, "..data"))
	if err := os.Symlink(ts, filepath.Join(v.dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(v.path()); os.IsNotExist(err) {
		if err := os.Symlink(filepath.Join("..data", "mappings.json"), v.path()); err != nil {
			t.Fatal(err)
		}
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, old)); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])[:16]
}

// publish writes content and waits until iamgate has acted on it: loaded it
// (it returns true) or refused it and kept the last good mappings (false).
func (v *mappingVolume) publish(t *testing.T, c *cluster, content string) (loaded bool) {
	t.Helper()
	mark := c.log.Len()
	sum := v.write(t, content)
	l := c.waitForLog(t, "iamgate read the dynamic file "+sum, mark, func(l logLine) bool {
		// A good file is logged by the shared live.Holder ("loaded mappings").
		return l.SHA256 == sum && (l.Msg == "loaded mappings" || strings.HasPrefix(l.Msg, "dynamic file is unusable"))
	})
	return l.Msg == "loaded mappings"
}

// dynamicFile is aws-iam-authenticator's dynamic-file JSON with these
// mapRoles entries (JSON objects); version makes each document distinct.
func dynamicFile(version int, mapRoles ...string) string {
	return fmt.Sprintf(`{
  "LastUpdatedDateTime": "1767225600",
  "Version": "%d",
  "mapRoles": [%s],
  "mapUsers": [],
  "mapAccounts": []
}
`, version, strings.Join(mapRoles, ",\n    "))
}

// dynamicFileRole is one mapRoles entry of the dynamic file.
func dynamicFileRole(role, username string, groups ...string) string {
	return fmt.Sprintf(`{"rolearn": "arn:aws:iam::111122223333:role/%s", "username": %q, "groups": [%s]}`,
		role, username, `"`+strings.Join(groups, `", "`)+`"`)
}

// dynamicFileServer is the server section for a DynamicFile-only server.
func dynamicFileServer(v *mappingVolume) string {
	return "  backendMode: [DynamicFile]\n  dynamicfilepath: " + v.path() + "\n"
}

// TestAPIServerDynamicFile shares one control plane and one iamgate server
// (backendMode [DynamicFile]) between the dynamic file scenarios. Each
// scenario publishes the file it starts from.
func TestAPIServerDynamicFile(t *testing.T) {
	v := newMappingVolume(t)
	v.write(t, dynamicFile(0))
	c := startCluster(t, dynamicFileServer(v))
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *cluster, *mappingVolume)
	}{
		{"FileGrants", testDynamicFileGrants},
		{"RewriteChangesOutcome", testDynamicFileRewriteChangesOutcome},
		{"BrokenFileKeepsPreviousMappings", testDynamicFileBrokenKeepsPrevious},
	} {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, c, v) })
	}
}

// A role in the file gets in with the file's username and groups.
func testDynamicFileGrants(t *testing.T, c *cluster, v *mappingVolume) {
	if !v.publish(t, c, dynamicFile(1, dynamicFileRole("k8s-admin", "admin:{{AccessKeyID}}:{{SessionName}}", "system:masters"))) {
		t.Fatal("iamgate refused the file")
	}
	admin := c.roleSession(t, "k8s-admin", "alice@example.com")
	kc := c.kubeconfigFor(t, admin, c.id)
	u := whoami(t, kc)
	if want := "admin:" + admin.accessKeyID + ":alice-example.com"; u.Username != want || !slices.Contains(u.Groups, "system:masters") {
		t.Errorf("whoami = %q %v, want %s in system:masters", u.Username, u.Groups, want)
	}
	wantCan(t, kc, true, "* *")
}

// Rewriting the file (kubelet's symlink swap) changes the outcome: a role
// whose entry changed gets the new username and groups, a role whose entry
// is gone is Unauthorized (fresh tokens).
func testDynamicFileRewriteChangesOutcome(t *testing.T, c *cluster, v *mappingVolume) {
	v.publish(t, c, dynamicFile(2,
		dynamicFileRole("gitops-dev", "dev:{{SessionName}}", "gitops:devs"),
		dynamicFileRole("gitops-ops", "ops:{{SessionName}}", "gitops:ops")))
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "gitops-dev", "dan"), c.id)); u.Username != "dev:dan" {
		t.Fatalf("whoami as gitops-dev before the rewrite = %q, want dev:dan", u.Username)
	}
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "gitops-ops", "oz"), c.id)); u.Username != "ops:oz" {
		t.Fatalf("whoami as gitops-ops before the rewrite = %q, want ops:oz", u.Username)
	}

	if !v.publish(t, c, dynamicFile(3, dynamicFileRole("gitops-dev", "senior-dev:{{SessionName}}", "gitops:seniors"))) {
		t.Fatal("iamgate refused the rewritten file")
	}
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "gitops-dev", "dan"), c.id))
	if u.Username != "senior-dev:dan" || !slices.Contains(u.Groups, "gitops:seniors") || slices.Contains(u.Groups, "gitops:devs") {
		t.Errorf("whoami as gitops-dev after the rewrite = %q %v, want senior-dev:dan in gitops:seniors only", u.Username, u.Groups)
	}
	if !c.unauthorized(t, c.roleSession(t, "gitops-ops", "oz")) {
		t.Error("gitops-ops still gets in after the rewrite dropped its entry")
	}
}

// A broken file (a half-finished edit: invalid JSON) keeps the last good
// mappings: what was mapped stays mapped (fresh token) and the broken
// file's new entry grants nothing.
func testDynamicFileBrokenKeepsPrevious(t *testing.T, c *cluster, v *mappingVolume) {
	v.publish(t, c, dynamicFile(4, dynamicFileRole("gitops-dev", "dev:{{SessionName}}", "gitops:devs")))

	broken := dynamicFile(5,
		dynamicFileRole("gitops-dev", "intruder", "system:masters"),
		dynamicFileRole("gitops-new", "new:{{SessionName}}", "gitops:new"))
	broken = strings.Replace(broken, `"mapUsers": [],`, `"mapUsers": [,`, 1)
	if v.publish(t, c, broken) {
		t.Fatal("iamgate loaded a file that is not valid JSON")
	}
	u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "gitops-dev", "dan"), c.id))
	if u.Username != "dev:dan" || !slices.Contains(u.Groups, "gitops:devs") || slices.Contains(u.Groups, "system:masters") {
		t.Errorf("whoami as gitops-dev after the broken file = %q %v, want the last good dev:dan in gitops:devs", u.Username, u.Groups)
	}
	if !c.unauthorized(t, c.roleSession(t, "gitops-new", "nia")) {
		t.Error("the broken file's new entry granted access")
	}
}

// TestAPIServerDynamicFileReadyOnlyOnceLoaded: while the file does not exist (a mount
// not there yet), /readyz is 503 and every login is refused; once the file
// appears, /readyz turns 200 and its mappings apply.
func TestAPIServerDynamicFileReadyOnlyOnceLoaded(t *testing.T) {
	v := newMappingVolume(t)
	c := startClusterWith(t, clusterOptions{anyReadyz: true}, dynamicFileServer(v))
	c.waitForLog(t, "iamgate looked for the dynamic file", 0, func(l logLine) bool {
		return strings.HasPrefix(l.Msg, "dynamic file does not exist yet")
	})
	if code := readyzCode(t, c); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the file missing = %d, want 503", code)
	}
	mark := c.log.Len()
	if !c.unauthorized(t, c.roleSession(t, "k8s-admin", "alice")) {
		t.Error("a login succeeded before the dynamic file was loaded")
	}
	for _, r := range c.reviewsSince(t, mark) {
		if r.Decision != "deny" || r.Reason != "mapping_error" {
			t.Errorf("review before the file loaded = %+v, want deny mapping_error (not synced), not not_mapped", r)
		}
	}

	v.write(t, dynamicFile(1, dynamicFileRole("k8s-admin", "admin:{{SessionName}}", "system:masters")))
	for deadline := time.Now().Add(15 * time.Second); readyzCode(t, c) != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not 200 within 15s of the file appearing")
		}
	}
	if u := whoami(t, c.kubeconfigFor(t, c.roleSession(t, "k8s-admin", "alice"), c.id)); u.Username != "admin:alice" {
		t.Errorf("whoami once the file loaded = %q, want admin:alice", u.Username)
	}
}
