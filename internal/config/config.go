// Package config loads iamgate's server configuration. It reads
// aws-iam-authenticator's config file format unchanged (keys matched
// case-insensitively, as AIA's viper loader does) plus iamgate's own keys, and
// refuses unknown keys so that a typo never silently changes who gets in.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Defaults match aws-iam-authenticator so a switch changes nothing.
const (
	DefaultAddress            = "127.0.0.1"
	DefaultPort               = 21362
	DefaultHealthPort         = 21363
	DefaultStateDir           = "/var/aws-iam-authenticator"
	DefaultGenerateKubeconfig = "/etc/kubernetes/aws-iam-authenticator/kubeconfig.yaml"
	DefaultPartition          = "aws"
	DefaultSTSTimeout         = 10 * time.Second
	DefaultIdentityCacheSize  = 10000
	// DefaultSTSCacheTTL bounds how long a verified identity is reused, and
	// so how long revoked credentials keep working (plus the apiserver's
	// own --authentication-token-webhook-cache-ttl).
	DefaultSTSCacheTTL    = 60 * time.Second
	DefaultSTSMaxInFlight = 64
)

// Backend names as AIA spells them in backendMode.
const (
	BackendMountedFile  = "MountedFile"
	BackendEKSConfigMap = "EKSConfigMap"
	BackendCRD          = "CRD"
	BackendDynamicFile  = "DynamicFile"
)

// FeatureGates AIA knows (its pkg/config/features.go), so an AIA command line
// never fails on a gate name. Gates default off: a gate that widens access
// (such as SSORoleMatch) must be switched on explicitly, so an AIA config never
// grants more under iamgate than it did under AIA. ConfiguredInitDirectories
// is accepted for compatibility; iamgate's init always writes to the
// configured directories.
var knownGates = map[string]bool{
	"SSORoleMatch":              false,
	"IAMIdentityMappingCRD":     false,
	"ConfiguredInitDirectories": false,
	"ConfigMap":                 false,
}

// Config is the whole server configuration.
type Config struct {
	ClusterID string
	Server    Server
	// FeatureGates holds explicitly set gates; absent means off.
	FeatureGates map[string]bool
	// Problems are what is wrong with the file's own mapping entries;
	// Validate refuses the file when there are any.
	Problems []mapping.Problem
	// Skipped are entries of an AWSIamConfig left out (logged by the
	// caller): EKS Anywhere writes that document, and aws-iam-authenticator
	// skips its bad entries.
	Skipped []mapping.Problem
	// Source is the file the config came from, for messages.
	Source string
}

// Server holds the server.* keys.
type Server struct {
	Address                string
	Port                   int
	Hostname               string
	StateDir               string
	GenerateKubeconfig     string
	KubeconfigPregenerated bool
	Kubeconfig             string
	Master                 string
	BackendMode            []string
	Partition              string
	// Mappings are the entries of mapRoles, mapUsers, mapGroups and
	// mapAccounts (and of an AWSIamConfig), in the order read.
	Mappings                    []mapping.Entry
	ScrubbedAccounts            []string
	SourceARN                   string
	EC2DescribeInstancesRoleARN string
	EC2DescribeInstancesQPS     int
	EC2DescribeInstancesBurst   int
	DynamicFilePath             string
	DynamicFileUserIDStrict     bool
	DynamicBackendModePath      string
	ReservedPrefixConfig        map[string][]string
	// ReservedAllowlist are usernames and groups, as written in mappings,
	// that may use a reserved prefix (system:, eks:, aws:, amazon:, iam:)
	// beyond the forms EKS itself writes.
	ReservedAllowlist []string
	EC2               EC2Lookup
	IAMGroups         IAMGroupsLookup

	// iamgate's own keys.
	HealthPort        int
	STSRegions        []string
	STSHosts          []string
	STSTimeout        time.Duration
	IdentityCacheSize int
	// STSCacheTTL is how long a verified identity is reused; nil means
	// DefaultSTSCacheTTL and 0 turns the identity cache off.
	STSCacheTTL *time.Duration
	// STSMaxInFlight bounds concurrent STS calls.
	STSMaxInFlight int
	LogFormat      string
}

// Default fills every unset field with AIA's (or iamgate's) default.
func (c *Config) Default() {
	s := &c.Server
	if s.Address == "" {
		s.Address = DefaultAddress
	}
	if s.Port == 0 {
		s.Port = DefaultPort
	}
	if s.HealthPort == 0 {
		s.HealthPort = DefaultHealthPort
	}
	if s.StateDir == "" {
		s.StateDir = DefaultStateDir
	}
	if s.GenerateKubeconfig == "" {
		s.GenerateKubeconfig = DefaultGenerateKubeconfig
	}
	if len(s.BackendMode) == 0 {
		s.BackendMode = []string{BackendMountedFile}
	}
	if s.Partition == "" {
		s.Partition = DefaultPartition
	}
	if s.STSTimeout == 0 {
		s.STSTimeout = DefaultSTSTimeout
	}
	if s.IdentityCacheSize == 0 {
		s.IdentityCacheSize = DefaultIdentityCacheSize
	}
	if s.STSCacheTTL == nil {
		ttl := DefaultSTSCacheTTL
		s.STSCacheTTL = &ttl
	}
	if s.STSMaxInFlight == 0 {
		s.STSMaxInFlight = DefaultSTSMaxInFlight
	}
	if s.LogFormat == "" {
		s.LogFormat = "text"
	}
	if s.EC2DescribeInstancesQPS == 0 {
		s.EC2DescribeInstancesQPS = 15
	}
	if s.EC2DescribeInstancesBurst == 0 {
		s.EC2DescribeInstancesBurst = 5
	}
}

var partitions = map[string]bool{
	"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true, "aws-iso-b": true,
	"aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true,
}

// supportedBackends are the backends this build can serve; the others are
// known names that a later release implements, refused rather than ignored.
var supportedBackends = map[string]bool{
	BackendMountedFile: true, BackendEKSConfigMap: true, BackendCRD: true, BackendDynamicFile: true,
}

var knownBackends = map[string]bool{
	BackendMountedFile: true, BackendEKSConfigMap: true, BackendCRD: true, BackendDynamicFile: true,
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	s := &c.Server
	if c.ClusterID == "" {
		add("clusterID: required (set it in the config file or with -i/--cluster-id)")
	}
	if s.Port < 0 || s.Port > 65535 {
		add("server.port: %d is not a port", s.Port)
	}
	if s.HealthPort < 0 || s.HealthPort > 65535 {
		add("server.healthPort: %d is not a port", s.HealthPort)
	}
	if s.Port != 0 && s.Port == s.HealthPort {
		add("server.healthPort: must differ from server.port (%d)", s.Port)
	}
	if !partitions[s.Partition] {
		add("server.partition: unknown partition %q", s.Partition)
	}
	seen := map[string]bool{}
	for _, b := range s.BackendMode {
		switch {
		case !knownBackends[b]:
			add("server.backendMode: unknown backend %q (known: MountedFile, EKSConfigMap, CRD, DynamicFile)", b)
		case !supportedBackends[b]:
			add("server.backendMode: backend %q is not available in this release", b)
		case seen[b]:
			add("server.backendMode: backend %q listed twice", b)
		}
		seen[b] = true
	}
	if seen[BackendDynamicFile] && s.DynamicFilePath == "" {
		add("server.dynamicfilepath: required when backendMode lists DynamicFile")
	}
	c.validateLookups(add)
	for _, a := range s.ScrubbedAccounts {
		if !isAccountID(a) {
			add("server.scrubbedAccounts: %q is not a 12-digit account id", a)
		}
	}
	if s.STSTimeout < 0 || s.STSTimeout > time.Minute {
		add("server.stsTimeout: %s is outside (0, 1m]", s.STSTimeout)
	}
	if s.IdentityCacheSize < 0 {
		add("server.identityCacheSize: must not be negative")
	}
	if s.STSCacheTTL != nil && (*s.STSCacheTTL < 0 || *s.STSCacheTTL > 15*time.Minute) {
		add("server.stsCacheTTL: %s is outside [0, 15m] (0 turns the identity cache off)", *s.STSCacheTTL)
	}
	if s.STSMaxInFlight < 0 || s.STSMaxInFlight > 10000 {
		add("server.stsMaxInFlight: %d is outside [1, 10000]", s.STSMaxInFlight)
	}
	if s.LogFormat != "text" && s.LogFormat != "json" {
		add("server.logFormat: %q is neither text nor json", s.LogFormat)
	}
	for _, h := range s.STSHosts {
		if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, ":/@ ") || strings.HasSuffix(h, ".") {
			add("server.stsHosts: %q is not a lower-case host name", h)
		}
	}
	// The file is the operator's and read once: unlike a live source, a bad
	// entry in it stops the server, as aws-iam-authenticator does, with
	// every problem listed.
	for _, p := range c.Problems {
		errs = append(errs, fileProblem(p))
	}
	if len(errs) == 0 {
		return nil
	}
	if c.Source != "" {
		return fmt.Errorf("%s: %w", c.Source, errors.Join(errs...))
	}
	return errors.Join(errs...)
}

// fileProblem reads like `line 14: server.mapRoles[2]: unknown field "rolarn"`
// (Validate puts the file name first).
func fileProblem(p mapping.Problem) error {
	where := "server." + p.Origin.Section
	if p.Origin.Index >= 0 {
		where += fmt.Sprintf("[%d]", p.Origin.Index)
	}
	if p.Names != "" {
		where += " (" + p.Names + ")"
	}
	if p.Origin.Line > 0 {
		return fmt.Errorf("line %d: %s: %w", p.Origin.Line, where, p.Err)
	}
	return fmt.Errorf("%s: %w", where, p.Err)
}

// SetFeatureGates parses AIA's --feature-gates value, e.g. "SSORoleMatch=true".
func (c *Config) SetFeatureGates(v string) error {
	if c.FeatureGates == nil {
		c.FeatureGates = map[string]bool{}
	}
	for _, kv := range strings.Split(v, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("feature-gates: %q is not NAME=true|false", kv)
		}
		name = strings.TrimSpace(name)
		if _, known := knownGates[name]; !known {
			return fmt.Errorf("feature-gates: unknown gate %q", name)
		}
		// strconv.ParseBool, as Kubernetes' feature-gate flag parses values.
		on, err := strconv.ParseBool(strings.TrimSpace(val))
		if err != nil {
			return fmt.Errorf("feature-gates: %s=%q is not true or false", name, val)
		}
		c.FeatureGates[name] = on
	}
	return nil
}

// Gate reports whether a feature gate is on.
func (c *Config) Gate(name string) bool { return c.FeatureGates[name] }

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// zeroDuration is a fresh duration for a key whose explicit 0 differs from
// its absence.
func zeroDuration() *time.Duration { return new(time.Duration) }
