package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
	"github.com/iamgate/iamgate/internal/testsupport/moto"
)

func resolveIDsRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"resolve-ids"}, args...), Deps{},
		Streams{In: strings.NewReader(""), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

// resolveIDsRole creates a role in moto and returns its unique ID.
func resolveIDsRole(t *testing.T, name string) string {
	t.Helper()
	out, err := moto.IAM(t).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String(name),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Role.RoleId)
}

func TestResolveIDsFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "at least one of the flags in the group [file configmap] is required"},
		{[]string{"-f", "x", "--configmap"}, "none of the others can be"},
		{[]string{"-f", "x", "--context", "prod"}, "--kubeconfig and --context only apply with --configmap"},
	} {
		code, _, errOut := resolveIDsRun(t, tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// The command end to end against moto: a dry run prints the change and
// leaves the file; --write applies it; a differing userid exits 2.
func TestResolveIDsFile(t *testing.T) {
	moto.Env(t)
	id := resolveIDsRole(t, "cli-app")
	path := filepath.Join(t.TempDir(), "config.yaml")
	text := "clusterID: prod\nserver:\n  mapRoles:\n  # the app\n  - rolearn: arn:aws:iam::123456789012:role/cli-app\n    username: app\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := resolveIDsRun(t, "-f", path)
	if code != 0 || !strings.Contains(out, "+     userid: "+id) || !strings.Contains(out, "dry run, nothing written") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != text {
		t.Fatal("dry run changed the file")
	}

	code, out, errOut = resolveIDsRun(t, "-f", path, "--write")
	if code != 0 || !strings.Contains(out, "1 filled; written") {
		t.Fatalf("write: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != text+"    userid: "+id+"\n" {
		t.Fatalf("file:\n%s", b)
	}

	stale := strings.Replace(text+"    userid: "+id+"\n", id, "AROAOLDOLDOLDOLDOLD12", 1)
	if err := os.WriteFile(path, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = resolveIDsRun(t, "-f", path, "--write")
	if code != 2 || !strings.Contains(out, "!     userid: AROAOLDOLDOLDOLDOLD12, but IAM's is "+id) ||
		!strings.Contains(errOut, "1 entries need attention") {
		t.Fatalf("differing id: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != stale {
		t.Fatal("a differing userid was replaced without --overwrite")
	}
}

// --configmap reads the cluster from --kubeconfig, as kubectl would.
func TestAPIServerResolveIDsConfigMap(t *testing.T) {
	moto.Env(t)
	id := resolveIDsRole(t, "cli-node")
	env := kube.Start(t, kube.Options{})
	mapRoles := "- rolearn: arn:aws:iam::123456789012:role/cli-node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:nodes\n"
	_, err := env.Client.CoreV1().ConfigMaps("kube-system").Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "aws-auth", Namespace: "kube-system"},
		Data:       map[string]string{"mapRoles": mapRoles},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "absent")) // only --kubeconfig may count

	code, out, errOut := resolveIDsRun(t, "--configmap", "--kubeconfig", env.Kubeconfig, "--write")
	if code != 0 || !strings.Contains(out, "configmap kube-system/aws-auth: write") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	cm, err := env.Client.CoreV1().ConfigMaps("kube-system").Get(context.Background(), "aws-auth", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := cm.Data["mapRoles"]; got != mapRoles+"  userid: "+id+"\n" {
		t.Fatalf("mapRoles:\n%s", got)
	}

	code, _, errOut = resolveIDsRun(t, "--configmap", "--kubeconfig", env.Kubeconfig, "--context", "no-such-context")
	if code != 1 || !strings.Contains(errOut, "no-such-context") {
		t.Fatalf("unknown context: exit %d, %s", code, errOut)
	}
}
