package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/cli"
	"github.com/iamgate/iamgate/internal/demo"
	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// explainServerConfig holds one entry of every kind the file backend
// reads, and near misses of each: paths, other accounts, an assumed-role
// ARN written as an entry, patterns of two ranks, a pinned userid, a
// later entry shadowing an earlier one, templates, the account fallback,
// root, and an {{EC2PrivateDNSName}} role that a server without EC2
// lookups must deny.
const explainServerConfig = `clusterID: explain-cluster
server:
  mapRoles:
  - rolearn: arn:aws:iam::111122223333:role/Admin
    username: admin:{{AccessKeyID}}:{{SessionName}}
    groups: [system:masters]
  - rolearn: arn:aws:iam::111122223333:role/automation/K10Operator
    username: k10:{{SessionNameRaw}}
    groups: [k10:basic]
  - rolearn: arn:aws:iam::444455556666:role/Ops
    username: ops-other
    groups: [ops]
  - rolearn: arn:aws:sts::111122223333:assumed-role/Dev/alice
    username: dev
    groups: [devs]
  - rolearn: arn:aws:iam::111122223333:role/ci-*
    username: ci:{{SessionName}}
    groups: [ci]
  - rolearn: arn:aws:iam::111122223333:role/ci-deploy-*
    username: ci-deploy:{{SessionName}}
    groups: [ci, deployers]
  - rolearn: arn:aws:iam::111122223333:role/Pinned
    username: pinned
    groups: [pinned]
    userid: AROAEXPLAINPINNED001
  - rolearn: arn:aws:iam::111122223333:role/Twice
    username: twice-first
    groups: [first]
  - rolearn: arn:aws:iam::111122223333:role/Twice
    username: twice-second
    groups: [second]
  - rolearn: arn:aws:iam::111122223333:role/Node
    username: system:node:{{EC2PrivateDNSName}}
    groups: [system:nodes]
  - rolearn: arn:aws:iam::111122223333:role/Acct
    username: acct-{{AccountID}}
  mapUsers:
  - userarn: arn:aws:iam::111122223333:user/bob
    username: bob
    groups: [developers]
  - userarn: arn:aws:iam::111122223333:user/team/carol
    username: carol
  - userarn: arn:aws:iam::111122223333:root
    username: root-of-acct
    groups: [system:masters]
  mapAccounts:
  - "777788889999"
`

// explainCase is one identity: its key in the STS double and what STS
// reports for it.
type explainCase struct {
	key, arn, userID string
}

func explainCases() []explainCase {
	const a = "111122223333"
	sess := func(key, role, s, id string) explainCase {
		return explainCase{key, "arn:aws:sts::" + a + ":assumed-role/" + role + "/" + s, id + ":" + s}
	}
	return []explainCase{
		sess("ASIAEXPLAINADMIN0001", "Admin", "alice@example.com", "AROAEXPLAINADMIN0001"),
		sess("ASIAEXPLAINK10000001", "K10Operator", "backup@ci", "AROAEXPLAINK10000001"),
		sess("ASIAEXPLAINOPS000001", "Ops", "x", "AROAEXPLAINOPS000001"),
		sess("ASIAEXPLAINDEV000001", "Dev", "alice", "AROAEXPLAINDEV000001"),
		sess("ASIAEXPLAINDEV000002", "Dev", "bob", "AROAEXPLAINDEV000001"),
		sess("ASIAEXPLAINCI0000001", "ci-runner", "job-1", "AROAEXPLAINCI0000001"),
		sess("ASIAEXPLAINCI0000002", "ci-deploy-prod", "job-2", "AROAEXPLAINCI0000002"),
		sess("ASIAEXPLAINCI0000003", "cix", "job-3", "AROAEXPLAINCI0000003"),
		sess("ASIAEXPLAINPIN000001", "Pinned", "p", "AROAEXPLAINPINNED001"),
		sess("ASIAEXPLAINPIN000002", "Pinned", "p", "AROAEXPLAINRECREATED"),
		sess("ASIAEXPLAINTWICE0001", "Twice", "t", "AROAEXPLAINTWICE0001"),
		sess("ASIAEXPLAINNODE00001", "Node", "i-0123456789abcdef0", "AROAEXPLAINNODE00001"),
		sess("ASIAEXPLAINACCT00001", "Acct", "s", "AROAEXPLAINACCT00001"),
		sess("ASIAEXPLAINADMIN0002", "admin", "lower", "AROAEXPLAINADMIN0002"),
		{"AKIAEXPLAINBOB000001", "arn:aws:iam::" + a + ":user/bob", "AIDAEXPLAINBOB000001"},
		{"AKIAEXPLAINBOB000002", "arn:aws:iam::" + a + ":user/other/bob", "AIDAEXPLAINBOB000002"},
		{"AKIAEXPLAINCAROL0001", "arn:aws:iam::" + a + ":user/team/carol", "AIDAEXPLAINCAROL0001"},
		{"AKIAEXPLAINCAROL0002", "arn:aws:iam::" + a + ":user/carol", "AIDAEXPLAINCAROL0002"},
		{"AKIAEXPLAINROOT00001", "arn:aws:iam::" + a + ":root", a},
		{"AKIAEXPLAINROOT00002", "arn:aws:iam::444455556666:root", "444455556666"},
		sess("ASIAEXPLAINOTHER0001", "Anything", "s", "AROAEXPLAINOTHER0001"),
		{"ASIAEXPLAINFED000001", "arn:aws:sts::" + a + ":federated-user/fed", a + ":fed"},
		{"ASIAEXPLAINACCT00002", "arn:aws:sts::777788889999:assumed-role/Whatever/s", "AROAEXPLAINACCT00002:s"},
		{"AKIAEXPLAINACCT00003", "arn:aws:iam::777788889999:user/u", "AIDAEXPLAINACCT00003"},
	}
}

type explainJSON struct {
	Identity struct {
		ARN string `json:"arn"`
	} `json:"identity"`
	Backends []struct {
		Backend string `json:"backend"`
		Outcome string `json:"outcome"`
	} `json:"backends"`
	Decision struct {
		Authenticated bool     `json:"authenticated"`
		Username      string   `json:"username"`
		Groups        []string `json:"groups"`
		Denied        string   `json:"denied"`
	} `json:"decision"`
}

func runExplainJSON(t *testing.T, deps cli.Deps, stdin string, args ...string) explainJSON {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"explain", "-o", "json"}, args...), deps,
		cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	if code != 0 {
		t.Fatalf("explain %v: exit %d: %s", args, code, errb.String())
	}
	var got explainJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("explain %v: %v\n%s", args, err, out.String())
	}
	return got
}

// The real server answers a real token; explain, given the same identity
// by ARN and by that token, must answer the same: authenticated or not,
// username and groups.
func TestExplainAgreesWithServerTokenReview(t *testing.T) {
	d := ststest.Start(t)
	cases := explainCases()
	for _, c := range cases {
		acct := strings.Split(c.arn, ":")[4]
		d.AddKey(c.key, demo.Secret(c.key), sessionTokenFor(c.key), ststest.Identity{Arn: c.arn, Account: acct, UserId: c.userID})
	}
	dir := t.TempDir()
	srv, err := demo.StartServer(context.Background(), demo.ServerOptions{Dir: dir, Config: []byte(explainServerConfig), STSTransport: d.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(explainServerConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	deps := cli.Deps{STSTransport: d.Transport()}
	allowed, denied := 0, 0
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			tok, err := demo.Sign(context.Background(), d, c.key, "explain-cluster", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			rev, err := srv.Review(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if rev.Status.Authenticated != (rev.HTTPStatus == http.StatusOK) {
				t.Fatalf("server: HTTP %d with %+v", rev.HTTPStatus, rev.Status)
			}
			byARN := runExplainJSON(t, deps, "", c.arn, "-c", cfg, "--user-id", c.userID, "--access-key-id", c.key)
			byToken := runExplainJSON(t, deps, tok, "--token", "-", "-c", cfg)
			answers := map[string]explainJSON{"by ARN": byARN, "by token": byToken}
			if role, sess, ok := roleOfSession(c.arn); ok {
				// The IAM role's ARN, with the path the entry has for K10.
				if strings.HasSuffix(role, ":role/K10Operator") {
					role = strings.Replace(role, ":role/", ":role/automation/", 1)
				}
				answers["by role "+role] = runExplainJSON(t, deps, "", role, "--session-name", sess, "-c", cfg,
					"--user-id", strings.Split(c.userID, ":")[0], "--access-key-id", c.key)
			}
			for name, got := range answers {
				if got.Identity.ARN != c.arn {
					t.Errorf("%s: identity %s, want %s", name, got.Identity.ARN, c.arn)
				}
				if got.Decision.Authenticated != rev.Status.Authenticated ||
					got.Decision.Username != rev.Status.User.Username ||
					!slices.Equal(got.Decision.Groups, rev.Status.User.Groups) && len(got.Decision.Groups)+len(rev.Status.User.Groups) > 0 {
					t.Errorf("%s: explain %+v; server %v %q %v (%s)", name, got.Decision,
						rev.Status.Authenticated, rev.Status.User.Username, rev.Status.User.Groups, rev.Status.Error)
				}
			}
			if rev.Status.Authenticated {
				allowed++
			} else {
				denied++
			}
		})
	}
	// The set must exercise both answers, or agreeing proves little.
	if allowed < 8 || denied < 6 {
		t.Errorf("%d allowed, %d denied: the cases no longer cover both sides", allowed, denied)
	}
}

// roleOfSession turns an assumed-role ARN into its role's ARN and session.
func roleOfSession(a string) (role, session string, ok bool) {
	head, rest, found := strings.Cut(a, ":assumed-role/")
	if !found {
		return "", "", false
	}
	name, sess, _ := strings.Cut(rest, "/")
	return strings.Replace(head, ":sts:", ":iam:", 1) + ":role/" + name, sess, true
}

// sessionTokenFor gives temporary (ASIA) keys a session token, as STS does.
func sessionTokenFor(key string) string {
	if strings.HasPrefix(key, "ASIA") {
		return fmt.Sprintf("session-token-of-%s", key)
	}
	return ""
}
