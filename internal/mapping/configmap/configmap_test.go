package configmap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/conformance"
	"github.com/iamgate/iamgate/internal/mapping/live"
	"github.com/iamgate/iamgate/internal/mapping/rules"
	"github.com/iamgate/iamgate/internal/testsupport/kube"
)

const (
	acct = "111122223333"
	akid = "ASIAEXAMPLEKEY11111"
)

// session is the identity STS reports for a session of role in acct.
func session(role, sess string) mapping.Identity {
	return mapping.Identity{
		ARN:          "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + sess,
		CanonicalARN: "arn:aws:iam::" + acct + ":role/" + role,
		AccountID:    acct, UserID: "AROAEXAMPLEROLE1111:" + sess, SessionName: sess, AccessKeyID: akid,
	}
}

func iamUser(name string) mapping.Identity {
	a := "arn:aws:iam::" + acct + ":user/" + name
	return mapping.Identity{ARN: a, CanonicalARN: a, AccountID: acct, UserID: "AIDAEXAMPLEUSER1111", AccessKeyID: akid}
}

func wantMapped(t *testing.T, b *Backend, id mapping.Identity, username string, groups ...string) {
	t.Helper()
	r, err := b.Map(context.Background(), id)
	if err != nil {
		t.Fatalf("Map(%s): %v, want %s %v", id.ARN, err, username, groups)
	}
	if r.Username != username || !slices.Equal(r.Groups, groups) {
		t.Errorf("Map(%s) = %q %q, want %q %q", id.ARN, r.Username, r.Groups, username, groups)
	}
}

func wantNotMapped(t *testing.T, b *Backend, id mapping.Identity) {
	t.Helper()
	if r, err := b.Map(context.Background(), id); !isNotMapped(err) {
		t.Errorf("Map(%s) = %+v, %v; want ErrNotMapped", id.ARN, r, err)
	}
}

// wantRefused checks the deny a backend answers while its aws-auth was
// refused and nothing good was read from it (no later backend decides).
func wantRefused(t *testing.T, b *Backend, id mapping.Identity) {
	t.Helper()
	if r, err := b.Map(context.Background(), id); !errors.Is(err, live.ErrRefused) || r != nil {
		t.Errorf("Map(%s) = %+v, %v; want live.ErrRefused", id.ARN, r, err)
	}
}

// seedAwsAuth is the aws-auth of the seed documents, as EKS and eksctl
// write it: a node role, an admin role and a role bound to k10:basic.
var seedAwsAuth = map[string]string{
	"mapRoles": `- groups:
  - system:bootstrappers
  - system:nodes
  rolearn: arn:aws:iam::111122223333:role/eksctl-demo-nodegroup-ng-1-NodeInstanceRole-1GFKA1037E1XO
  username: system:node:{{EC2PrivateDNSName}}
- rolearn: arn:aws:iam::111122223333:role/Admin
  username: admin:{{AccessKeyID}}:{{SessionName}}
  groups:
    - system:masters
- rolearn: arn:aws:iam::111122223333:role/K10Basic
  username: k10-basic-user
  groups:
    - k10:basic
`,
	"mapUsers": "[]\n",
}

// TestAPIServerConfigMap runs every backend test against one real kube-apiserver
// (starting it takes seconds; one per package keeps the suite quick).
func TestAPIServerConfigMap(t *testing.T) {
	env := kube.Start(t, kube.Options{})
	c := env.Client
	const ns = "kube-system"

	t.Run("Conformance", func(t *testing.T) {
		// Each case gets its own aws-auth and backend (the options differ
		// per case), written before the backend starts: its first list is
		// the load the suite checks.
		conformance.Run(t, func(t *testing.T, entries []mapping.Entry, opts rules.Options) (mapping.Mapper, error) {
			name := uniqueName()
			putConfigMap(t, c, ns, name, awsAuthData(t, entries...))
			t.Cleanup(func() { _ = c.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{}) })
			f := startBackendWith(t, c, Options{Namespace: ns, Name: name, Mapping: opts})
			if o, _ := f.b.observed(); o.rejected {
				return nil, fmt.Errorf("aws-auth %s refused as a whole (load errors %v)", name, f.loadErrors())
			}
			return f.b, nil
		}, conformance.Capabilities{})
	})

	t.Run("EditsApplyInPlace", func(t *testing.T) {
		// The suite through one backend and one ConfigMap edited for every
		// case: the path a real aws-auth edit takes. The backend's options
		// are fixed, so cases that need others are left to Conformance.
		f := startBackend(t, c, ns, uniqueName())
		conformance.Run(t, func(t *testing.T, entries []mapping.Entry, opts rules.Options) (mapping.Mapper, error) {
			if opts.SSORoleMatch || opts.Groups != nil || opts.EC2 != nil || len(opts.AllowReserved) > 0 || len(opts.ReservedUsernamePrefixes) > 0 {
				t.Skip("needs mapping options other than the running backend's")
			}
			rv := f.put(awsAuthData(t, entries...))
			if o := f.waitFor("resourceVersion "+rv, func(o observation) bool { return o.rv == rv }); o.rejected {
				return nil, fmt.Errorf("edit %s refused as a whole", rv)
			}
			return f.b, nil
		}, conformance.Capabilities{})
	})

	t.Run("SeedAwsAuthLoadsWithoutProblems", func(t *testing.T) {
		f := startBackend(t, c, ns, uniqueName())
		f.waitApplied(f.put(seedAwsAuth))
		for _, s := range []string{KeyMapRoles, KeyMapUsers, KeyMapAccounts} {
			if n := f.skipped(s); n != 0 {
				t.Errorf("%s skipped = %v, want 0", s, n)
			}
		}
		if f.loadErrors() != 0 || f.lastSuccess() != 1 {
			t.Errorf("load errors %v, last success %v; want 0, 1", f.loadErrors(), f.lastSuccess())
		}
		if roles, _, _ := f.b.Table().Counts(); roles != 3 {
			t.Errorf("roles in effect = %d, want 3", roles)
		}
		wantMapped(t, f.b, session("Admin", "alice@example.com"), "admin:"+akid+":alice-example.com", "system:masters")
		wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
		node := session("eksctl-demo-nodegroup-ng-1-NodeInstanceRole-1GFKA1037E1XO", "i-0123456789abcdef0")
		if _, err := f.b.Map(context.Background(), node); !errors.Is(err, rules.ErrEC2PrivateDNSNameUnsupported) {
			t.Errorf("node session: %v, want ErrEC2PrivateDNSNameUnsupported (loaded, denied until supported)", err)
		}
		wantNotMapped(t, f.b, session("Developer", "carol"))
	})

	t.Run("InvalidEntriesSkippedOthersApply", func(t *testing.T) {
		f := startBackend(t, c, ns, uniqueName())
		f.waitApplied(f.put(map[string]string{
			"mapRoles": `- rolearn: arn:aws:iam::111122223333:role/admin
  username: admin
  groups: [system:masters]
- rolarn: arn:aws:iam::111122223333:role/typo
  username: typo
- rolearn: arn:aws:iam::111122223333:role/twice
  username: one
  username: two
- rolearn: arn:aws:iam::111122223333:user/notarole
  username: wrongkind
`,
			"mapUsers": `- userarn: arn:aws:iam::111122223333:user/alice
  username: alice
- userarn: arn:aws:iam::111122223333:user/bob
  username: bob
  groups: system:masters
`,
			"maproles": "- this key is ignored\n",
		}))
		wantMapped(t, f.b, session("admin", "s"), "admin", "system:masters")
		wantMapped(t, f.b, iamUser("alice"), "alice")
		// notarole's ARN is no role ARN: it names nothing and is only
		// skipped. The others' ARNs are readable, so they deny (a skipped
		// entry shadows earlier entries for its ARN; none come back).
		wantNotMapped(t, f.b, iamUser("notarole"))
		for _, id := range []mapping.Identity{session("twice", "s"), iamUser("bob")} {
			if r, err := f.b.Map(context.Background(), id); err == nil || isNotMapped(err) {
				t.Errorf("Map(%s) = %+v, %v; want a deny", id.ARN, r, err)
			}
		}
		wantNotMapped(t, f.b, session("typo", "s")) // "rolarn": no rolearn to read
		if f.skipped(KeyMapRoles) != 3 || f.skipped(KeyMapUsers) != 1 {
			t.Errorf("skipped mapRoles %v, mapUsers %v; want 3, 1", f.skipped(KeyMapRoles), f.skipped(KeyMapUsers))
		}
		if f.loadErrors() != 0 || f.lastSuccess() != 1 {
			t.Errorf("load errors %v, last success %v; want 0, 1", f.loadErrors(), f.lastSuccess())
		}
		if ev := waitEvent(t, c, ns, f.uid(), ReasonSkippedMappings, `unknown field "rolarn"`, "more than once", `"maproles"`); ev.Type != corev1.EventTypeWarning {
			t.Errorf("Event type %s, want Warning", ev.Type)
		}
	})

	t.Run("BrokenEditKeepsLastGood", func(t *testing.T) {
		f := startBackend(t, c, ns, uniqueName())
		f.waitApplied(f.put(seedAwsAuth))
		for _, broken := range []map[string]string{
			// a YAML syntax error in one key; the valid mapUsers beside it must not apply either
			{"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: [unclosed\n",
				"mapUsers": "- userarn: arn:aws:iam::111122223333:user/mallory\n  username: mallory\n"},
			// a misspelt template: fatal, never rendered literally
			{"mapRoles": "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin:{{SesionName}}\n"},
			// a section that is not a list
			{"mapRoles": "rolearn: arn:aws:iam::111122223333:role/Admin\nusername: admin\n"},
		} {
			f.waitRejected(f.put(broken))
			wantMapped(t, f.b, session("Admin", "alice"), "admin:"+akid+":alice", "system:masters")
			wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
			wantNotMapped(t, f.b, iamUser("mallory"))
			if f.lastSuccess() != 0 {
				t.Errorf("last success = %v after a rejected edit, want 0", f.lastSuccess())
			}
		}
		if f.loadErrors() != 3 {
			t.Errorf("load errors = %v, want 3", f.loadErrors())
		}
		if ev := waitEvent(t, c, ns, f.uid(), ReasonInvalidMappings, "stay in effect", "mapRoles", "invalid YAML"); ev.Type != corev1.EventTypeWarning {
			t.Errorf("Event type %s, want Warning", ev.Type)
		}

		// Fixing the data applies it.
		f.waitApplied(f.put(map[string]string{"mapUsers": "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n"}))
		wantMapped(t, f.b, iamUser("alice"), "alice")
		wantNotMapped(t, f.b, session("Admin", "alice"))
		if f.lastSuccess() != 1 {
			t.Errorf("last success = %v after a good edit, want 1", f.lastSuccess())
		}
	})

	t.Run("RestartWithBrokenDataDeniesAll", func(t *testing.T) {
		name := uniqueName()
		f := startBackend(t, c, ns, name)
		f.waitApplied(f.put(seedAwsAuth))
		brokenRV := f.put(map[string]string{"mapRoles": seedAwsAuth["mapRoles"] + "  - : [\n"})
		f.waitRejected(brokenRV)
		wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
		f.stop()

		g := startBackend(t, c, ns, name) // the restarted process
		if o, _ := g.b.observed(); o.rv != brokenRV || !o.rejected {
			t.Fatalf("after restart observed %+v, want resourceVersion %s rejected", o, brokenRV)
		}
		// Nothing good read since the restart: every review denied (not
		// left to a later backend).
		wantRefused(t, g.b, session("K10Basic", "bob"))
		wantRefused(t, g.b, session("Admin", "alice"))
		if g.loadErrors() != 1 || g.lastSuccess() != 0 {
			t.Errorf("load errors %v, last success %v; want 1, 0", g.loadErrors(), g.lastSuccess())
		}
		waitEvent(t, c, ns, g.uid(), ReasonInvalidMappings, "resourceVersion "+brokenRV, "no mappings")
	})

	t.Run("DeleteRemovesMappings", func(t *testing.T) {
		f := startBackend(t, c, ns, uniqueName())
		f.waitApplied(f.put(seedAwsAuth))
		wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
		if err := c.CoreV1().ConfigMaps(ns).Delete(context.Background(), f.name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		f.waitFor("delete", func(o observation) bool { return o.deleted })
		wantNotMapped(t, f.b, session("K10Basic", "bob"))
		if !f.b.HasSynced() {
			t.Error("HasSynced false after delete; an absent aws-auth is a valid state")
		}
		// Created again, it applies again.
		f.waitApplied(f.put(seedAwsAuth))
		wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
	})

	t.Run("AbsentConfigMapSyncsEmpty", func(t *testing.T) {
		f := startBackend(t, c, ns, uniqueName())
		wantNotMapped(t, f.b, session("Admin", "alice"))
		f.waitApplied(f.put(seedAwsAuth))
		wantMapped(t, f.b, session("K10Basic", "bob"), "k10-basic-user", "k10:basic")
	})

	t.Run("OnlyTheNamedConfigMapIsWatched", func(t *testing.T) {
		f := startBackend(t, c, ns, uniqueName())
		putConfigMap(t, c, ns, f.name+"-other", seedAwsAuth)
		rv := f.put(map[string]string{"mapUsers": "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n"})
		f.waitApplied(rv)
		wantNotMapped(t, f.b, session("K10Basic", "bob"))
		putConfigMap(t, c, "default", f.name, seedAwsAuth)
		// Any event for another object would have been seen before this one.
		f.waitApplied(f.put(map[string]string{"mapUsers": "- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice2\n"}))
		wantMapped(t, f.b, iamUser("alice"), "alice2")
		wantNotMapped(t, f.b, session("K10Basic", "bob"))
	})

	t.Run("LeastPrivilegeRBAC", func(t *testing.T) { testLeastPrivilege(t, env) })
	t.Run("UpdateAppliesWithin1s", func(t *testing.T) { testUpdateLatency(t, c, ns) })
}
