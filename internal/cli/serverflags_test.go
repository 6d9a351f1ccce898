package cli

import (
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/mapping"
)

// loadServerFlags parses args as the server/init flag set does and loads.
func loadServerFlags(t *testing.T, args ...string) (*config.Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	f := &serverFlags{}
	f.addFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return f.load(fs, nil)
}

func writeServerConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fullAIAConfig sets every key an AIA flag can override, with values that
// differ from both the defaults and the flag values used below.
const fullAIAConfig = `clusterID: file-cluster
server:
  address: 10.0.0.1
  port: 31001
  hostname: file.example
  stateDir: /file/state
  generateKubeconfig: /file/kubeconfig.yaml
  kubeconfigPregenerated: true
  kubeconfig: /file/admin.kubeconfig
  master: https://file-master:6443
  backendMode: [MountedFile]
  partition: aws-cn
  ec2DescribeInstancesQps: 7
  ec2DescribeInstancesBurst: 3
  healthPort: 31002
  logFormat: json
  stsRegions: [us-east-1]
`

// serverFlagCases are AIA's server flags (and iamgate's) with the config key
// each one overrides.
var serverFlagCases = []struct {
	flag, value string
	get         func(*config.Config) any
	fromFile    any
	fromFlag    any
}{
	{"--cluster-id", "flag-cluster", func(c *config.Config) any { return c.ClusterID }, "file-cluster", "flag-cluster"},
	{"--address", "10.9.9.9", func(c *config.Config) any { return c.Server.Address }, "10.0.0.1", "10.9.9.9"},
	{"--port", "32001", func(c *config.Config) any { return c.Server.Port }, 31001, 32001},
	{"--hostname", "flag.example", func(c *config.Config) any { return c.Server.Hostname }, "file.example", "flag.example"},
	{"--state-dir", "/flag/state", func(c *config.Config) any { return c.Server.StateDir }, "/file/state", "/flag/state"},
	{"--generate-kubeconfig", "/flag/kc.yaml", func(c *config.Config) any { return c.Server.GenerateKubeconfig }, "/file/kubeconfig.yaml", "/flag/kc.yaml"},
	{"--kubeconfig-pregenerated", "false", func(c *config.Config) any { return c.Server.KubeconfigPregenerated }, true, false},
	{"--kubeconfig", "/flag/admin", func(c *config.Config) any { return c.Server.Kubeconfig }, "/file/admin.kubeconfig", "/flag/admin"},
	{"--master", "https://flag:6443", func(c *config.Config) any { return c.Server.Master }, "https://file-master:6443", "https://flag:6443"},
	{"--partition", "aws-us-gov", func(c *config.Config) any { return c.Server.Partition }, "aws-cn", "aws-us-gov"},
	{"--ec2-describeInstances-qps", "9", func(c *config.Config) any { return c.Server.EC2DescribeInstancesQPS }, 7, 9},
	{"--ec2-describeInstances-burst", "4", func(c *config.Config) any { return c.Server.EC2DescribeInstancesBurst }, 3, 4},
	{"--health-port", "32002", func(c *config.Config) any { return c.Server.HealthPort }, 31002, 32002},
	{"--log-format", "text", func(c *config.Config) any { return c.Server.LogFormat }, "json", "text"},
	{"-l", "text", func(c *config.Config) any { return c.Server.LogFormat }, "json", "text"},
}

func TestServerFlagOverridesConfig(t *testing.T) {
	p := writeServerConfig(t, fullAIAConfig)
	for _, tc := range serverFlagCases {
		t.Run(tc.flag, func(t *testing.T) {
			c, err := loadServerFlags(t, "-c", p, tc.flag+"="+tc.value)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.get(c); !reflect.DeepEqual(got, tc.fromFlag) {
				t.Errorf("%s=%s: got %v, want the flag's %v", tc.flag, tc.value, got, tc.fromFlag)
			}
		})
	}
}

// The override shows through validation: a backend the config names (here
// DynamicFile without its required path) but the flag replaces is not checked.
func TestServerBackendModeFlagOverridesConfig(t *testing.T) {
	p := writeServerConfig(t, "clusterID: x\nserver:\n  backendMode: [DynamicFile]\n")
	if _, err := loadServerFlags(t, "-c", p); err == nil || !strings.Contains(err.Error(), "dynamicfilepath") {
		t.Fatalf("config backendMode DynamicFile without a path: %v", err)
	}
	c, err := loadServerFlags(t, "-c", p, "--backend-mode", "MountedFile")
	if err != nil {
		t.Fatalf("--backend-mode must replace the config's list: %v", err)
	}
	if !slices.Equal(c.Server.BackendMode, []string{"MountedFile"}) {
		t.Errorf("backendMode = %v", c.Server.BackendMode)
	}
}

func TestServerUnsetFlagKeepsConfig(t *testing.T) {
	c, err := loadServerFlags(t, "--config", writeServerConfig(t, fullAIAConfig))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range serverFlagCases {
		if got := tc.get(c); !reflect.DeepEqual(got, tc.fromFile) {
			t.Errorf("%s unset: got %v, want the config's %v", tc.flag, got, tc.fromFile)
		}
	}
	// Setting one flag leaves every other config value alone.
	c, err = loadServerFlags(t, "-c", writeServerConfig(t, fullAIAConfig), "--port", "32001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Address != "10.0.0.1" || c.Server.StateDir != "/file/state" || c.Server.Port != 32001 {
		t.Errorf("one flag changed other values: %+v", c.Server)
	}
	if !slices.Equal(c.Server.STSRegions, []string{"us-east-1"}) {
		t.Errorf("stsRegions = %v", c.Server.STSRegions)
	}
}

func TestServerDefaultsWithoutConfig(t *testing.T) {
	c, err := loadServerFlags(t, "-i", "c1")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Server
	if s.Address != "127.0.0.1" || s.Port != 21362 || s.HealthPort != 21363 || s.StateDir != "/var/aws-iam-authenticator" ||
		s.GenerateKubeconfig != "/etc/kubernetes/aws-iam-authenticator/kubeconfig.yaml" || s.Partition != "aws" ||
		!slices.Equal(s.BackendMode, []string{"MountedFile"}) || s.KubeconfigPregenerated {
		t.Errorf("AIA defaults not applied: %+v", s)
	}
	if c.Gate("SSORoleMatch") {
		t.Error("SSORoleMatch must stay off unless its gate is set")
	}
}

func TestServerBadConfigNamesFileLineKey(t *testing.T) {
	p := writeServerConfig(t, "clusterID: x\nserver:\n  port: 1\n  mapRole: []\n")
	_, err := loadServerFlags(t, "-c", p, "--port", "2")
	if err == nil {
		t.Fatal("unknown key accepted")
	}
	msg := err.Error()
	for _, want := range []string{p, "line 4", `"server.mapRole"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("want one line, got %q", msg)
	}
}

func TestServerInvalidValuesReportedTogether(t *testing.T) {
	_, err := loadServerFlags(t, "--partition", "aws-mars", "--backend-mode", "Nope", "--port", "70000")
	if err == nil {
		t.Fatal("invalid flags accepted")
	}
	for _, want := range []string{"clusterID", "aws-mars", `"Nope"`, "70000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestServerFeatureGates(t *testing.T) {
	// Checked as the flag is parsed, as Kubernetes' feature-gate flag does.
	if err := newServerFlagSet(&serverFlags{}).Parse([]string{"--feature-gates", "NoSuchGate=true"}); err == nil || !strings.Contains(err.Error(), "NoSuchGate") {
		t.Fatalf("unknown gate: %v", err)
	}
	if err := newServerFlagSet(&serverFlags{}).Parse([]string{"--feature-gates", "SSORoleMatch=yes please"}); err == nil {
		t.Fatal("bad gate value accepted")
	}
	c, err := loadServerFlags(t, "-i", "c", "--feature-gates", "SSORoleMatch=true,ConfiguredInitDirectories=true")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Gate("SSORoleMatch") || !c.Gate("ConfiguredInitDirectories") {
		t.Errorf("gates = %v", c.FeatureGates)
	}
	// Repeating the flag adds gates; a later value wins for the same gate.
	c, err = loadServerFlags(t, "-i", "c", "--feature-gates", "SSORoleMatch=true", "--feature-gates", "ConfigMap=true,SSORoleMatch=false")
	if err != nil || c.Gate("SSORoleMatch") || !c.Gate("ConfigMap") {
		t.Errorf("repeated flag: %v, gates = %v", err, c.FeatureGates)
	}
}

func TestCertNames(t *testing.T) {
	for _, tc := range []struct {
		name             string
		s                config.Server
		wantDNS, wantIPs []string
		wantDial         string
	}{
		{"defaults", config.Server{Address: "127.0.0.1"}, []string{"localhost"}, []string{"127.0.0.1"}, "127.0.0.1"},
		{"any address dials loopback", config.Server{Address: "0.0.0.0"}, []string{"localhost"}, []string{"127.0.0.1"}, "127.0.0.1"},
		{"hostname", config.Server{Address: "0.0.0.0", Hostname: "gate.example"}, []string{"gate.example", "localhost"}, []string{"127.0.0.1"}, "gate.example"},
		{"ip hostname and address", config.Server{Address: "10.0.0.5", Hostname: "10.0.0.6"}, []string{"localhost"}, []string{"127.0.0.1", "10.0.0.6", "10.0.0.5"}, "10.0.0.6"},
		{"name as address", config.Server{Address: "gate.internal"}, []string{"gate.internal", "localhost"}, []string{"127.0.0.1"}, "gate.internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dns, ips, dial := certNames(&tc.s)
			var gotIPs []string
			for _, ip := range ips {
				gotIPs = append(gotIPs, ip.String())
			}
			if !slices.Equal(dns, tc.wantDNS) || !slices.Equal(gotIPs, tc.wantIPs) || dial != tc.wantDial {
				t.Errorf("got dns %v ips %v dial %q; want %v %v %q", dns, gotIPs, dial, tc.wantDNS, tc.wantIPs, tc.wantDial)
			}
			if net.ParseIP(dial) == nil && !slices.Contains(dns, dial) {
				t.Errorf("dial host %q is not a SAN", dial)
			}
		})
	}
}

func TestClusterIDFromAIAEnvironmentVariable(t *testing.T) {
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	f := &serverFlags{}
	f.addFlags(fs)
	env := func(k string) string {
		if k == "KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID" {
			return "from-env"
		}
		return ""
	}
	c, err := f.load(fs, env)
	if err != nil || c.ClusterID != "from-env" {
		t.Fatalf("cluster id from env: %v %+v", err, c)
	}
	// A flag wins over the variable.
	if err := fs.Parse([]string{"-i", "from-flag"}); err != nil {
		t.Fatal(err)
	}
	if c, err = f.load(fs, env); err != nil || c.ClusterID != "from-flag" {
		t.Fatalf("flag must win: %v %+v", err, c)
	}
	// Without either, the server refuses to start.
	fs2 := pflag.NewFlagSet("server", pflag.ContinueOnError)
	f2 := &serverFlags{}
	f2.addFlags(fs2)
	if _, err := f2.load(fs2, func(string) string { return "" }); err == nil {
		t.Fatal("no cluster id accepted")
	}
}

// EKS Anywhere's AWSIamConfig is served as a file backend; the cluster id
// still comes from -i because the document has none.
func TestAWSIamConfigServedAsFileBackend(t *testing.T) {
	doc := `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: my-cluster-aws-iam
spec:
  awsRegion: us-west-2
  backendMode:
  - EKSConfigMap
  mapRoles:
  - roleARN: arn:aws:iam::111122223333:role/Admin
    username: admin
    groups:
    - system:masters
  mapUsers:
  - userARN: arn:aws:iam::111122223333:user/alice
    username: alice
    groups:
    - devs
  partition: aws
`
	p := filepath.Join(t.TempDir(), "awsiamconfig.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadServerFlags(t, "--awsiamconfig", p, "-i", "generated-id")
	if err != nil {
		t.Fatal(err)
	}
	if c.ClusterID != "generated-id" || countKind(c.Server.Mappings, mapping.KindRole) != 1 || countKind(c.Server.Mappings, mapping.KindUser) != 1 {
		t.Fatalf("config: %+v", c)
	}
	// spec.awsRegion is the region of the cluster's EC2 lookups too.
	if c.Server.EC2.Region != "us-west-2" {
		t.Errorf("EC2 lookup region %q, want spec.awsRegion us-west-2", c.Server.EC2.Region)
	}
	if !reflect.DeepEqual(c.Server.BackendMode, []string{"MountedFile"}) {
		t.Fatalf("backendMode %v", c.Server.BackendMode)
	}
	mappers, err := buildMappers(c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mappers[0].Map(t.Context(), mapping.Identity{
		ARN: "arn:aws:sts::111122223333:assumed-role/Admin/s", CanonicalARN: "arn:aws:iam::111122223333:role/Admin",
		AccountID: "111122223333", UserID: "AROAX:s", SessionName: "s", AccessKeyID: "ASIAX",
	})
	if err != nil || res.Username != "admin" {
		t.Fatalf("admin role: %+v %v", res, err)
	}
	// Without -i the server refuses: the document carries no cluster id.
	if _, err := loadServerFlags(t, "--awsiamconfig", p); err == nil {
		t.Fatal("no cluster id accepted")
	}
}

func countKind(es []mapping.Entry, k mapping.Kind) int {
	n := 0
	for _, e := range es {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// A fatal entry problem in the AWSIamConfig stops the server with one line
// naming the file once, the line and the entry.
func TestAWSIamConfigFatalProblemNamesFileAndLine(t *testing.T) {
	doc := `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: my-cluster-aws-iam
spec:
  awsRegion: us-west-2
  backendMode:
  - EKSConfigMap
  mapRoles:
  - roleARN: arn:aws:iam::111122223333:role/Admin
    username: "admin:{{SesionName}}"
`
	p := filepath.Join(t.TempDir(), "awsiamconfig.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadServerFlags(t, "--awsiamconfig", p, "-i", "generated-id")
	if err == nil || strings.Count(err.Error(), p) != 1 || !strings.Contains(err.Error(), p+":11: spec.mapRoles[0]") ||
		!strings.Contains(err.Error(), "SesionName") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v; want one line naming %s once, line 11 and spec.mapRoles[0]", err, p)
	}
}

// The document's entries of another partition are dropped as impossible;
// with the server in another partition than the document, one of them may
// have been meant to replace or deny a config-file entry that would then
// stay in force. Refused.
func TestAWSIamConfigPartitionMustMatchServer(t *testing.T) {
	doc := `apiVersion: anywhere.eks.amazonaws.com/v1alpha1
kind: AWSIamConfig
metadata:
  name: c
spec:
  awsRegion: us-west-2
  backendMode: [EKSConfigMap]
  mapRoles:
  - roleARN: arn:aws-cn:iam::111122223333:role/Admin
    username: readonly
`
	p := filepath.Join(t.TempDir(), "awsiamconfig.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadServerFlags(t, "--awsiamconfig", p, "-i", "c", "--partition", "aws-cn")
	if err == nil || !strings.Contains(err.Error(), "spec.partition") || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v, want the partition mismatch named with the file", err)
	}
}
