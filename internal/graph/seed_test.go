package graph

import (
	"log/slog"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/mapping/awsauth"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/rbacview"
)

// seedAWSAuth is the seed scenario's aws-auth: nodes, a cluster admin, the
// K10 basic group, an IAM user mapped directly, an SSO permission set, a
// shadowed entry and a refused one.
var seedAWSAuth = map[string]string{
	"mapRoles": `- rolearn: arn:aws:iam::111122223333:role/NodeInstanceRole
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/ClusterAdmin
  username: admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/K10Operator
  username: k10-old
  groups: [k10:admin]
- rolearn: arn:aws:iam::111122223333:role/K10Operator
  username: k10:{{SessionName}}
  groups: [k10:basic]
- rolearn: arn:aws:iam::111122223333:role/Broken
  username: "system:admin"
  groups: [ops]
`,
	"mapUsers": `- userarn: arn:aws:iam::111122223333:user/alice
  username: alice
  groups: [dev]
`,
}

var seedSSO = `- sso:
    permissionSetName: ReadOnly
    accountID: "111122223333"
  username: ro:{{SessionName}}
  groups: [viewers]
`

func rb(ns, name string, ref rbacv1.RoleRef, subs ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, RoleRef: ref, Subjects: subs}
}

func crb(name string, ref rbacv1.RoleRef, subs ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: subs}
}

func group(n string) rbacv1.Subject { return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: n} }
func user(n string) rbacv1.Subject  { return rbacv1.Subject{Kind: rbacv1.UserKind, Name: n} }
func clusterRole(n string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: n}
}
func role(n string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: n}
}

// seedRBAC is the seed scenario's RBAC: K10's ClusterRole bound to
// k10:basic cluster-wide, alice's Role in "apps", dev as viewers of "apps"
// through a ClusterRole, a binding to a missing role, one to the session
// user k10:bob, and the apiserver default for system:authenticated.
func seedRBAC() *rbacview.Snapshot {
	crs := []rbacv1.ClusterRole{
		{ObjectMeta: metav1.ObjectMeta{Name: "k10-basic"}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get", "list"}, APIGroups: []string{"apps.kio.kasten.io"}, Resources: []string{"restorepoints"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "view"}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods"}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "system:basic-user"}, Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectreviews"}}}},
	}
	rs := []rbacv1.Role{{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "deployer"}, Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}}}}}
	crbs := []rbacv1.ClusterRoleBinding{
		crb("k10-basic", clusterRole("k10-basic"), group("k10:basic")),
		crb("bob-view", clusterRole("view"), user("k10:bob")),
		crb("system:basic-user", clusterRole("system:basic-user"), group(rbacview.Authenticated)),
		crb("everyone-view", clusterRole("view"), group(rbacview.Authenticated)),
	}
	rbs := []rbacv1.RoleBinding{
		rb("apps", "alice-deployer", role("deployer"), user("alice")),
		rb("apps", "dev-view", clusterRole("view"), group("dev")),
		rb("apps", "viewers-gone", role("gone"), group("viewers")),
	}
	return rbacview.New(crs, rs, crbs, rbs)
}

// seedInput builds the seed scenario's tables as the server builds them.
func seedInput(t testing.TB) Input {
	t.Helper()
	es, ps, _ := awsauth.ParseData(seedAWSAuth, awsauth.Source{Backend: "EKSConfigMap", Object: "kube-system/aws-auth"})
	if len(ps) != 0 {
		t.Fatalf("seed aws-auth problems: %v", ps)
	}
	tbl, _ := rules.Build("EKSConfigMap", es, rules.Options{Logger: slog.New(slog.DiscardHandler)})
	sso, ps := awsauth.ParseSectionYAML("mapRoles", []byte(seedSSO), awsauth.Source{Backend: "MountedFile", File: "config.yaml", LineOffset: 3})
	if len(ps) != 0 {
		t.Fatalf("seed sso problems: %v", ps)
	}
	file, _ := rules.Build("MountedFile", sso, rules.Options{Logger: slog.New(slog.DiscardHandler)})
	return Input{
		Sources: []Source{{Backend: "MountedFile", Entries: file.Entries()}, {Backend: "EKSConfigMap", Entries: tbl.Entries()}},
		RBAC:    seedRBAC(),
	}
}
