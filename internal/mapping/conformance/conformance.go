// Package conformance is the test suite every mapping backend must pass, so
// that MountedFile, ConfigMap, CRD and dynamic-file backends agree on who
// gets in. Each case pairs a match with a near miss that must not match.
package conformance

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// newBackend builds a backend from the core cases' valid entries.
type newBackend func(t *testing.T, roles []mapping.Entry, users []mapping.Entry, accounts []string) mapping.Mapper

const (
	acct    = "111122223333"
	other   = "444455556666"
	roleUID = "AROAEXAMPLEROLE1111"
	userUID = "AIDAEXAMPLEUSER1111"
	akid    = "ASIAEXAMPLEKEY11111"
)

func roleARN(account, name string) string { return "arn:aws:iam::" + account + ":role/" + name }

// session is the identity STS reports for an assumed-role session.
func session(t *testing.T, partition, account, role, sess string) mapping.Identity {
	t.Helper()
	return ident(t, "arn:"+partition+":sts::"+account+":assumed-role/"+role+"/"+sess, roleUID+":"+sess, sess)
}

// iamUser is the identity STS reports for an IAM user.
func iamUser(t *testing.T, account, name string) mapping.Identity {
	t.Helper()
	return ident(t, "arn:aws:iam::"+account+":user/"+name, userUID, "")
}

func ident(t *testing.T, a, uid, sess string) mapping.Identity {
	t.Helper()
	p, err := arn.Parse(a)
	if err != nil {
		t.Fatalf("test identity %q: %v", a, err)
	}
	return mapping.Identity{ARN: a, CanonicalARN: p.Canonical().String(), AccountID: p.AccountID,
		UserID: uid, SessionName: sess, AccessKeyID: akid}
}

func mustMap(t *testing.T, m mapping.Mapper, id mapping.Identity) *mapping.Result {
	t.Helper()
	r, err := m.Map(context.Background(), id)
	if err != nil {
		t.Fatalf("Map(%s) error: %v", id.ARN, err)
	}
	if r == nil {
		t.Fatalf("Map(%s) = nil result, nil error", id.ARN)
	}
	if !strings.HasPrefix(r.Source, m.Name()+" ") {
		t.Errorf("Map(%s).Source = %q, want it to start with the backend name %q", id.ARN, r.Source, m.Name())
	}
	return r
}

func mustNotMap(t *testing.T, m mapping.Mapper, id mapping.Identity) {
	t.Helper()
	r, err := m.Map(context.Background(), id)
	if !errors.Is(err, mapping.ErrNotMapped) || r != nil {
		t.Errorf("Map(%s) = %+v, %v; want ErrNotMapped", id.ARN, r, err)
	}
}

func mustFail(t *testing.T, m mapping.Mapper, id mapping.Identity) {
	t.Helper()
	r, err := m.Map(context.Background(), id)
	if err == nil || r != nil || errors.Is(err, mapping.ErrNotMapped) {
		t.Errorf("Map(%s) = %+v, %v; want an error other than ErrNotMapped", id.ARN, r, err)
	}
}

func want(t *testing.T, r *mapping.Result, username string, groups ...string) {
	t.Helper()
	if r.Username != username || !slices.Equal(r.Groups, groups) {
		t.Errorf("got %q %q, want %q %q", r.Username, r.Groups, username, groups)
	}
}

// runCore runs the cases every format can state: roles, users, accounts,
// templates, pinning, rendered reserved names.
func runCore(t *testing.T, f Factory, caps Capabilities) {
	newBackend := func(t *testing.T, roles, users []mapping.Entry, accounts []string) mapping.Mapper {
		t.Helper()
		return build(t, f, spec{Roles: roles, Users: users, Accounts: accounts}, rules.Options{})
	}
	o := caps
	admin := mapping.Entry{Kind: mapping.KindRole, ARN: roleARN(acct, "admin"), Username: "admin", Groups: []string{"system:masters"}}

	t.Run("Name", func(t *testing.T) {
		if m := newBackend(t, nil, nil, nil); m.Name() == "" {
			t.Error("Name() is empty")
		}
	})
	t.Run("AssumedRoleMatchesRole", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{admin}, nil, nil)
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "alice")), "admin", "system:masters")
		if r := mustMap(t, m, session(t, "aws", acct, "admin", "alice")); !strings.Contains(r.Source, "mapRoles[") {
			t.Errorf("Source = %q, want the mapRoles entry", r.Source)
		}
		mustNotMap(t, m, session(t, "aws", acct, "admin2", "alice"))
		mustNotMap(t, m, session(t, "aws", acct, "admi", "alice"))
		mustNotMap(t, m, session(t, "aws", acct, "dev", "admin"))
	})
	t.Run("OtherAccountOrPartitionNotMapped", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{admin}, nil, nil)
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "admin", "system:masters")
		mustNotMap(t, m, session(t, "aws", other, "admin", "s"))
		mustNotMap(t, m, session(t, "aws-cn", acct, "admin", "s"))
		mustNotMap(t, m, session(t, "aws-us-gov", acct, "admin", "s"))
	})
	t.Run("CaseInsensitiveARN", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{{Kind: mapping.KindRole, ARN: roleARN(acct, "Admin"), Username: "admin"}}, nil, nil)
		want(t, mustMap(t, m, session(t, "aws", acct, "ADMIN", "s")), "admin")
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "admin")
		mustNotMap(t, m, session(t, "aws", acct, "ADMINS", "s"))
	})
	t.Run("RolePathEntryMatchesSession", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{
			{Kind: mapping.KindRole, ARN: "arn:aws:iam::" + acct + ":role/team/dev", Username: "dev"},
			{Kind: mapping.KindRole, ARN: "arn:aws:iam::" + acct + ":role/teams/ops/deployer", Username: "deployer", UserID: roleUID},
		}, nil, nil)
		want(t, mustMap(t, m, session(t, "aws", acct, "dev", "s")), "dev")
		want(t, mustMap(t, m, ident(t, "arn:aws:iam::"+acct+":role/team/dev", roleUID, "")), "dev")
		mustNotMap(t, m, session(t, "aws", acct, "team", "s"))
		want(t, mustMap(t, m, session(t, "aws", acct, "deployer", "s")), "deployer")
		mustNotMap(t, m, session(t, "aws", acct, "ops", "s"))
		mustNotMap(t, m, session(t, "aws", acct, "teams", "s"))
		// Pinned: a re-created deployer (new unique ID) gets nothing.
		id := session(t, "aws", acct, "deployer", "s")
		id.UserID = "AROAEXAMPLEROLE2222:s"
		mustNotMap(t, m, id)
	})
	t.Run("LastDuplicateWins", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{
			{Kind: mapping.KindRole, ARN: roleARN(acct, "admin"), Username: "first", Groups: []string{"system:masters"}},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "Admin"), Username: "second", Groups: []string{"viewers"}},
		}, nil, nil)
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "second", "viewers")
	})
	t.Run("UserMapping", func(t *testing.T) {
		users := []mapping.Entry{
			{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":user/alice", Username: "alice", Groups: []string{"devs"}},
			{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":user/ops/bob", Username: "bob"},
		}
		m := newBackend(t, nil, users, nil)
		want(t, mustMap(t, m, iamUser(t, acct, "alice")), "alice", "devs")
		want(t, mustMap(t, m, iamUser(t, acct, "Alice")), "alice", "devs")
		want(t, mustMap(t, m, iamUser(t, acct, "ops/bob")), "bob")
		mustNotMap(t, m, iamUser(t, acct, "alicia"))
		mustNotMap(t, m, iamUser(t, other, "alice"))
	})
	t.Run("UserAndRoleDoNotCross", func(t *testing.T) {
		m := newBackend(t,
			[]mapping.Entry{{Kind: mapping.KindRole, ARN: roleARN(acct, "alice"), Username: "role-alice"}},
			[]mapping.Entry{{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":user/admin", Username: "user-admin"}}, nil)
		want(t, mustMap(t, m, session(t, "aws", acct, "alice", "s")), "role-alice")
		mustNotMap(t, m, iamUser(t, acct, "alice"))
		want(t, mustMap(t, m, iamUser(t, acct, "admin")), "user-admin")
		mustNotMap(t, m, session(t, "aws", acct, "admin", "s"))
		mustNotMap(t, m, ident(t, "arn:aws:sts::"+acct+":federated-user/alice", acct+":alice", ""))
	})
	t.Run("Root", func(t *testing.T) {
		m := newBackend(t, nil, []mapping.Entry{{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":root", Username: "root"}}, nil)
		want(t, mustMap(t, m, ident(t, "arn:aws:iam::"+acct+":root", acct, "")), "root")
		mustNotMap(t, m, ident(t, "arn:aws:iam::"+other+":root", other, ""))
	})
	t.Run("MapAccounts", func(t *testing.T) {
		if o.NoAccounts {
			t.Skip("the backend's format has no mapAccounts")
		}
		m := newBackend(t, []mapping.Entry{admin}, nil, []string{acct})
		r := mustMap(t, m, session(t, "aws", acct, "dev", "s"))
		want(t, r, "arn:aws:iam::"+acct+":role/dev")
		if !strings.Contains(r.Source, "mapAccounts["+acct+"]") {
			t.Errorf("Source = %q, want mapAccounts[%s]", r.Source, acct)
		}
		want(t, mustMap(t, m, iamUser(t, acct, "carol")), "arn:aws:iam::"+acct+":user/carol")
		// An entry beats the account fallback.
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "admin", "system:masters")
		mustNotMap(t, m, session(t, "aws", other, "dev", "s"))
		mustNotMap(t, m, iamUser(t, other, "carol"))
	})
	t.Run("Templates", func(t *testing.T) { runTemplates(t, newBackend) })
	t.Run("EC2PrivateDNSNameIsAnError", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{
			{Kind: mapping.KindRole, ARN: roleARN(acct, "node"), Username: "system:node:{{EC2PrivateDNSName}}", Groups: []string{"system:nodes"}},
			admin,
		}, nil, []string{acct})
		// Not even the mapAccounts fallback: the entry matched and failed.
		mustFail(t, m, session(t, "aws", acct, "node", "i-0123456789abcdef0"))
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "admin", "system:masters")
	})
	t.Run("UserIDPin", func(t *testing.T) {
		pinned := admin
		pinned.UserID = roleUID
		m := newBackend(t, []mapping.Entry{pinned}, nil, nil)
		id := session(t, "aws", acct, "admin", "s")
		want(t, mustMap(t, m, id), "admin", "system:masters")
		for _, uid := range []string{"AROAEXAMPLEROLE2222:s", roleUID + "0:s", strings.ToLower(roleUID) + ":s", "", "s"} {
			id.UserID = uid
			mustNotMap(t, m, id)
		}
	})
	t.Run("UserIDPinUser", func(t *testing.T) {
		m := newBackend(t, nil, []mapping.Entry{
			{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":user/alice", Username: "alice", UserID: userUID},
			{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":root", Username: "root", UserID: acct},
		}, nil)
		id := iamUser(t, acct, "alice")
		want(t, mustMap(t, m, id), "alice")
		for _, uid := range []string{"AIDAEXAMPLEUSER2222", userUID + "0", strings.ToLower(userUID), ""} {
			id.UserID = uid
			mustNotMap(t, m, id)
		}
		want(t, mustMap(t, m, ident(t, "arn:aws:iam::"+acct+":root", acct, "")), "root")
		mustNotMap(t, m, ident(t, "arn:aws:iam::"+acct+":root", other, ""))
	})
	t.Run("ReservedNameRenderedDenied", func(t *testing.T) {
		// The caller chooses the access key ID text the server sees only
		// through a checked token, but the mapping must not rely on that: a
		// rendered reserved name denies whatever produced it.
		m := newBackend(t, []mapping.Entry{
			{Kind: mapping.KindRole, ARN: roleARN(acct, "u"), Username: "{{AccessKeyID}}", Groups: []string{"viewers"}},
			{Kind: mapping.KindRole, ARN: roleARN(acct, "g"), Username: "g", Groups: []string{"{{AccessKeyID}}"}},
		}, nil, []string{acct})
		want(t, mustMap(t, m, session(t, "aws", acct, "u", "s")), akid, "viewers")
		want(t, mustMap(t, m, session(t, "aws", acct, "g", "s")), "g", akid)
		for _, bad := range []string{"system:admin", "SYSTEM:masters", "eks:x", "aws:x", "amazon:x", "iam:x"} {
			for _, role := range []string{"u", "g"} {
				id := session(t, "aws", acct, role, "s")
				id.AccessKeyID = bad
				mustFail(t, m, id)
			}
		}
	})
	t.Run("Unmapped", func(t *testing.T) {
		m := newBackend(t, nil, nil, nil)
		mustNotMap(t, m, session(t, "aws", acct, "admin", "s"))
		mustNotMap(t, m, iamUser(t, acct, "alice"))
	})
	t.Run("ResultNotShared", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{admin}, nil, nil)
		r := mustMap(t, m, session(t, "aws", acct, "admin", "s"))
		r.Groups[0] = "tampered"
		want(t, mustMap(t, m, session(t, "aws", acct, "admin", "s")), "admin", "system:masters")
	})
	t.Run("Concurrent", func(t *testing.T) {
		m := newBackend(t, []mapping.Entry{admin}, nil, []string{acct})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					if r, err := m.Map(context.Background(), session(t, "aws", acct, "admin", "s")); err != nil || r.Username != "admin" {
						t.Errorf("goroutine %d: %+v, %v", i, r, err)
						return
					}
					if _, err := m.Map(context.Background(), session(t, "aws", other, "admin", "s")); !errors.Is(err, mapping.ErrNotMapped) {
						t.Errorf("goroutine %d: other account: %v", i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

func runTemplates(t *testing.T, newBackend newBackend) {
	tests := []struct{ name, username, group, want string }{
		{"AccountID", "u-{{AccountID}}", "g-{{AccountID}}", "u-" + acct},
		{"SessionName", "u-{{SessionName}}", "g-{{SessionName}}", "u-alice-example.com"},
		{"SessionNameRaw", "u-{{SessionNameRaw}}", "g-{{SessionNameRaw}}", "u-alice@example.com"},
		{"AccessKeyID", "admin:{{AccessKeyID}}:{{SessionName}}", "g", "admin:" + akid + ":alice-example.com"},
		{"Literal", "u-AccountID", "g", "u-AccountID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newBackend(t, []mapping.Entry{{Kind: mapping.KindRole, ARN: roleARN(acct, "r"), Username: tt.username, Groups: []string{tt.group}}}, nil, nil)
			r := mustMap(t, m, session(t, "aws", acct, "r", "alice@example.com"))
			wantGroup := "g" + strings.TrimPrefix(tt.want, "u")
			if tt.group == "g" {
				wantGroup = "g"
			}
			want(t, r, tt.want, wantGroup)
			// Near miss: another session renders differently.
			r2 := mustMap(t, m, session(t, "aws", acct, "r", "bob"))
			if tt.name != "AccountID" && tt.name != "Literal" && r2.Username == r.Username {
				t.Errorf("username %q did not depend on the session", r.Username)
			}
		})
	}
	t.Run("EmptyRenderIsAnError", func(t *testing.T) {
		m := newBackend(t, nil, []mapping.Entry{{Kind: mapping.KindUser, ARN: "arn:aws:iam::" + acct + ":user/u", Username: "{{SessionName}}"}}, []string{acct})
		mustFail(t, m, iamUser(t, acct, "u"))
	})
}
