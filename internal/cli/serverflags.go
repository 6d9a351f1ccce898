package cli

import (
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/iamgate/iamgate/internal/config"
	"github.com/iamgate/iamgate/internal/config/awsiamconfig"
)

// clusterIDEnv is AIA's environment variable for the cluster id.
const clusterIDEnv = "KUBERNETES_AWS_AUTHENTICATOR_CLUSTER_ID"

// serverFlags are aws-iam-authenticator's server flags plus iamgate's own.
// A flag the user sets overrides the config file, as AIA's viper binding did.
type serverFlags struct {
	configFile             string
	clusterID              string
	backendMode            []string
	partition              string
	stateDir               string
	generateKubeconfig     string
	kubeconfigPregenerated bool
	kubeconfig             string
	master                 string
	address                string
	hostname               string
	port                   int
	healthPort             int
	featureGates           gateFlag
	ec2QPS                 int
	ec2Burst               int
	logFormat              string
	stsRegions             []string
	awsIAMConfig           string
	stsCacheTTL            time.Duration
	stsMaxInFlight         int
	// warn receives warnings (an unknown -l value); nil drops them.
	warn io.Writer
}

func (f *serverFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&f.configFile, "config", "c", "", "config `file` in aws-iam-authenticator's format; flags override its keys (every key: docs/config.md)")
	fs.StringVarP(&f.clusterID, "cluster-id", "i", "", "cluster `ID` tokens must be bound to (default $"+clusterIDEnv+", then clusterID in the -c file)")
	fs.StringSliceVar(&f.backendMode, "backend-mode", nil, "mapping backends in order, first match wins (config: server.backendMode; default MountedFile)")
	fs.StringVar(&f.partition, "partition", "", "AWS partition whose STS hosts are accepted (config: server.partition; default aws)")
	fs.StringVar(&f.stateDir, "state-dir", "", "directory for ca.pem, cert.pem, key.pem (config: server.stateDir; default "+config.DefaultStateDir+")")
	fs.StringVar(&f.generateKubeconfig, "generate-kubeconfig", "", "where to write the webhook kubeconfig for kube-apiserver (config: server.generateKubeconfig; default "+config.DefaultGenerateKubeconfig+")")
	fs.BoolVar(&f.kubeconfigPregenerated, "kubeconfig-pregenerated", false, "the webhook kubeconfig and certificates were made beforehand; do not write them (config: server.kubeconfigPregenerated)")
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig for reading in-cluster mappings (config: server.kubeconfig)")
	fs.StringVar(&f.master, "master", "", "Kubernetes API server address, overrides the kubeconfig (config: server.master)")
	fs.StringVar(&f.address, "address", "", "address to listen on (config: server.address; default "+config.DefaultAddress+")")
	fs.StringVar(&f.hostname, "hostname", "", "host name kube-apiserver uses to reach the webhook; added to the certificate (config: server.hostname)")
	fs.IntVar(&f.port, "port", 0, fmt.Sprintf("HTTPS port for /authenticate (config: server.port; default %d)", config.DefaultPort))
	fs.IntVar(&f.healthPort, "health-port", 0, fmt.Sprintf("plain HTTP port for /healthz, /readyz, /metrics (config: server.healthPort; default %d)", config.DefaultHealthPort))
	fs.Var(&f.featureGates, "feature-gates", "aws-iam-authenticator feature `gates`, e.g. SSORoleMatch=true (all off by default; repeatable)")
	fs.StringVarP(&f.logFormat, "log-format", "l", "", "text or json; another value warns and logs text, as aws-iam-authenticator does (config: server.logFormat; default text)")
	// AIA's spellings, camel case included, so its DaemonSet args parse unchanged.
	fs.IntVar(&f.ec2QPS, "ec2-describeInstances-qps", 0, "EC2 DescribeInstances rate for {{EC2PrivateDNSName}} (config: server.ec2DescribeInstancesQps; default 15)")
	fs.IntVar(&f.ec2Burst, "ec2-describeInstances-burst", 0, "EC2 DescribeInstances burst (config: server.ec2DescribeInstancesBurst; default 5)")
	fs.StringVar(&f.awsIAMConfig, "awsiamconfig", "", "EKS Anywhere AWSIamConfig document whose mapRoles/mapUsers are served as a MountedFile backend (cluster id still from -i or the config)")
	fs.StringSliceVar(&f.stsRegions, "sts-region", nil, "extra STS regions to accept beyond the SDK's list (config: server.stsRegions)")
	fs.DurationVar(&f.stsCacheTTL, "sts-cache-ttl", config.DefaultSTSCacheTTL, "longest a verified identity is reused, so how long revoked credentials keep working; 0 turns the cache off (config: server.stsCacheTTL)")
	fs.IntVar(&f.stsMaxInFlight, "sts-max-in-flight", config.DefaultSTSMaxInFlight, "most STS calls at once; a review that waits longer than 1s for one is denied with 429 (config: server.stsMaxInFlight)")
}

// serverOnlyFlags change only what a running server does. init accepts them,
// so that one argument list (a DaemonSet's, a test's) serves both commands,
// and checks them with the rest of the config, but its help leaves them out.
var serverOnlyFlags = []string{
	"backend-mode", "partition", "kubeconfig", "master", "health-port",
	"ec2-describeInstances-qps", "ec2-describeInstances-burst", "awsiamconfig", "sts-region",
}

func hideServerOnlyFlags(fs *pflag.FlagSet) {
	for _, n := range serverOnlyFlags {
		_ = fs.MarkHidden(n)
	}
}

// load reads the config file (if any), applies the flags that were set, fills
// defaults and validates, reporting every problem at once.
func (f *serverFlags) load(fs *pflag.FlagSet, getenv func(string) string) (*config.Config, error) {
	c := &config.Config{}
	if f.configFile != "" {
		var err error
		if c, err = config.Load(f.configFile); err != nil {
			return nil, err
		}
	}
	s := &c.Server
	set := func(name string, apply func()) {
		if fs.Changed(name) {
			apply()
		}
	}
	// AIA (viper) takes the cluster id from the flag, then the variable,
	// then the file.
	if v := getenvOr(getenv, clusterIDEnv); v != "" {
		// A client-side variable a server may inherit by accident from a
		// shell or CI job: overriding the file silently would make the
		// server accept tokens made for another cluster.
		if c.ClusterID != "" && c.ClusterID != v && !fs.Changed("cluster-id") && f.warn != nil {
			fmt.Fprintf(f.warn, "warning: cluster id %q from $%s overrides clusterID %q in %s (as in aws-iam-authenticator); unset the variable or pass -i to choose\n",
				v, clusterIDEnv, c.ClusterID, f.configFile)
		}
		c.ClusterID = v
	}
	set("cluster-id", func() { c.ClusterID = f.clusterID })
	set("backend-mode", func() { s.BackendMode = f.backendMode })
	set("partition", func() { s.Partition = f.partition })
	set("state-dir", func() { s.StateDir = f.stateDir })
	set("generate-kubeconfig", func() { s.GenerateKubeconfig = f.generateKubeconfig })
	set("kubeconfig-pregenerated", func() { s.KubeconfigPregenerated = f.kubeconfigPregenerated })
	set("kubeconfig", func() { s.Kubeconfig = f.kubeconfig })
	set("master", func() { s.Master = f.master })
	set("address", func() { s.Address = f.address })
	set("hostname", func() { s.Hostname = f.hostname })
	set("port", func() { s.Port = f.port })
	set("health-port", func() { s.HealthPort = f.healthPort })
	set("log-format", func() { s.LogFormat = checkLogFormat(f.logFormat, f.warn) })
	set("ec2-describeInstances-qps", func() { s.EC2DescribeInstancesQPS = f.ec2QPS })
	set("ec2-describeInstances-burst", func() { s.EC2DescribeInstancesBurst = f.ec2Burst })
	set("sts-region", func() { s.STSRegions = append(s.STSRegions, f.stsRegions...) })
	set("sts-cache-ttl", func() { s.STSCacheTTL = &f.stsCacheTTL })
	set("sts-max-in-flight", func() { s.STSMaxInFlight = f.stsMaxInFlight })
	if err := f.featureGates.apply(c); err != nil {
		return nil, err
	}
	if f.awsIAMConfig != "" {
		if err := applyAWSIamConfig(c, f.awsIAMConfig); err != nil {
			return nil, err
		}
	}
	c.Default()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func getenvOr(getenv func(string) string, k string) string {
	if getenv == nil {
		return ""
	}
	return getenv(k)
}

// certNames are the names the serving certificate covers and the host the
// webhook kubeconfig dials.
func certNames(s *config.Server) (dns []string, ips []net.IP, dialHost string) {
	dns = []string{"localhost"}
	// A host name given as --address is a name the server is reached by too.
	for _, h := range []string{s.Address, s.Hostname} {
		if h != "" && net.ParseIP(h) == nil && !slices.Contains(dns, h) {
			dns = append([]string{h}, dns...)
		}
	}
	ips = []net.IP{net.ParseIP("127.0.0.1")}
	for _, h := range []string{s.Hostname, s.Address} {
		if ip := net.ParseIP(h); ip != nil && !ip.IsUnspecified() && !ip.Equal(ips[0]) {
			ips = append(ips, ip)
		}
	}
	dialHost = s.Hostname
	if dialHost == "" {
		dialHost = s.Address
		if ip := net.ParseIP(dialHost); ip != nil && ip.IsUnspecified() {
			dialHost = "127.0.0.1"
		}
	}
	return dns, ips, dialHost
}

// applyAWSIamConfig serves an EKS Anywhere AWSIamConfig's mappings through the
// MountedFile backend, ahead of any other backend, as its own file would be.
func applyAWSIamConfig(c *config.Config, path string) error {
	doc, problems, err := awsiamconfig.Load(path)
	if err != nil {
		return err
	}
	for _, p := range problems {
		if p.Fatal {
			return p // reads "FILE:LINE: spec.mapRoles[i]: ..."
		}
	}
	c.Skipped = append(c.Skipped, problems...)
	c.Server.Mappings = append(c.Server.Mappings, doc.Mappings...)
	switch {
	case c.Server.Partition == "":
		c.Server.Partition = doc.Partition
	case c.Server.Partition != doc.Partition:
		// The document's entries of the other partition were dropped as
		// impossible; one of them may have been meant to replace or deny
		// an entry of the config file, which would then stay in force.
		return fmt.Errorf("%s: spec.partition %q differs from the server's partition %q; make them the same", path, doc.Partition, c.Server.Partition)
	}
	if c.Server.EC2.Region == "" {
		c.Server.EC2.Region = doc.Region // EKS Anywhere's spec.awsRegion
	}
	if !slices.Contains(c.Server.BackendMode, config.BackendMountedFile) {
		c.Server.BackendMode = append([]string{config.BackendMountedFile}, c.Server.BackendMode...)
	}
	return nil
}
