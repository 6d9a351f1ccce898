package token

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// stsPartition is one AWS partition's STS naming data. The SDK keeps this
// table internal, so it is copied here (aws-sdk-go-v2 internal/endpoints
// partition metadata); Validator.STSRegions covers regions added later.
type stsPartition struct {
	id              string
	dnsSuffix       string
	dualStackSuffix string
	// regionRE is compiled on first use: the lean front links this package
	// for its constants and should not pay for the patterns at start-up.
	regionRE func() *regexp.Regexp
	regions  []string
	// globalHost is the legacy global endpoint; only the aws partition has
	// one, and it signs as us-east-1.
	globalHost string
}

const globalRegion = "us-east-1"

func lazyRE(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

var stsPartitionTable = map[string]*stsPartition{
	"aws": {
		id: "aws", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
		regionRE:   lazyRE(`^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$`),
		globalHost: "sts.amazonaws.com",
		regions: []string{
			"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2",
			"ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
			"ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6",
			"ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
			"eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
			"il-central-1", "me-central-1", "me-south-1", "me-west-1", "mx-central-1",
			"sa-east-1", "sa-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
		},
	},
	"aws-cn": {
		id: "aws-cn", dnsSuffix: "amazonaws.com.cn", dualStackSuffix: "api.amazonwebservices.com.cn",
		regionRE: lazyRE(`^cn\-\w+\-\d+$`),
		regions:  []string{"cn-north-1", "cn-northwest-1"},
	},
	"aws-eusc": {
		id: "aws-eusc", dnsSuffix: "amazonaws.eu", dualStackSuffix: "api.amazonwebservices.eu",
		regionRE: lazyRE(`^eusc\-(de)\-\w+\-\d+$`),
		regions:  []string{"eusc-de-east-1"},
	},
	"aws-iso": {
		id: "aws-iso", dnsSuffix: "c2s.ic.gov", dualStackSuffix: "api.aws.ic.gov",
		regionRE: lazyRE(`^us\-iso\-\w+\-\d+$`),
		regions:  []string{"us-iso-east-1", "us-iso-west-1"},
	},
	"aws-iso-b": {
		id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", dualStackSuffix: "api.aws.scloud",
		regionRE: lazyRE(`^us\-isob\-\w+\-\d+$`),
		regions:  []string{"us-isob-east-1", "us-isob-west-1"},
	},
	"aws-iso-e": {
		id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", dualStackSuffix: "api.cloud-aws.adc-e.uk",
		regionRE: lazyRE(`^eu\-isoe\-\w+\-\d+$`),
		regions:  []string{"eu-isoe-west-1"},
	},
	"aws-iso-f": {
		id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov", dualStackSuffix: "api.aws.hci.ic.gov",
		regionRE: lazyRE(`^us\-isof\-\w+\-\d+$`),
		regions:  []string{"us-isof-east-1", "us-isof-south-1"},
	},
	"aws-us-gov": {
		id: "aws-us-gov", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
		regionRE: lazyRE(`^us\-gov\-\w+\-\d+$`),
		regions:  []string{"us-gov-east-1", "us-gov-west-1"},
	},
}

// DefaultPartition is used when Validator.Partition is empty.
const DefaultPartition = "aws"

// KnownPartition reports whether the validator knows partition id, so
// configuration can be rejected at start-up rather than on every token.
func KnownPartition(id string) bool {
	_, ok := stsPartitionTable[id]
	return ok
}

// Partitions lists the known partition ids, sorted.
func Partitions() []string {
	ids := make([]string, 0, len(stsPartitionTable))
	for id := range stsPartitionTable {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// IsRegion reports whether region belongs to partition id: listed in the
// SDK metadata or matching the partition's region pattern. Operators add
// others with Validator.STSRegions.
func IsRegion(id, region string) bool {
	p, ok := stsPartitionTable[id]
	return ok && p.isRegion(region)
}

// ListedRegion reports whether region is in the partition's built-in list
// (not merely matching its pattern). Metrics use it to keep label values to
// a fixed set, since the pattern admits names an attacker can vary.
func ListedRegion(id, region string) bool {
	p, ok := stsPartitionTable[id]
	return ok && slices.Contains(p.regions, region)
}

func (p *stsPartition) isRegion(r string) bool {
	return r != "" && (slices.Contains(p.regions, r) || p.regionRE().MatchString(r))
}

// hostRegion returns the region served by an STS host of this partition:
// sts.<r>.<dnsSuffix>, sts-fips.<r>.<dnsSuffix> and the same two under the
// dual-stack suffix. It does not decide whether r is a real region.
func (p *stsPartition) hostRegion(host string) (string, bool) {
	if p.globalHost != "" && host == p.globalHost {
		return globalRegion, true
	}
	for _, suffix := range []string{p.dnsSuffix, p.dualStackSuffix} {
		left, ok := strings.CutSuffix(host, "."+suffix)
		if !ok {
			continue
		}
		for _, service := range []string{"sts.", "sts-fips."} {
			r, ok := strings.CutPrefix(left, service)
			if ok && r != "" && !strings.Contains(r, ".") {
				return r, true
			}
		}
	}
	return "", false
}

// hostSyntaxOK allows only what a lowercase DNS name without a trailing dot
// holds; everything else (ports, userinfo, uppercase, percent escapes, IP
// literals in brackets) is refused before any comparison.
func hostSyntaxOK(host string) (string, bool) {
	switch {
	case host == "":
		return "empty host", false
	case strings.Contains(host, "@"):
		return "userinfo not allowed", false
	case strings.Contains(host, ":"):
		return "port not allowed", false
	case strings.HasSuffix(host, "."):
		return "trailing dot not allowed", false
	case strings.ToLower(host) != host:
		return "uppercase not allowed", false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "invalid character in host", false
		}
	}
	if strings.Contains(host, "..") || strings.HasPrefix(host, ".") {
		return "empty label in host", false
	}
	return "", true
}

// checkHost decides whether host is an STS endpoint of the partition. It
// returns the region the host implies, or "" for an operator-listed extra
// host, whose region then comes from the credential scope.
func (v *Validator) checkHost(p *stsPartition, host string) (string, error) {
	if why, ok := hostSyntaxOK(host); !ok {
		return "", rejectf(ReasonBadHost, why)
	}
	for _, h := range v.ExtraHosts {
		if strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".") == host {
			return "", nil
		}
	}
	r, ok := p.hostRegion(host)
	if !ok {
		return "", rejectf(ReasonBadHost, "not an STS host of partition "+p.id+": "+quoteShort(host))
	}
	if !v.realRegion(p, r) {
		return "", rejectf(ReasonBadHost, "unknown region in host "+quoteShort(host))
	}
	return r, nil
}

// realRegion accepts the partition's regions and the operator's list.
func (v *Validator) realRegion(p *stsPartition, r string) bool {
	return p.isRegion(r) || (r != "" && slices.Contains(v.STSRegions, r))
}
