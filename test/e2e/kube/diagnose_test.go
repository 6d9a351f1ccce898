package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// The diagnostics' seed scenario, in moto's account so that whoami's
// GetCallerIdentity (moto) and the server's token check (the STS double)
// agree on who each key is.
const dgAccount = moto.AccountID

const dgConfig = `clusterID: e2e-cluster
server:
  backendMode: [MountedFile]
  mapRoles:
  - rolearn: arn:aws:iam::` + dgAccount + `:role/automation/K10Operator
    username: k10:{{SessionNameRaw}}
    groups: [k10:basic]
  - rolearn: arn:aws:iam::` + dgAccount + `:role/PlatformAdmin
    username: platform-admin:{{SessionName}}
    groups: [platform:admins]
  - rolearn: arn:aws:iam::` + dgAccount + `:role/BreakGlass
    username: break-glass
    groups: [system:masters]
  - rolearn: arn:aws:iam::` + dgAccount + `:role/ci-*
    username: ci:{{SessionName}}
  - sso:
      permissionSetName: Dev
      accountID: "` + dgAccount + `"
    username: sso-dev:{{SessionName}}
    groups: [sso:devs]
  mapUsers:
  - userarn: arn:aws:iam::` + dgAccount + `:user/bob
    username: bob
  - userarn: arn:aws:iam::` + dgAccount + `:user/auditor
    username: auditor
`

func dgRole(akid, role, session, roleID string) identity {
	return identity{accessKeyID: akid, secret: "secret-" + akid, sessionToken: "token-" + akid,
		sts: stsIdentity("arn:aws:sts::"+dgAccount+":assumed-role/"+role+"/"+session, roleID+":"+session)}
}

var (
	dgK10   = dgRole("ASIADGK1000000000001", "K10Operator", "backup@ci", "AROADGK1000000000001")
	dgAdmin = dgRole("ASIADGADMIN000000001", "PlatformAdmin", "alice", "AROADGADMIN000000001")
	dgBreak = dgRole("ASIADGBREAK000000001", "BreakGlass", "oncall", "AROADGBREAK000000001")
	dgCI    = dgRole("ASIADGCI000000000001", "ci-deploy", "job-1", "AROADGCI000000000001")
	dgSSO   = dgRole("ASIADGSSO00000000001", "AWSReservedSSO_Dev_0123456789abcdef", "carol@example.com", "AROADGSSO00000000001")
	dgOther = dgRole("ASIADGOTHER000000001", "Unmapped", "eve", "AROADGOTHER000000001")
)

// dgExplain is the part of explain's JSON these tests compare.
type dgExplain struct {
	Decision struct {
		Authenticated bool
		Username      string
		Groups        []string
	}
	RBAC *struct {
		Unrestricted bool
		Bindings     []struct{ Binding, Via string }
		Access       *struct {
			Decision  struct{ Allowed bool }
			GrantedBy []string
		}
	}
}

type dgWhoCan struct {
	Allowed []struct {
		Principal, Kind, Username string
		Via                       []string
	}
	Possible []struct {
		Principal string
		Via       []string
	}
}

func dgRun(t *testing.T, deps cli.Deps, want int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Run(context.Background(), args, deps, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}); code != want {
		t.Fatalf("iamgate %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func dgJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
}

// TestAPIServerDiagnostics runs explain, who-can and whoami against a real
// kube-apiserver whose RBAC was written with kubectl, and checks each
// answer against what the apiserver itself says: kubectl auth whoami (the
// server's TokenReview) and kubectl auth can-i (the authorizer).
func TestAPIServerDiagnostics(t *testing.T) {
	mo := moto.Start(t)
	im := iam.NewFromConfig(moto.Config(mo.URL, nil))
	bob := dgMotoUser(t, im, "bob")
	auditorKey := dgMotoUser(t, im, "auditor")
	eve := dgMotoUser(t, im, "eve")

	c := m4StartCluster(t, m4Setup{config: dgConfig, flags: []string{"--feature-gates", "SSORoleMatch=true"},
		ids: []identity{dgK10, dgAdmin, dgBreak, dgCI, dgSSO, dgOther, bob, auditorKey, eve}})
	c.admin(t, "create", "namespace", "apps")
	c.admin(t, "create", "clusterrole", "k10-basic", "--verb=get,list,watch", "--resource=pods,deployments.apps,persistentvolumeclaims")
	c.admin(t, "create", "clusterrolebinding", "k10-basic", "--clusterrole=k10-basic", "--group=k10:basic")
	c.admin(t, "create", "clusterrolebinding", "platform-admins", "--clusterrole=cluster-admin", "--group=platform:admins")
	c.admin(t, "create", "role", "pod-deleter", "-n", "apps", "--verb=get,delete", "--resource=pods")
	c.admin(t, "create", "rolebinding", "bob-pods", "-n", "apps", "--role=pod-deleter", "--user=bob")
	c.admin(t, "create", "rolebinding", "ci-job-1", "-n", "apps", "--role=pod-deleter", "--user=ci:job-1")
	c.admin(t, "create", "clusterrole", "pod-reader", "--verb=get,list", "--resource=pods")
	c.admin(t, "create", "clusterrolebinding", "sso-devs", "--clusterrole=pod-reader", "--group=sso:devs")

	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(dgConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	deps := cli.Deps{STSTransport: c.double.Transport()}
	admin := []string{"-c", cfg, "--feature-gates", "SSORoleMatch=true", "--kubeconfig", c.kube.Kubeconfig}

	t.Run("ExplainEqualsTokenReview", func(t *testing.T) {
		for _, id := range []identity{dgK10, dgAdmin, dgBreak, dgCI, dgSSO, dgOther, bob, eve} {
			kc := c.kubeconfigFor(t, id, c.id)
			args := append([]string{"explain", id.sts.Arn, "--user-id", id.sts.UserId, "--access-key-id", id.accessKeyID,
				"--verb", "get", "--resource", "pods", "-n", "apps", "-o", "json"}, admin...)
			out, _ := dgRun(t, deps, 0, args...)
			var ex dgExplain
			dgJSON(t, out, &ex)
			kout, kerr, err := kubectl(t, kc, "auth", "whoami", "-o", "json")
			if !ex.Decision.Authenticated {
				if err == nil || !strings.Contains(kerr, "Unauthorized") {
					t.Errorf("%s: explain denies, kubectl auth whoami: %v %s", id.sts.Arn, err, kout)
				}
				if ex.RBAC != nil {
					t.Errorf("%s: denied yet an RBAC side was printed", id.sts.Arn)
				}
				continue
			}
			u := whoami(t, kc)
			if u.Username != ex.Decision.Username || !slices.Equal(u.Groups, append(slices.Clone(ex.Decision.Groups), "system:authenticated")) {
				t.Errorf("%s: explain %q %v; TokenReview %q %v", id.sts.Arn, ex.Decision.Username, ex.Decision.Groups, u.Username, u.Groups)
			}
			if ex.RBAC == nil || ex.RBAC.Access == nil {
				t.Fatalf("%s: no RBAC answer:\n%s", id.sts.Arn, out)
			}
			if can := canI(t, kc, "get", "pods", "-n", "apps"); can != ex.RBAC.Access.Decision.Allowed {
				t.Errorf("%s: explain says allowed=%v, kubectl auth can-i %v", id.sts.Arn, ex.RBAC.Access.Decision.Allowed, can)
			}
			if ex.RBAC.Unrestricted != slices.Contains(u.Groups, "system:masters") {
				t.Errorf("%s: unrestricted %v with groups %v", id.sts.Arn, ex.RBAC.Unrestricted, u.Groups)
			}
		}
	})

	t.Run("ExplainNamesBindings", func(t *testing.T) {
		out, _ := dgRun(t, deps, 0, append([]string{"explain", "arn:aws:iam::" + dgAccount + ":role/automation/K10Operator",
			"--session-name", "backup@ci", "--verb", "list", "--resource", "deployments", "-n", "apps"}, admin...)...)
		for _, want := range []string{"username:      k10:backup@ci", "clusterrolebinding/k10-basic -> clusterrole/k10-basic (cluster-wide) via Group k10:basic",
			"get,list,watch pods,persistentvolumeclaims", "get,list,watch deployments.apps", "may list deployments.apps in namespace apps? yes", "granted by: clusterrolebinding/k10-basic"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain K10 lacks %q:\n%s", want, out)
			}
		}
		out, _ = dgRun(t, deps, 0, append([]string{"explain", dgBreak.sts.Arn}, admin...)...)
		if !strings.Contains(out, "system:masters: UNRESTRICTED") {
			t.Errorf("explain break-glass:\n%s", out)
		}
	})

	t.Run("WhoCan", func(t *testing.T) {
		out, _ := dgRun(t, deps, 0, append([]string{"who-can", "delete", "pods", "-n", "apps", "-o", "json"}, admin...)...)
		var wc dgWhoCan
		dgJSON(t, out, &wc)
		got := map[string]string{}
		for _, r := range wc.Allowed {
			got[r.Principal] = strings.Join(r.Via, "; ")
		}
		want := map[string]string{
			"arn:aws:iam::" + dgAccount + ":role/PlatformAdmin": "clusterrolebinding/platform-admins (clusterrole/cluster-admin, Group platform:admins)",
			"arn:aws:iam::" + dgAccount + ":role/BreakGlass":    "system:masters (unrestricted); clusterrolebinding/cluster-admin (clusterrole/cluster-admin, Group system:masters)",
			"arn:aws:iam::" + dgAccount + ":user/bob":           "rolebinding/apps/bob-pods (role/apps/pod-deleter, User bob)",
		}
		if !mapsEqual(got, want) {
			t.Errorf("who-can delete pods -n apps:\n got  %v\n want %v", got, want)
		}
		// ci:{{SessionName}} has no group: only the user binding for
		// ci:job-1 could allow it, and that is not claimed as granted.
		if len(wc.Possible) != 1 || wc.Possible[0].Principal != "arn:aws:iam::"+dgAccount+":role/ci-*" ||
			!strings.Contains(strings.Join(wc.Possible[0].Via, ""), "rolebinding/apps/ci-job-1 (if the username is ci:job-1)") {
			t.Errorf("possible = %+v", wc.Possible)
		}
		// Each claim agrees with kubectl auth can-i as a principal of the entry.
		for id, want := range map[*identity]bool{&dgAdmin: true, &dgBreak: true, &bob: true, &dgK10: false, &dgSSO: false, &dgCI: true} {
			if can := canI(t, c.kubeconfigFor(t, *id, c.id), "delete", "pods", "-n", "apps"); can != want {
				t.Errorf("%s: kubectl auth can-i delete pods -n apps = %v, want %v", id.sts.Arn, can, want)
			}
		}

		_, errs := dgRun(t, deps, 1, append([]string{"who-can", "get", "podz"}, admin...)...)
		if !strings.Contains(errs, `the cluster serves no resource "podz"`) {
			t.Errorf("who-can get podz: %q", errs)
		}

		out, _ = dgRun(t, deps, 0, append([]string{"who-can", "get", "pods", "-n", "apps"}, admin...)...)
		for _, want := range []string{"sso Dev in " + dgAccount, "clusterrolebinding/sso-devs", "role/automation/K10Operator", "clusterrolebinding/k10-basic",
			"ci:{{SessionName}}"} {
			if !strings.Contains(out, want) {
				t.Errorf("who-can get pods lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("DiagnosticsClusterRole", func(t *testing.T) {
		kc := c.kubeconfigFor(t, auditorKey, c.id)
		args := []string{"who-can", "get", "pods", "-c", cfg, "--kubeconfig", kc}
		_, errs := dgRun(t, deps, 1, args...)
		if !strings.Contains(errs, "may not list clusterroles") || !strings.Contains(errs, "deploy/rbac/diagnostics-clusterrole.yaml") ||
			strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("who-can without the ClusterRole: %q", errs)
		}
		c.admin(t, "apply", "-f", "../../../deploy/rbac/diagnostics-clusterrole.yaml")
		c.admin(t, "create", "clusterrolebinding", "iamgate-diagnostics", "--clusterrole=iamgate-diagnostics", "--user=auditor")
		c.admin(t, "create", "rolebinding", "iamgate-diagnostics", "-n", "kube-system", "--role=iamgate-diagnostics", "--user=auditor")
		eventually(t, "the auditor may list clusterroles", func() bool { return canI(t, kc, "list", "clusterroles") })
		dgRun(t, deps, 0, args...)
		// explain also reads the live aws-auth through the kubeconfig.
		dgRun(t, deps, 0, "explain", bob.sts.Arn, "-c", cfg, "--backend-mode", "MountedFile,EKSConfigMap", "--kubeconfig", kc,
			"--verb", "get", "--resource", "pods")
	})

	t.Run("Whoami", func(t *testing.T) {
		moto.SetEnv(t, mo.URL)
		use := func(id identity) {
			t.Setenv("AWS_ACCESS_KEY_ID", id.accessKeyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", id.secret)
			t.Setenv("AWS_REGION", region)
		}
		use(bob)
		kc := c.kubeconfigFor(t, bob, c.id)
		out, _ := dgRun(t, deps, 0, "whoami", "-i", c.id, "--kubeconfig", kc, "-o", "json")
		var r struct {
			Caller  struct{ ARN string }
			Cluster struct {
				Authenticated bool
				Username      string
				Groups        []string
				Extra         map[string][]string
				Causes        []struct {
					Cause  string
					Likely bool
				}
			}
		}
		dgJSON(t, out, &r)
		u := whoami(t, kc)
		if r.Caller.ARN != bob.sts.Arn || !r.Cluster.Authenticated || r.Cluster.Username != u.Username ||
			!slices.Equal(r.Cluster.Groups, u.Groups) || len(r.Cluster.Extra) == 0 {
			t.Errorf("whoami as bob: %s\nkubectl auth whoami: %+v", out, u)
		}

		// From kubectl's context: no -i, no --kubeconfig; the cluster id
		// comes from the exec plugin's args in ~/.kube/config.
		home := t.TempDir()
		b, err := os.ReadFile(kc)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(home, ".kube", "config"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("HOME", home)
		t.Setenv("KUBECONFIG", "")
		out, _ = dgRun(t, deps, 0, "whoami")
		if !strings.Contains(out, "cluster id:    e2e-cluster (from kubectl's exec plugin)") || !strings.Contains(out, "username:      bob") {
			t.Errorf("whoami from kubectl's context:\n%s", out)
		}

		use(eve)
		out, errs := dgRun(t, deps, 2, "whoami", "-i", c.id, "--kubeconfig", c.kubeconfigFor(t, eve, c.id))
		for _, want := range []string{"Unauthorized", "1. wrong cluster id", "wrong account: STS reports account " + dgAccount, "check: "} {
			if !strings.Contains(out, want) {
				t.Errorf("whoami as eve lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(errs, "answered Unauthorized") {
			t.Errorf("stderr %q", errs)
		}

		// Signed for another cluster id than kubectl's exec plugin: that
		// cause is confirmed and comes first.
		use(bob)
		out, _ = dgRun(t, deps, 2, "whoami", "-i", "other-cluster", "--kubeconfig", kc, "-o", "json")
		dgJSON(t, out, &r)
		if r.Cluster.Authenticated || len(r.Cluster.Causes) == 0 || !r.Cluster.Causes[0].Likely ||
			!strings.Contains(r.Cluster.Causes[0].Cause, `signs for "e2e-cluster", this run for "other-cluster"`) {
			t.Errorf("whoami for another cluster id: %s", out)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// dgMotoUser makes an IAM user with a key in moto and the same identity in
// the STS double's terms.
func dgMotoUser(t *testing.T, im *iam.Client, name string) identity {
	t.Helper()
	ctx := context.Background()
	u, err := im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	k, err := im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	id := identity{accessKeyID: aws.ToString(k.AccessKey.AccessKeyId), secret: aws.ToString(k.AccessKey.SecretAccessKey),
		sts: stsIdentity(aws.ToString(u.User.Arn), aws.ToString(u.User.UserId))}
	return id
}

func stsIdentity(arn, userID string) ststest.Identity {
	return ststest.Identity{Arn: arn, Account: dgAccount, UserId: userID}
}
