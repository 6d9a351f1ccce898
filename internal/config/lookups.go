package config

import (
	"fmt"
	"time"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/awslookup/assume"
)

// EC2Lookup configures the {{EC2PrivateDNSName}} lookup. Zero values mean
// the lookup package's defaults.
type EC2Lookup struct {
	Region           string
	RoleARNs         map[string]string // account id → role in that account
	ExternalID       string
	BatchWindow      time.Duration
	BatchSize        int
	Timeout          time.Duration
	CacheTTL         time.Duration
	NegativeCacheTTL time.Duration
	CacheSize        int
}

// IAMGroupsLookup configures the mapGroups membership lookup.
type IAMGroupsLookup struct {
	CacheTTL         time.Duration
	NegativeCacheTTL time.Duration
	CacheSize        int
	QPS              float64
	Burst            int
	Timeout          time.Duration
	AccountID        string
	RoleARNs         map[string]string // account id → role in that account
	ExternalID       string
}

// setLookupKey handles the server.ec2*/iamGroups* keys iamgate adds to
// AIA's ec2DescribeInstances* ones; see docs/aws-lookups.md.
func (c *Config) setLookupKey(key string, v *yaml.Node) (bool, error) {
	e, g := &c.Server.EC2, &c.Server.IAMGroups
	switch key {
	case "ec2describeinstancesregion":
		return true, str(v, &e.Region)
	case "ec2describeinstancesrolearns":
		return true, stringMap(v, &e.RoleARNs)
	case "ec2describeinstancesexternalid":
		return true, str(v, &e.ExternalID)
	case "ec2describeinstancesbatchwindow":
		return true, duration(v, &e.BatchWindow)
	case "ec2describeinstancesbatchsize":
		return true, integer(v, &e.BatchSize)
	case "ec2describeinstancestimeout":
		return true, duration(v, &e.Timeout)
	case "ec2privatednscachettl":
		return true, duration(v, &e.CacheTTL)
	case "ec2privatednsnegativecachettl":
		return true, duration(v, &e.NegativeCacheTTL)
	case "ec2privatednscachesize":
		return true, integer(v, &e.CacheSize)
	case "iamgroupscachettl":
		return true, duration(v, &g.CacheTTL)
	case "iamgroupsnegativecachettl":
		return true, duration(v, &g.NegativeCacheTTL)
	case "iamgroupscachesize":
		return true, integer(v, &g.CacheSize)
	case "iamgroupsqps":
		return true, float(v, &g.QPS)
	case "iamgroupsburst":
		return true, integer(v, &g.Burst)
	case "iamgroupstimeout":
		return true, duration(v, &g.Timeout)
	case "iamgroupsaccountid":
		return true, str(v, &g.AccountID)
	case "iamgroupsrolearns":
		return true, stringMap(v, &g.RoleARNs)
	case "iamgroupsexternalid":
		return true, str(v, &g.ExternalID)
	}
	return false, nil
}

func (c *Config) validateLookups(add func(string, ...any)) {
	e, g := &c.Server.EC2, &c.Server.IAMGroups
	// Each role must be a role ARN in the account it is listed for: the
	// lookups ask the account whose credentials call them.
	for _, err := range assume.CheckAccountRoles(e.RoleARNs) {
		add("server.ec2DescribeInstancesRoleARNs%w", err)
	}
	for _, err := range assume.CheckAccountRoles(g.RoleARNs) {
		add("server.iamGroupsRoleARNs%w", err)
	}
	if e.BatchSize < 0 || e.BatchSize > 200 {
		add("server.ec2DescribeInstancesBatchSize: %d is outside 0..200", e.BatchSize)
	}
	if g.AccountID != "" && !isAccountID(g.AccountID) {
		add("server.iamGroupsAccountID: %q is not a 12-digit account id", g.AccountID)
	}
	if g.QPS < 0 || g.Burst < 0 || g.CacheSize < 0 || e.CacheSize < 0 {
		add("server: lookup rates, bursts and cache sizes must not be negative")
	}
}

func duration(v *yaml.Node, dst *time.Duration) error {
	var s string
	if err := str(v, &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration like 10s", s)
	}
	*dst = d
	return nil
}

func float(v *yaml.Node, dst *float64) error {
	if err := scalar(v); err != nil {
		return err
	}
	var f float64
	if _, err := fmt.Sscanf(v.Value, "%g", &f); err != nil {
		return fmt.Errorf("%q is not a number", v.Value)
	}
	*dst = f
	return nil
}

func stringMap(v *yaml.Node, dst *map[string]string) error {
	if v.Kind != yaml.MappingNode {
		return fmt.Errorf("must be a mapping")
	}
	out := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if val.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %q must map to a single value", k.Line, k.Value)
		}
		if _, dup := out[k.Value]; dup {
			return fmt.Errorf("line %d: %q given twice", k.Line, k.Value)
		}
		out[k.Value] = val.Value
	}
	*dst = out
	return nil
}
