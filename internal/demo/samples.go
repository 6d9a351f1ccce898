package demo

import (
	"time"

	"github.com/iamgate/iamgate/internal/testsupport/ststest"
)

// ClusterID is the cluster the example config (cmd/iamgate-demo/config.yaml)
// serves and the samples sign for.
const ClusterID = "demo-cluster"

// Region is where the samples sign: tokens name sts.us-west-2.amazonaws.com.
const Region = "us-west-2"

// Sample is one identity the demo signs a token for, and what the server
// must answer.
type Sample struct {
	Name string
	// Key is the access key id the double knows; SessionToken is set for
	// temporary (assumed-role) credentials.
	Key, SessionToken string
	// Identity is what the double's GetCallerIdentity answers for Key.
	Identity ststest.Identity
	// Cluster is the cluster id signed into the token ("" means ClusterID).
	Cluster string
	// Age backdates the signature.
	Age  time.Duration
	Want Expect
}

// Expect is a sample's expected outcome.
type Expect struct {
	Allowed  bool
	Username string
	Groups   []string
	// Reason is the audit log's reason code for a denial.
	Reason string
	// STSCalls is how many requests the double sees for this token.
	STSCalls int
}

// Secret is the secret access key the double holds for key.
func Secret(key string) string { return "demo-secret-for-" + key }

// Samples are the demo's identities, in the order they are shown. Each has
// its own key in the double.
func Samples() []Sample {
	const acct, other = "111122223333", "444455556666"
	return []Sample{
		{
			Name: "admin role session", Key: "ASIADEMOADMIN0000001", SessionToken: "demo-session-admin",
			Identity: ststest.Identity{Arn: "arn:aws:sts::" + acct + ":assumed-role/Admin/alice@example.com",
				Account: acct, UserId: "AROADEMOADMIN0000001:alice@example.com"},
			Want: Expect{Allowed: true, Username: "admin:ASIADEMOADMIN0000001:alice-example.com",
				Groups: []string{"system:masters"}, Reason: "mapped", STSCalls: 1},
		},
		{
			Name: "k10 role session (role path)", Key: "ASIADEMOK10000000001", SessionToken: "demo-session-k10",
			Identity: ststest.Identity{Arn: "arn:aws:sts::" + acct + ":assumed-role/K10Operator/backup@ci",
				Account: acct, UserId: "AROADEMOK10000000001:backup@ci"},
			Want: Expect{Allowed: true, Username: "k10:backup@ci", Groups: []string{"k10:basic"},
				Reason: "mapped", STSCalls: 1},
		},
		{
			Name: "IAM user", Key: "AKIADEMOBOB000000001",
			Identity: ststest.Identity{Arn: "arn:aws:iam::" + acct + ":user/bob", Account: acct, UserId: "AIDADEMOBOB000000001"},
			Want:     Expect{Allowed: true, Username: "bob", Groups: []string{"developers"}, Reason: "mapped", STSCalls: 1},
		},
		{
			Name: "user of a mapAccounts account", Key: "AKIADEMOCAROL0000001",
			Identity: ststest.Identity{Arn: "arn:aws:iam::" + other + ":user/carol", Account: other, UserId: "AIDADEMOCAROL0000001"},
			Want: Expect{Allowed: true, Username: "arn:aws:iam::" + other + ":user/carol",
				Reason: "mapped", STSCalls: 1},
		},
		{
			Name: "unmapped role", Key: "ASIADEMOUNMAPPED0001", SessionToken: "demo-session-unmapped",
			Identity: ststest.Identity{Arn: "arn:aws:sts::" + acct + ":assumed-role/Intern/dave",
				Account: acct, UserId: "AROADEMOINTERN000001:dave"},
			Want: Expect{Reason: "not_mapped", STSCalls: 1},
		},
		{
			// bob's second key: a mapped identity, but the token names another
			// cluster, and the cluster id is part of what was signed.
			Name: "bob, token for other-cluster", Key: "AKIADEMOBOB000000002", Cluster: "other-cluster",
			Identity: ststest.Identity{Arn: "arn:aws:iam::" + acct + ":user/bob", Account: acct, UserId: "AIDADEMOBOB000000001"},
			Want:     Expect{Reason: "sts_invalid", STSCalls: 1},
		},
		{
			// Refused by the local date check: STS is never asked.
			Name: "admin, token signed 20 min ago", Key: "ASIADEMOADMIN0000002", SessionToken: "demo-session-admin-2", Age: 20 * time.Minute,
			Identity: ststest.Identity{Arn: "arn:aws:sts::" + acct + ":assumed-role/Admin/alice@example.com",
				Account: acct, UserId: "AROADEMOADMIN0000001:alice@example.com"},
			Want: Expect{Reason: "expired", STSCalls: 0},
		},
		{
			Name: "node role session", Key: "ASIADEMONODE00000001", SessionToken: "demo-session-node",
			Identity: ststest.Identity{Arn: "arn:aws:sts::" + acct + ":assumed-role/NodeInstanceRole/i-0123456789abcdef0",
				Account: acct, UserId: "AROADEMONODE00000001:i-0123456789abcdef0"},
			Want: Expect{Reason: "mapping_error", STSCalls: 1},
		},
	}
}

// Register gives every sample's key to the double.
func Register(d *ststest.Server, samples []Sample) {
	for _, s := range samples {
		d.AddKey(s.Key, Secret(s.Key), s.SessionToken, s.Identity)
	}
}
