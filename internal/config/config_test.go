package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamgate/iamgate/internal/mapping"
)

const aiaConfig = `# an aws-iam-authenticator config file, unchanged
clusterID: my-cluster
server:
  port: 21362
  stateDir: /var/aws-iam-authenticator
  ScrubbedAccounts:
  - "111122223333"
  backendMode:
  - MountedFile
  mapRoles:
  - roleARN: arn:aws:iam::000000000000:role/KubernetesAdmin
    username: kubernetes-admin
    groups:
    - system:masters
  - rolearn: arn:aws:iam::000000000000:role/Typo
    usrname: typo
  mapUsers:
  - userARN: arn:aws:iam::000000000000:user/Alice
    username: alice
    groups:
    - system:masters
  mapAccounts:
  - "012345678901"
`

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadAIAConfigUnchanged(t *testing.T) {
	p := write(t, aiaConfig)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	// An invalid entry in the -c file now stops the server (as AIA's MountedFile does), naming file, line and entry.
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "usrname") ||
		!strings.Contains(err.Error(), p+": line 16: server.mapRoles[1]") || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("Validate = %v; want the one entry with an unknown field reported with file and line", err)
	}
	if c.ClusterID != "my-cluster" || c.Server.Port != 21362 || c.Server.StateDir != "/var/aws-iam-authenticator" {
		t.Fatalf("scalars: %+v", c)
	}
	if len(c.Server.ScrubbedAccounts) != 1 {
		t.Errorf("keys must match case-insensitively: scrubbedAccounts = %v", c.Server.ScrubbedAccounts)
	}
	// The skipped entry stays as a placeholder that only shadows its ARN.
	roles, users, accounts := byKind(c.Server.Mappings, mapping.KindRole), byKind(c.Server.Mappings, mapping.KindUser), byKind(c.Server.Mappings, mapping.KindAccount)
	if len(roles) != 2 || roles[0].Username != "kubernetes-admin" ||
		roles[1].Refused == nil || roles[1].Username != "" {
		t.Errorf("mapRoles: want the valid entry and a placeholder, got %+v", roles)
	}
	if len(c.Problems) != 1 || !strings.Contains(c.Problems[0].Error(), "usrname") {
		t.Errorf("the entry with an unknown field must be skipped and reported, got %v", c.Problems)
	}
	if len(users) != 1 || len(accounts) != 1 {
		t.Errorf("mapUsers/mapAccounts: %+v %+v", users, accounts)
	}
	if c.Server.Address != DefaultAddress || c.Server.HealthPort != DefaultHealthPort || c.Server.Partition != "aws" {
		t.Errorf("defaults: %+v", c.Server)
	}
	if c.Gate("SSORoleMatch") {
		t.Error("SSORoleMatch must be off unless switched on")
	}
}

func byKind(es []mapping.Entry, k mapping.Kind) []mapping.Entry {
	var out []mapping.Entry
	for _, e := range es {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func TestLoadRejectsUnknownKeyWithFileAndLine(t *testing.T) {
	p := write(t, "clusterID: x\nserver:\n  port: 1\n  mapRole: []\n")
	_, err := Load(p)
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	for _, want := range []string{p, "line 4", `"server.mapRole"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("want a one-line error, got %q", err)
	}
	if strings.Contains(err.Error(), `key "server":`) {
		t.Errorf("the enclosing key's location is repeated: %q", err)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"duplicate key ignoring case": {"clusterID: a\nClusterId: b\n", `line 2: key "ClusterId" repeats the key on line 1`},
		"wrong type":                  {"server:\n  port: abc\n", `line 2: key "server.port": "abc" is not an integer`},
		"server not a mapping":        {"server: 3\n", `key "server": must be a mapping`},
		"top-level unknown":           {"clusterId: a\nfoo: 1\n", `line 2: unknown key "foo"`},
		"not yaml":                    {"server: [\n", "parse yaml"},
		"bad duration":                {"server:\n  stsTimeout: soon\n", `"soon" is not a duration`},
		"bad reserved prefix backend": {"server:\n  reservedPrefixConfig:\n    Nope: {usernamePrefixReserveList: [a]}\n", `unknown backend "Nope"`},
		"reserved prefix list entry":  {"server:\n  reservedPrefixConfig:\n  - backendMode: Nope\n", `item 0 (line 3): unknown backend "Nope"`},
		"reserved prefix no backend":  {"server:\n  reservedPrefixConfig:\n  - usernamePrefixReserveList: [a]\n", "backendMode is required"},
		"reserved prefix unknown key": {"server:\n  reservedPrefixConfig:\n  - backendMode: CRD\n    prefixes: [a]\n", `unknown key "prefixes"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	c, err := Parse([]byte("server:\n  port: 70000\n  partition: aws-mars\n  backendMode: [MountedFile, Nope, EKSConfigMap]\n  logFormat: xml\n  stsTimeout: 5m\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	err = c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"clusterID: required", "server.port", "aws-mars", `"Nope"`, "EKSConfigMap", "logFormat", "stsTimeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestFatalMappingProblemFailsValidation(t *testing.T) {
	c, err := Parse([]byte("clusterID: x\nserver:\n  mapRoles:\n  - rolearn: arn:aws:iam::111122223333:role/a\n    username: '{{Nope}}'\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "mapRoles[0]") {
		t.Fatalf("unknown template must be a load error naming the entry, got %v", err)
	}
}

func TestBackendModeCommaStringAndDefaults(t *testing.T) {
	c, err := Parse([]byte("clusterID: x\nserver:\n  backendMode: MountedFile\n  stsTimeout: 3s\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Server.BackendMode) != 1 || c.Server.STSTimeout != 3*time.Second || c.Server.GenerateKubeconfig != DefaultGenerateKubeconfig {
		t.Fatalf("%+v", c.Server)
	}
}

func TestFeatureGates(t *testing.T) {
	c := &Config{}
	if err := c.SetFeatureGates("SSORoleMatch=true"); err != nil || !c.Gate("SSORoleMatch") {
		t.Fatalf("gate not set: %v", err)
	}
	for _, bad := range []string{"Bogus=true", "SSORoleMatch", "SSORoleMatch=maybe"} {
		if err := (&Config{}).SetFeatureGates(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// AIA unmarshals server.reservedPrefixConfig into a list of
// {backendMode, usernamePrefixReserveList}; such a file must load unchanged.
func TestReservedPrefixConfigAIAListForm(t *testing.T) {
	c, err := Parse([]byte(`clusterID: x
server:
  reservedPrefixConfig:
  - backendMode: MountedFile
    usernamePrefixReserveList: ["eks:", "amazon:"]
  - BackendMode: CRD
    UsernamePrefixReserveList:
    - "corp:"
`), "")
	if err != nil {
		t.Fatal(err)
	}
	got := c.Server.ReservedPrefixConfig
	if len(got) != 2 || len(got[BackendMountedFile]) != 2 || got[BackendMountedFile][0] != "eks:" || got[BackendCRD][0] != "corp:" {
		t.Fatalf("reservedPrefixConfig = %v", got)
	}
}

func TestEmptyServerSection(t *testing.T) {
	c, err := Parse([]byte("clusterID: x\nserver:\n  # everything commented out\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// Every gate AIA defines must be accepted, with Kubernetes' boolean syntax.
func TestFeatureGatesAIANames(t *testing.T) {
	c := &Config{}
	if err := c.SetFeatureGates("ConfiguredInitDirectories=true, IAMIdentityMappingCRD=True,SSORoleMatch=0"); err != nil {
		t.Fatal(err)
	}
	if !c.Gate("ConfiguredInitDirectories") || !c.Gate("IAMIdentityMappingCRD") || c.Gate("SSORoleMatch") {
		t.Fatalf("gates = %v", c.FeatureGates)
	}
}

func TestMapGroupsParsed(t *testing.T) {
	c, err := Parse([]byte("clusterID: x\nserver:\n  mapGroups:\n  - grouparn: arn:aws:iam::111122223333:group/devs\n    username: dev:{{AccessKeyID}}\n    groups: [devs]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	groups := byKind(c.Server.Mappings, mapping.KindGroup)
	if len(groups) != 1 || groups[0].Username != "dev:{{AccessKeyID}}" || len(c.Problems) != 0 {
		t.Fatalf("mapGroups: %+v %v", groups, c.Problems)
	}
}

func TestLookupKeys(t *testing.T) {
	c, err := Parse([]byte(`clusterID: x
server:
  ec2DescribeInstancesRoleARN: arn:aws:iam::111122223333:role/describe
  ec2DescribeInstancesRegion: eu-west-1
  ec2DescribeInstancesRoleARNs:
    "444455556666": arn:aws:iam::444455556666:role/describe
  ec2PrivateDNSCacheTTL: 2m
  iamGroupsQps: 2.5
  iamGroupsCacheTTL: 30s
  iamGroupsAccountID: "111122223333"
`), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	e, g := c.Server.EC2, c.Server.IAMGroups
	if e.Region != "eu-west-1" || e.RoleARNs["444455556666"] == "" || e.CacheTTL != 2*time.Minute ||
		g.QPS != 2.5 || g.CacheTTL != 30*time.Second || g.AccountID != "111122223333" {
		t.Fatalf("lookups: %+v %+v", e, g)
	}
	c, err = Parse([]byte("clusterID: x\nserver:\n  ec2DescribeInstancesRoleARNs: {\"12\": nope}\n  iamGroupsAccountID: abc\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "ec2DescribeInstancesRoleARNs") || !strings.Contains(err.Error(), "iamGroupsAccountID") {
		t.Fatalf("want both lookup problems, got %v", err)
	}
}

// TestSTSCacheKeys: an absent stsCacheTTL is the 60s default, an explicit
// 0 turns the cache off (and is not replaced by the default), and values
// outside their range are refused by name.
func TestSTSCacheKeys(t *testing.T) {
	c, err := Parse([]byte("clusterID: x\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if c.Server.STSCacheTTL == nil || *c.Server.STSCacheTTL != 60*time.Second || c.Server.STSMaxInFlight != 64 {
		t.Fatalf("defaults: ttl %v, in flight %d", c.Server.STSCacheTTL, c.Server.STSMaxInFlight)
	}
	c, err = Parse([]byte("clusterID: x\nserver:\n  stsCacheTTL: 0s\n  stsMaxInFlight: 8\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if *c.Server.STSCacheTTL != 0 || c.Server.STSMaxInFlight != 8 {
		t.Fatalf("explicit: ttl %v, in flight %d", *c.Server.STSCacheTTL, c.Server.STSMaxInFlight)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err = Parse([]byte("clusterID: x\nserver:\n  stsCacheTTL: 16m\n  stsMaxInFlight: -1\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	err = c.Validate()
	for _, want := range []string{"server.stsCacheTTL: 16m0s is outside [0, 15m]", "server.stsMaxInFlight: -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
