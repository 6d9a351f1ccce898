package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// Load reads and strictly parses a config file. It does not apply defaults or
// validate; callers do Default() then Validate() after applying flags.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse parses config file content read from file (a path for messages
// and entry origins; "" when there is none).
func Parse(data []byte, file string) (*Config, error) {
	c := &Config{Source: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return c, nil // empty file: everything from flags and defaults
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the config must be a mapping of keys", root.Line)
	}
	err := eachKey(root, "", func(key string, k, v *yaml.Node) error {
		switch key {
		case "clusterid":
			return str(v, &c.ClusterID)
		case "server":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				return nil // "server:" with every key commented out
			}
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("must be a mapping")
			}
			return eachKey(v, "server.", func(key string, k, v *yaml.Node) error {
				return c.setServerKey(key, v)
			})
		case "featuregates":
			var s string
			if err := str(v, &s); err != nil {
				return err
			}
			return c.SetFeatureGates(s)
		}
		return errUnknown
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

var errUnknown = awsauth.ErrUnknown

// eachKey walks a mapping of the config file strictly (awsauth.EachKey).
func eachKey(m *yaml.Node, prefix string, f func(lowerKey string, k, v *yaml.Node) error) error {
	return awsauth.EachKey(m, prefix, "key", f)
}

// sectionNames spells the mapping sections as aws-auth does.
var sectionNames = map[string]string{
	"maproles": mapping.SectionRoles, "mapusers": mapping.SectionUsers,
	"mapgroups": mapping.SectionGroups, "mapaccounts": mapping.SectionAccounts,
}

func (c *Config) setServerKey(key string, v *yaml.Node) error {
	s := &c.Server
	switch key {
	case "address":
		return str(v, &s.Address)
	case "port":
		return integer(v, &s.Port)
	case "hostname":
		return str(v, &s.Hostname)
	case "statedir":
		return str(v, &s.StateDir)
	case "generatekubeconfig":
		return str(v, &s.GenerateKubeconfig)
	case "kubeconfigpregenerated":
		return boolean(v, &s.KubeconfigPregenerated)
	case "kubeconfig":
		return str(v, &s.Kubeconfig)
	case "master":
		return str(v, &s.Master)
	case "backendmode":
		return strList(v, &s.BackendMode, true)
	case "partition":
		return str(v, &s.Partition)
	case "maproles", "mapusers", "mapgroups", "mapaccounts":
		es, probs := awsauth.ParseSection(sectionNames[key], v, awsauth.Source{Backend: "MountedFile", Object: c.Source, File: c.Source})
		s.Mappings = append(s.Mappings, es...)
		c.Problems = append(c.Problems, probs...)
		return nil
	case "scrubbedaccounts":
		return strList(v, &s.ScrubbedAccounts, false)
	case "sourcearn":
		return str(v, &s.SourceARN)
	case "ec2describeinstancesrolearn":
		return str(v, &s.EC2DescribeInstancesRoleARN)
	case "ec2describeinstancesqps":
		return integer(v, &s.EC2DescribeInstancesQPS)
	case "ec2describeinstancesburst":
		return integer(v, &s.EC2DescribeInstancesBurst)
	case "dynamicfilepath":
		return str(v, &s.DynamicFilePath)
	case "dynamicfileuseridstrict":
		return boolean(v, &s.DynamicFileUserIDStrict)
	case "dynamicbackendmodepath":
		return str(v, &s.DynamicBackendModePath)
	case "reservedprefixconfig":
		return reservedPrefixes(v, &s.ReservedPrefixConfig)
	case "reservedprefixallowlist":
		return strList(v, &s.ReservedAllowlist, false)
	case "healthport":
		return integer(v, &s.HealthPort)
	case "stsregions":
		return strList(v, &s.STSRegions, false)
	case "stshosts":
		return strList(v, &s.STSHosts, false)
	case "ststimeout":
		return duration(v, &s.STSTimeout)
	case "identitycachesize":
		return integer(v, &s.IdentityCacheSize)
	case "stscachettl":
		s.STSCacheTTL = zeroDuration()
		return duration(v, s.STSCacheTTL)
	case "stsmaxinflight":
		return integer(v, &s.STSMaxInFlight)
	case "logformat":
		return str(v, &s.LogFormat)
	}
	if ok, err := c.setLookupKey(key, v); ok {
		return err
	}
	return errUnknown
}

func scalar(v *yaml.Node) error {
	if v.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a single value")
	}
	return nil
}

func str(v *yaml.Node, dst *string) error {
	if err := scalar(v); err != nil {
		return err
	}
	if v.Tag == "!!null" {
		*dst = ""
		return nil
	}
	*dst = v.Value
	return nil
}

func integer(v *yaml.Node, dst *int) error {
	if err := scalar(v); err != nil {
		return err
	}
	n, err := strconv.Atoi(v.Value)
	if err != nil {
		return fmt.Errorf("%q is not an integer", v.Value)
	}
	*dst = n
	return nil
}

func boolean(v *yaml.Node, dst *bool) error {
	if err := scalar(v); err != nil {
		return err
	}
	b, err := strconv.ParseBool(v.Value)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v.Value)
	}
	*dst = b
	return nil
}

// strList accepts a YAML list, or (when commaString) a comma-separated string
// as AIA's string-slice flags and viper do.
func strList(v *yaml.Node, dst *[]string, commaString bool) error {
	switch v.Kind {
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for i, e := range v.Content {
			if e.Kind != yaml.ScalarNode || e.Value == "" {
				return fmt.Errorf("item %d (line %d) must be a non-empty string", i, e.Line)
			}
			out = append(out, e.Value)
		}
		*dst = out
		return nil
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			*dst = nil
			return nil
		}
		if commaString {
			*dst = SplitList(v.Value)
			return nil
		}
	}
	return fmt.Errorf("must be a list")
}

// SplitList splits "a, b,c" into its non-empty parts.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// reservedPrefixes reads AIA's reservedPrefixConfig, a list of
// {backendMode: BACKEND, usernamePrefixReserveList: [..]} (AIA unmarshals it
// into []ReservedPrefixConfig and keys it by backendMode; a later entry for
// the same backend wins, as there). The mapping form
// {BACKEND: {usernamePrefixReserveList: [..]}} is accepted too.
func reservedPrefixes(v *yaml.Node, dst *map[string][]string) error {
	out := map[string][]string{}
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
	case v.Kind == yaml.SequenceNode:
		for i, e := range v.Content {
			if err := reservedPrefixEntry(e, "", out); err != nil {
				return fmt.Errorf("item %d (line %d): %w", i, e.Line, err)
			}
		}
	case v.Kind == yaml.MappingNode:
		err := eachKey(v, "", func(_ string, k, bv *yaml.Node) error {
			return reservedPrefixEntry(bv, k.Value, out)
		})
		if err != nil {
			return err
		}
	default:
		return fmt.Errorf("must be a list of {backendMode, usernamePrefixReserveList}")
	}
	*dst = out
	return nil
}

// reservedPrefixEntry reads one {backendMode, usernamePrefixReserveList}
// mapping; backend, when set, comes from the enclosing key instead.
func reservedPrefixEntry(e *yaml.Node, backend string, out map[string][]string) error {
	if e.Kind != yaml.MappingNode {
		return fmt.Errorf("must be a mapping")
	}
	var list []string
	err := eachKey(e, "", func(key string, _, lv *yaml.Node) error {
		switch key {
		case "backendmode":
			if backend != "" {
				return errUnknown
			}
			return str(lv, &backend)
		case "usernameprefixreservelist":
			return strList(lv, &list, false)
		}
		return errUnknown
	})
	if err != nil {
		return err
	}
	if backend == "" {
		return fmt.Errorf("backendMode is required")
	}
	if !knownBackends[backend] {
		return fmt.Errorf("unknown backend %q", backend)
	}
	out[backend] = list
	return nil
}
