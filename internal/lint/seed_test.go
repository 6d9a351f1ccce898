package lint

import (
	"os"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// TestSeedExample: the seed documents' aws-auth has no error; its one
// warning is the admin role's system:masters, on the groups line.
func TestSeedExample(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-aws-auth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs := File("seed-aws-auth.yaml", data, Options{})
	if len(fs) != 1 || fs[0].Rule != "system-masters" || fs[0].Line != 17 || fs[0].Severity != Warning {
		t.Fatalf("want one system-masters warning on line 17, got\n%s", dump(fs))
	}
	// With the groups the cluster binds: k10:basic is bound.
	fs = File("seed-aws-auth.yaml", data, Options{BoundGroups: map[string]bool{"k10:basic": true}})
	if len(find(fs, "unbound-group")) != 0 {
		t.Fatalf("k10:basic is bound:\n%s", dump(fs))
	}
}

// TestConfigMapDataFromAPI: data read from the API has no file; lines
// count in each value and the object is named.
func TestConfigMapDataFromAPI(t *testing.T) {
	data := map[string]string{
		"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/a\n  username: a\n- rolearn: arn:aws:sts::111122223333:assumed-role/B/s\n  username: b\n",
		"mapUsers": "- userarn: arn:aws:iam::111122223333:user/u\n  usrname: u\n",
	}
	fs := ConfigMapData(data, awsauth.Source{Backend: "EKSConfigMap", Object: "kube-system/aws-auth"}, Options{})
	a, u := find(fs, "assumed-role-arn"), find(fs, "unknown-key")
	if len(a) != 1 || a[0].Line != 3 || a[0].Section != "mapRoles" || a[0].Object != "kube-system/aws-auth" || a[0].File != "" {
		t.Errorf("assumed-role-arn: %+v", a)
	}
	if len(u) != 1 || u[0].Line != 2 || u[0].Section != "mapUsers" {
		t.Errorf("unknown-key: %+v", u)
	}
	if got := a[0].String(); got != "kube-system/aws-auth mapRoles:3: error: "+a[0].Message+" [assumed-role-arn]" {
		t.Errorf("String() = %q", got)
	}
	if len(fs) != 2 {
		t.Errorf("want 2 findings, got\n%s", dump(fs))
	}
}
