package kube_test

// Helpers for the mapping-rule scenarios (rules_*_test.go): a cluster start
// that takes a whole config file and extra server flags (feature gates,
// --awsiamconfig, -i), the built binary run for configs that must not start,
// and the audit-line and polling checks those scenarios share. Names start
// with m4 so they cannot collide with the other scenario files of this
// package.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"

	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// m4Setup describes one iamgate server behind one kube-apiserver.
type m4Setup struct {
	// config is the whole config file ("" runs without -c).
	config string
	// flags are added to both "iamgate init" and "iamgate server", e.g.
	// --feature-gates, --awsiamconfig, -i.
	flags []string
	ids   []identity
}

// m4StartCluster is startCluster for a whole config file plus flags. The
// cluster id is always "e2e-cluster": set it in the config or pass -i.
func m4StartCluster(t *testing.T, s m4Setup) *cluster {
	t.Helper()
	c := &cluster{id: "e2e-cluster", double: ststest.Start(t), log: &syncBuffer{}}
	for _, id := range s.ids {
		c.double.AddKey(id.accessKeyID, id.secret, id.sessionToken, id.sts)
	}
	dir := t.TempDir()
	webhook := filepath.Join(dir, "webhook.yaml")
	ports := reserveServerPorts(t)
	flags := append([]string{"--state-dir", filepath.Join(dir, "state"), "--generate-kubeconfig", webhook,
		"--log-format", "json"}, ports.flags()...)
	if s.config != "" {
		cfg := filepath.Join(dir, "config.yaml")
		if err := os.WriteFile(cfg, []byte(s.config), 0o600); err != nil {
			t.Fatal(err)
		}
		flags = append(flags, "-c", cfg)
	}
	flags = append(flags, s.flags...)
	deps := cli.Deps{STSTransport: c.double.Transport()}

	var initOut syncBuffer
	if code := cli.Run(context.Background(), append([]string{"init"}, flags...), deps,
		cli.Streams{In: strings.NewReader(""), Out: &initOut, Err: &initOut}); code != 0 {
		t.Fatalf("iamgate init exited %d:\n%s", code, initOut.String())
	}

	c.kube = kube.Start(t, kube.Options{WebhookConfigFile: webhook})

	c.runServer(t, append([]string{"server", "--kubeconfig", c.kube.Kubeconfig}, flags...), deps, ports, false)
	return c
}

// m4ServerRefuses runs the built "iamgate server" binary with config and
// wants it to exit non-zero before serving; it returns what it printed.
func m4ServerRefuses(t *testing.T, config string, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := append([]string{"server", "-c", cfg, "--state-dir", filepath.Join(dir, "state"),
		"--generate-kubeconfig", filepath.Join(dir, "webhook.yaml"),
		"--port", strconv.Itoa(kube.FreePort(t)), "--health-port", strconv.Itoa(kube.FreePort(t))}, flags...)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "iamgate"), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_EC2_METADATA_DISABLED=true"}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("iamgate server did not exit within 20s (it should refuse this config):\n%s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("iamgate server: %v, want a non-zero exit:\n%s", err, out)
	}
	return string(out)
}

// m4Review is one audit line, with the fields these scenarios look at.
type m4Review struct {
	Msg, Decision, Reason, AccessKeyID, Username, Source, Detail string
	Groups                                                       []string
}

// m4ReviewsSince returns the audit lines logged after byte offset mark.
func m4ReviewsSince(c *cluster, mark int) []m4Review {
	var out []m4Review
	sc := bufio.NewScanner(strings.NewReader(c.log.String()[mark:]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r m4Review
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Msg == "review" {
			out = append(out, r)
		}
	}
	return out
}

// m4LastUse is when each access key last finished signing a token.
var m4LastUse = struct {
	sync.Mutex
	at map[string]time.Time
}{at: map[string]time.Time{}}

// m4FreshToken makes sure the next token signed with id's key differs from
// the last one: a token is a URL presigned with a one-second clock, so two
// signed within one second are the same token, and kube-apiserver would
// answer the second from its cache without asking iamgate. It waits until
// the second after the key's last use; call m4Used once the token is spent.
func m4FreshToken(id identity) {
	m4LastUse.Lock()
	last, ok := m4LastUse.at[id.accessKeyID]
	m4LastUse.Unlock()
	if ok {
		if next := last.Truncate(time.Second).Add(time.Second); time.Now().Before(next) {
			time.Sleep(time.Until(next))
		}
	}
}

func m4Used(id identity) {
	m4LastUse.Lock()
	defer m4LastUse.Unlock()
	m4LastUse.at[id.accessKeyID] = time.Now()
}

// m4Allowed checks that id gets in as username with (at least) groups, and
// that the audit line names the entry (source contains wantSource). It
// returns what kube-apiserver saw.
func m4Allowed(t *testing.T, c *cluster, id identity, username, wantSource string, groups ...string) authnv1.UserInfo {
	t.Helper()
	m4FreshToken(id)
	mark := c.log.Len()
	u := whoami(t, c.kubeconfigFor(t, id, c.id))
	m4Used(id)
	if u.Username != username {
		t.Errorf("%s: whoami username = %q, want %q", id.sts.Arn, u.Username, username)
	}
	for _, g := range groups {
		if !m4Contains(u.Groups, g) {
			t.Errorf("%s: whoami groups = %v, want %s among them", id.sts.Arn, u.Groups, g)
		}
	}
	rs := m4ReviewsSince(c, mark)
	if len(rs) == 0 {
		t.Fatalf("%s: iamgate logged no review", id.sts.Arn)
	}
	for _, r := range rs {
		if r.Decision != "allow" || !strings.Contains(r.Source, wantSource) {
			t.Errorf("%s: review = %+v, want allow from %q", id.sts.Arn, r, wantSource)
		}
	}
	return u
}

// m4Unauthorized checks that id, whom STS vouches for, gets "Unauthorized"
// from kube-apiserver, and that every audit line is a deny with reason
// (and, when detail is set, a detail containing it).
func m4Unauthorized(t *testing.T, c *cluster, id identity, reason, detail string) {
	t.Helper()
	m4FreshToken(id)
	mark := c.log.Len()
	out, errOut, err := kubectl(t, c.kubeconfigFor(t, id, c.id), "auth", "whoami")
	m4Used(id)
	if err == nil || !strings.Contains(errOut, "Unauthorized") {
		t.Fatalf("%s: whoami: err %v, stdout %q, stderr %q; want Unauthorized", id.sts.Arn, err, out, errOut)
	}
	rs := m4ReviewsSince(c, mark)
	if len(rs) == 0 {
		t.Fatalf("%s: iamgate logged no review: the apiserver never asked the webhook", id.sts.Arn)
	}
	for _, r := range rs {
		if r.Decision != "deny" || r.Reason != reason || r.AccessKeyID != id.accessKeyID || !strings.Contains(r.Detail, detail) {
			t.Errorf("%s: review = %+v, want deny %s (detail containing %q)", id.sts.Arn, r, reason, detail)
		}
	}
}

// m4LogHas waits up to 10s for a server log line containing every one of
// subs (backends log asynchronously).
func m4LogHas(t *testing.T, c *cluster, mark int, subs ...string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		for _, line := range strings.Split(c.log.String()[mark:], "\n") {
			if m4HasAll(line, subs...) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no server log line containing all of %q after 10s", subs)
		}
	}
}

// m4WhoamiEventually polls "kubectl auth whoami" as id until it answers
// username (a mapping source that loads in the background, e.g. aws-auth).
// Each try waits a second: tokens are signed with a one-second clock, and
// kube-apiserver caches a webhook's answer per token.
func m4WhoamiEventually(t *testing.T, c *cluster, id identity, username string) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(1100 * time.Millisecond) {
		out, errOut, err := kubectl(t, c.kubeconfigFor(t, id, c.id), "auth", "whoami", "-o", "json")
		m4Used(id)
		if err != nil {
			last = errOut
			continue
		}
		var r authnv1.SelfSubjectReview
		if json.Unmarshal([]byte(out), &r) == nil && r.Status.UserInfo.Username == username {
			return
		}
		last = out
	}
	t.Fatalf("%s: whoami never answered %q within 20s; last: %s", id.sts.Arn, username, last)
}

// m4Apply runs "kubectl apply -f" as admin with manifest.
func m4Apply(t *testing.T, c *cluster, manifest string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	c.admin(t, "apply", "-f", f)
}

// m4Role is an assumed-role session of role in the e2e account, with a
// distinct key per name (akid must be 20 characters: ASIA + 16).
func m4Role(akid, role, session, roleID string) identity {
	return identity{
		accessKeyID: akid, secret: "secret-" + akid, sessionToken: "token-" + akid,
		sts: ststest.Identity{
			Arn:     "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session,
			Account: account, UserId: roleID + ":" + session,
		},
	}
}

func m4Contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func m4HasAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func m4HasAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
