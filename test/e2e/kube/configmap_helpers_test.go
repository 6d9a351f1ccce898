package kube_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// applyAWSAuth applies manifest as admin and waits until iamgate has
// processed the resulting resourceVersion (loaded or rejected it), so the
// next login sees the outcome.
func (c *cluster) applyAWSAuth(t *testing.T, manifest string) awsAuthLoad {
	t.Helper()
	rv := c.apply(t, manifest)
	l := c.waitForLog(t, "iamgate processed aws-auth resourceVersion "+rv, 0, func(l logLine) bool {
		return l.ResourceVersion == rv && (l.Msg == "loaded mappings" || strings.HasPrefix(l.Msg, "rejected ConfigMap data"))
	})
	return awsAuthLoad{rv: rv, rejected: l.Msg != "loaded mappings", roles: l.Roles, skipped: l.Skipped}
}

// awsAuthEvents is `kubectl get events -n kube-system
// --field-selector involvedObject.name=aws-auth`.
func (c *cluster) awsAuthEvents(t *testing.T) []corev1.Event {
	t.Helper()
	out := c.kubectlAdmin(t, "get", "events", "-n", "kube-system", "--field-selector", "involvedObject.name=aws-auth", "-o", "json")
	var l corev1.EventList
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("kubectl get events output: %v\n%s", err, out)
	}
	return l.Items
}

// ---- Helpers shared by the in-cluster backend scenarios (EKSConfigMap, CRD,
// DynamicFile).

// sessionSeq numbers the sessions roleSession makes.
var sessionSeq atomic.Int64

// roleSession is a new session (named session) of IAM role role in account,
// with an access key of its own, registered with c's STS double. Its token
// is one kube-apiserver has never seen, so the answer reflects the mappings
// now: kube-apiserver caches a webhook's answer for a token (≥ 10 s), and
// two tokens of one key signed in the same second are identical.
func (c *cluster) roleSession(t *testing.T, role, session string) identity {
	t.Helper()
	n := sessionSeq.Add(1)
	roleID := fmt.Sprintf("AROAE2E%013d", crc32.ChecksumIEEE([]byte(role)))
	id := identity{
		accessKeyID:  fmt.Sprintf("ASIAE2ESESSION%06d", n),
		secret:       fmt.Sprintf("e2e-session-secret-%d", n),
		sessionToken: fmt.Sprintf("e2e-session-token-%d", n),
		sts: ststest.Identity{
			Arn: "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session, Account: account,
			UserId: roleID + ":" + session,
		},
	}
	c.double.AddKey(id.accessKeyID, id.secret, id.sessionToken, id.sts)
	return id
}

// unauthorized reports whether `kubectl auth whoami` as id (a fresh token)
// is refused with Unauthorized; it fails the test on any other error.
func (c *cluster) unauthorized(t *testing.T, id identity) bool {
	t.Helper()
	out, errOut, err := kubectl(t, c.kubeconfigFor(t, id, c.id), "auth", "whoami")
	switch {
	case err == nil:
		return false
	case strings.Contains(errOut, "Unauthorized"):
		return true
	}
	t.Fatalf("kubectl auth whoami as %s: %v\n%s%s", id.sts.Arn, err, out, errOut)
	return false
}

// kubectlAdmin runs kubectl as admin and returns its stdout.
func (c *cluster) kubectlAdmin(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, c.kube.Kubeconfig, args...)
	if err != nil {
		t.Fatalf("kubectl %s as admin: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// apply is `kubectl apply -f` of one object's manifest as admin; it returns
// the object's resourceVersion after the apply.
func (c *cluster) apply(t *testing.T, manifest string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	return c.kubectlAdmin(t, "apply", "-f", path, "-o", "jsonpath={.metadata.resourceVersion}")
}

// logLine is one JSON line of the server's log, the fields the scenarios
// look at.
type logLine struct {
	Msg             string
	ResourceVersion string `json:"resourceVersion"`
	SHA256          string `json:"sha256"`
	Roles           int    `json:"roles"`
	Skipped         int    `json:"skipped"`
}

// waitForLog waits up to 10 s for a server log line after byte offset mark
// that match accepts, and returns it.
func (c *cluster) waitForLog(t *testing.T, what string, mark int, match func(logLine) bool) logLine {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(c.log.String()[mark:]))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var l logLine
			if json.Unmarshal(sc.Bytes(), &l) == nil && match(l) {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no such server log line after 10s", what)
		}
	}
}

// readyzCode is the status of the server's /readyz.
func readyzCode(t *testing.T, c *cluster) int {
	t.Helper()
	resp, err := http.Get(c.readyz)
	if err != nil {
		t.Fatalf("GET %s: %v", c.readyz, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
