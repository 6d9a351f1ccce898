package resolveids

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

func createAWSAuth(t *testing.T, client kubernetes.Interface, data map[string]string) {
	t.Helper()
	_, err := client.CoreV1().ConfigMaps(AWSAuthNamespace).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: AWSAuthName, Namespace: AWSAuthNamespace},
		Data:       data,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func getAWSAuth(t *testing.T, client kubernetes.Interface) *corev1.ConfigMap {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps(AWSAuthNamespace).Get(context.Background(), AWSAuthName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// One real apiserver for the ConfigMap cases: a dry run, a write, and a
// write racing a concurrent edit, which must survive.
func TestAPIServerConfigMap(t *testing.T) {
	f := newFixture(t)
	env := kube.Start(t, kube.Options{})
	ctx := context.Background()
	adminID := f.role(f.name("admin"), "/")
	nodeID := f.role(f.name("node"), "/")
	mapRoles := strings.ReplaceAll(`# managed by hand; ask #platform
- rolearn: arn:aws:iam::123456789012:role/admin-SUFFIX
  username: admin:{{SessionName}}
  groups:
    - system:masters

- rolearn: arn:aws:iam::123456789012:role/missing-SUFFIX
  username: missing
`, "SUFFIX", f.suffix)
	mapAccounts := "- \"123456789012\"\n"
	createAWSAuth(t, env.Client, map[string]string{"mapRoles": mapRoles, "mapAccounts": mapAccounts})

	t.Run("dry run", func(t *testing.T) {
		before := getAWSAuth(t, env.Client)
		r, err := ResolveConfigMap(ctx, env.Client, AWSAuthNamespace, AWSAuthName, f.lookup, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if st := statuses(r); st["mapRoles[0]"] != Filled || st["mapRoles[1]"] != NotFound || r.Written {
			t.Fatalf("report %+v", r)
		}
		if after := getAWSAuth(t, env.Client); after.ResourceVersion != before.ResourceVersion {
			t.Fatal("a dry run updated the ConfigMap")
		}
	})

	t.Run("write survives a concurrent edit", func(t *testing.T) {
		// Between our read and our update, someone (eksctl, say) adds the
		// node role. Our update must fail on the resourceVersion, re-read,
		// and keep their entry, pinning it too.
		beforeUpdate = func(attempt int) {
			if attempt != 1 {
				return
			}
			cm := getAWSAuth(t, env.Client)
			cm.Data["mapRoles"] += "- rolearn: arn:aws:iam::123456789012:role/node-" + f.suffix +
				"\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n"
			if _, err := env.Client.CoreV1().ConfigMaps(AWSAuthNamespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Errorf("concurrent edit: %v", err)
			}
		}
		t.Cleanup(func() { beforeUpdate = nil })
		r, err := ResolveConfigMap(ctx, env.Client, AWSAuthNamespace, AWSAuthName, f.lookup, Options{Write: true})
		if err != nil {
			t.Fatal(err)
		}
		if !r.Written || r.Attempts != 2 {
			t.Fatalf("written %v after %d attempts, want 2", r.Written, r.Attempts)
		}
		cm := getAWSAuth(t, env.Client)
		got := cm.Data["mapRoles"]
		want := strings.Replace(mapRoles, "    - system:masters\n", "    - system:masters\n  userid: "+adminID+"\n", 1) +
			"- rolearn: arn:aws:iam::123456789012:role/node-" + f.suffix +
			"\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n  userid: " + nodeID + "\n"
		if got != want {
			t.Fatalf("mapRoles:\n%s\nwant:\n%s", got, want)
		}
		if cm.Data["mapAccounts"] != mapAccounts {
			t.Fatalf("mapAccounts changed: %q", cm.Data["mapAccounts"])
		}
		if !strings.Contains(r.Summary(Options{Write: true}), "written (after 1 conflicting edits") {
			t.Errorf("summary %q", r.Summary(Options{Write: true}))
		}
	})

	t.Run("nothing left to do", func(t *testing.T) {
		before := getAWSAuth(t, env.Client)
		r, err := ResolveConfigMap(ctx, env.Client, AWSAuthNamespace, AWSAuthName, f.lookup, Options{Write: true})
		if err != nil {
			t.Fatal(err)
		}
		if r.Written || r.Count(UpToDate) != 2 {
			t.Fatalf("report %+v", statuses(r))
		}
		if after := getAWSAuth(t, env.Client); after.ResourceVersion != before.ResourceVersion {
			t.Fatal("updated without a change")
		}
	})
}
