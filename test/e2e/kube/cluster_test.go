// Package kube_test runs iamgate the way users do: the installed kubectl
// execs the built "iamgate token" binary, sends its token to a real
// kube-apiserver (test/kube), which asks the real "iamgate server" (run
// in-process through cli.Run) over the webhook kubeconfig "iamgate init"
// wrote; the server verifies the token at the STS test double, maps the
// identity, and kube-apiserver's RBAC decides. Assertions use
// "kubectl auth whoami" and "kubectl auth can-i".
package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// binDir holds bin/iamgate and bin/iamgate-core built by TestMain, so kubectl
// runs the real client binaries.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "iamgate-e2e-kube-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"iamgate", "iamgate-core"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "github.com/iamgate/iamgate/cmd/"+name)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", name, err, out)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

// region is the STS region the client signs for; the server accepts it.
const region = "us-west-2"

// identity is an AWS key the double knows, and who STS says signed with it.
type identity struct {
	accessKeyID, secret, sessionToken string
	sts                               ststest.Identity
}

// cluster is one kube-apiserver wired to one in-process iamgate server.
type cluster struct {
	id     string
	kube   *kube.Env
	double *ststest.Server
	log    *syncBuffer // the server's JSON log: one "review" line per decision
	readyz string      // the server's /readyz URL
}

// clusterOptions adjust startClusterWith for scenarios that need more than
// startCluster's defaults; the zero value is startCluster.
type clusterOptions struct {
	// serverArgs are extra "iamgate server" flags, e.g. --backend-mode.
	serverArgs []string
	// beforeServer runs once kube-apiserver is up, before "iamgate server"
	// starts: install a CRD, create aws-auth, as admin.
	beforeServer func(t *testing.T, c *cluster)
	// serverKubeconfig, when set, returns the kubeconfig iamgate server
	// reads in-cluster mappings with, instead of the admin one.
	serverKubeconfig func(t *testing.T, c *cluster) string
	// anyReadyz makes startClusterWith return as soon as /readyz answers,
	// whatever the status, for scenarios about readiness itself.
	anyReadyz bool
}

// startCluster runs, in order: the STS double (knowing ids), "iamgate init"
// (certificates and the webhook kubeconfig), kube-apiserver reading that
// kubeconfig, then "iamgate server" with the same flags (plus the admin
// kubeconfig, for in-cluster backends), and waits for its /readyz. serverKeys is the YAML under "server:" (indented two spaces).
func startCluster(t *testing.T, serverKeys string, ids ...identity) *cluster {
	t.Helper()
	return startClusterWith(t, clusterOptions{}, serverKeys, ids...)
}

// startClusterWith is startCluster adjusted by o.
func startClusterWith(t *testing.T, o clusterOptions, serverKeys string, ids ...identity) *cluster {
	t.Helper()
	c := &cluster{id: "e2e-cluster", double: ststest.Start(t), log: &syncBuffer{}}
	for _, id := range ids {
		c.double.AddKey(id.accessKeyID, id.secret, id.sessionToken, id.sts)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("clusterID: "+c.id+"\nserver:\n"+serverKeys), 0o600); err != nil {
		t.Fatal(err)
	}
	webhook := filepath.Join(dir, "webhook.yaml")
	ports := reserveServerPorts(t)
	flags := append([]string{"-c", cfg, "--state-dir", filepath.Join(dir, "state"), "--generate-kubeconfig", webhook,
		"--log-format", "json"}, ports.flags()...)
	deps := cli.Deps{STSTransport: c.double.Transport()}

	var initOut bytes.Buffer
	if code := cli.Run(context.Background(), append([]string{"init"}, flags...), deps,
		cli.Streams{In: strings.NewReader(""), Out: &initOut, Err: &initOut}); code != 0 {
		t.Fatalf("iamgate init exited %d:\n%s", code, initOut.String())
	}

	c.kube = kube.Start(t, kube.Options{WebhookConfigFile: webhook})
	if o.beforeServer != nil {
		o.beforeServer(t, c)
	}
	serverKubeconfig := c.kube.Kubeconfig
	if o.serverKubeconfig != nil {
		serverKubeconfig = o.serverKubeconfig(t, c)
	}

	// --kubeconfig: in-cluster backends (aws-auth, the CRD) read the
	// mappings from this apiserver as admin.
	args := append(append([]string{"server", "--kubeconfig", serverKubeconfig}, flags...), o.serverArgs...)
	c.runServer(t, args, deps, ports, o.anyReadyz)
	return c
}

// serverPorts are the ports "iamgate init" wrote into the webhook
// kubeconfig, held until "iamgate server" starts so that kube-apiserver
// and etcd cannot be handed one of them in the meantime.
type serverPorts struct {
	port, health int
	release      []func()
}

func reserveServerPorts(t *testing.T) serverPorts {
	t.Helper()
	port, r1 := kube.ReservePort(t)
	health, r2 := kube.ReservePort(t)
	return serverPorts{port: port, health: health, release: []func(){r1, r2}}
}

func (p serverPorts) flags() []string {
	return []string{"--port", strconv.Itoa(p.port), "--health-port", strconv.Itoa(p.health)}
}

// runServer runs "iamgate server" in-process with args until the test ends
// and waits for its /readyz: 200, or any answer when anyReadyz.
func (c *cluster) runServer(t *testing.T, args []string, deps cli.Deps, ports serverPorts, anyReadyz bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan struct{})
	var code int
	for _, release := range ports.release {
		release()
	}
	go func() {
		defer close(exited)
		code = cli.Run(ctx, args, deps, cli.Streams{In: strings.NewReader(""), Out: c.log, Err: c.log})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
			if code != 0 && !t.Failed() {
				t.Errorf("iamgate server exited %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("iamgate server did not stop within 30s of cancel")
		}
		if t.Failed() {
			t.Logf("iamgate server log:\n%s", c.log.String())
		}
	})
	c.readyz = fmt.Sprintf("http://127.0.0.1:%d/readyz", ports.health)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("iamgate server exited %d before ready", code)
		default:
		}
		if resp, err := http.Get(c.readyz); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || anyReadyz {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("iamgate server not ready at %s after 15s", c.readyz)
		}
	}
}

// kubeconfigFor writes a kubeconfig whose user is an exec of the built
// "iamgate token -i clusterID" with id's keys. Each call gets its own token
// cache, so every kubeconfig presents a fresh token: kube-apiserver caches a
// webhook's "yes" for at least 10 s.
func (c *cluster) kubeconfigFor(t *testing.T, id identity, clusterID string) string {
	t.Helper()
	env := []clientcmdapi.ExecEnvVar{
		{Name: "AWS_ACCESS_KEY_ID", Value: id.accessKeyID},
		{Name: "AWS_SECRET_ACCESS_KEY", Value: id.secret},
		{Name: "AWS_REGION", Value: region},
		{Name: "IAMGATE_CACHE_DIR", Value: t.TempDir()},
	}
	if id.sessionToken != "" {
		env = append(env, clientcmdapi.ExecEnvVar{Name: "AWS_SESSION_TOKEN", Value: id.sessionToken})
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["e2e"] = &clientcmdapi.Cluster{Server: c.kube.Host, CertificateAuthorityData: c.kube.Config.CAData}
	kc.AuthInfos["iam"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion:      "client.authentication.k8s.io/v1beta1",
		Command:         filepath.Join(binDir, "iamgate"),
		Args:            []string{"token", "-i", clusterID},
		Env:             env,
		InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
	}}
	kc.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "iam"}
	kc.CurrentContext = "e2e"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// kubectl runs the installed kubectl with only kubeconfig's credentials: a
// scratch HOME and no AWS config files, so nothing from the machine leaks in.
func kubectl(t *testing.T, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	home := t.TempDir()
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// admin runs kubectl with the control plane's system:masters credentials.
func (c *cluster) admin(t *testing.T, args ...string) {
	t.Helper()
	if out, errOut, err := kubectl(t, c.kube.Kubeconfig, args...); err != nil {
		t.Fatalf("kubectl %s as admin: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
}

// whoami is "kubectl auth whoami" as the kubeconfig's user.
func whoami(t *testing.T, kubeconfig string) authnv1.UserInfo {
	t.Helper()
	out, errOut, err := kubectl(t, kubeconfig, "auth", "whoami", "-o", "json")
	if err != nil {
		t.Fatalf("kubectl auth whoami: %v\n%s", err, errOut)
	}
	var r authnv1.SelfSubjectReview
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("kubectl auth whoami output: %v\n%s", err, out)
	}
	return r.Status.UserInfo
}

// canI is "kubectl auth can-i args..." as the kubeconfig's user.
func canI(t *testing.T, kubeconfig string, args ...string) bool {
	t.Helper()
	out, errOut, err := kubectl(t, kubeconfig, append([]string{"auth", "can-i"}, args...)...)
	switch strings.TrimSpace(out) {
	case "yes":
		return true
	case "no":
		return false
	}
	t.Fatalf("kubectl auth can-i %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	return false
}

// wantCan fails unless can-i answers want for each check (a verb and
// resource, space separated).
func wantCan(t *testing.T, kubeconfig string, want bool, checks ...string) {
	t.Helper()
	for _, check := range checks {
		if got := canI(t, kubeconfig, strings.Fields(check)...); got != want {
			t.Errorf("can-i %s = %v, want %v", check, got, want)
		}
	}
}

// eventually retries f for a few seconds: RBAC objects reach the
// authorizer through an informer, a moment after kubectl create returns.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !f(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true after 10s", what)
		}
	}
}

// review is one audit line of the server's log.
type review struct {
	Msg, Decision, Reason, AccessKeyID, Username string
	Groups                                       []string
}

// reviewsSince returns the audit lines logged after byte offset mark.
func (c *cluster) reviewsSince(t *testing.T, mark int) []review {
	t.Helper()
	var out []review
	sc := bufio.NewScanner(strings.NewReader(c.log.String()[mark:]))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r review
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Msg == "review" {
			out = append(out, r)
		}
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}
