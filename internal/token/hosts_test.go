package token

import (
	"testing"
)

func TestValidateHostsPerPartition(t *testing.T) {
	accept := []struct{ partition, host, region string }{
		{"aws", "sts.amazonaws.com", "us-east-1"},
		{"aws", "sts.us-west-2.amazonaws.com", "us-west-2"},
		{"aws", "sts.ap-southeast-7.amazonaws.com", "ap-southeast-7"},
		{"aws", "sts.us-east-9.amazonaws.com", "us-east-9"}, // matches the region pattern
		{"aws", "sts-fips.us-east-1.amazonaws.com", "us-east-1"},
		{"aws", "sts.us-east-1.api.aws", "us-east-1"},
		{"aws", "sts-fips.us-east-1.api.aws", "us-east-1"},
		{"aws-cn", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{"aws-cn", "sts.cn-northwest-1.api.amazonwebservices.com.cn", "cn-northwest-1"},
		{"aws-eusc", "sts.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"},
		{"aws-iso", "sts.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
		{"aws-iso-b", "sts.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"},
		{"aws-iso-e", "sts.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1"},
		{"aws-iso-f", "sts.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1"},
		{"aws-us-gov", "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
		{"aws-us-gov", "sts-fips.us-gov-east-1.amazonaws.com", "us-gov-east-1"},
		{"aws-us-gov", "sts.us-gov-west-1.api.aws", "us-gov-west-1"},
	}
	for _, tc := range accept {
		v := &Validator{Partition: tc.partition, Now: testValidator().Now}
		req, err := v.Validate(encodeForTest(buildURL(tc.host, goodParams(tc.region))))
		if err != nil {
			t.Errorf("%s %s: %v", tc.partition, tc.host, err)
			continue
		}
		if req.Region != tc.region || req.Partition != tc.partition || req.Host != tc.host {
			t.Errorf("%s %s: got %+v", tc.partition, tc.host, req)
		}
	}

	reject := []struct{ partition, host, region string }{
		{"aws", "sts.evil-region.amazonaws.com", "evil-region"},
		{"aws", "sts.us-west-2.amazonaws.com.evil.com", "us-west-2"},
		{"aws", "evil.com", "us-east-1"},
		{"aws", "sts.amazonaws.com.evil.com", "us-east-1"},
		{"aws", "s3.us-west-2.amazonaws.com", "us-west-2"},
		{"aws", "sts.us-west-2.s3.amazonaws.com", "us-west-2"},
		{"aws", "evilsts.us-west-2.amazonaws.com", "us-west-2"},
		{"aws", "sts.x.us-west-2.amazonaws.com", "us-west-2"},
		{"aws", "sts..amazonaws.com", ""},
		{"aws", "xsts.amazonaws.com", "us-east-1"},
		{"aws", "sts.us-gov-west-1.amazonaws.com", "us-gov-west-1"}, // gov region in commercial
		{"aws", "sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},    // other partition's domain
		{"aws", "sts.cn-north-1.amazonaws.com", "cn-north-1"},
		{"aws", "sts.us-iso-east-1.amazonaws.com", "us-iso-east-1"},
		{"aws-us-gov", "sts.us-west-2.amazonaws.com", "us-west-2"}, // commercial region in gov
		{"aws-us-gov", "sts.amazonaws.com", "us-east-1"},           // global only in aws
		{"aws-us-gov", "sts.evil-region.amazonaws.com", "evil-region"},
		{"aws-cn", "sts.us-west-2.amazonaws.com", "us-west-2"},
		{"aws-cn", "sts.amazonaws.com.cn", "cn-north-1"},
		{"aws-cn", "sts.cn-north-1.amazonaws.com", "cn-north-1"},
		{"aws-iso", "sts.us-isob-east-1.c2s.ic.gov", "us-isob-east-1"},
		{"aws-eusc", "sts.eusc-fr-east-1.amazonaws.eu", "eusc-fr-east-1"},
	}
	for _, tc := range reject {
		v := &Validator{Partition: tc.partition, Now: testValidator().Now}
		_, err := v.Validate(encodeForTest(buildURL(tc.host, goodParams(tc.region))))
		if err == nil {
			t.Errorf("%s accepted %s", tc.partition, tc.host)
			continue
		}
		wantReason(t, err, ReasonBadHost)
	}
}

func TestValidateUnknownPartitionFailsClosed(t *testing.T) {
	v := &Validator{Partition: "aws-evil", Now: testValidator().Now}
	_, err := v.Validate(encodeForTest(buildURL("sts.us-west-2.amazonaws.com", goodParams("us-west-2"))))
	wantReason(t, err, ReasonBadPartition)
	if KnownPartition("aws-evil") || !KnownPartition("aws-us-gov") || len(Partitions()) != 8 {
		t.Fatalf("partition helpers: %v", Partitions())
	}
}

func TestValidateOperatorRegions(t *testing.T) {
	tok := encodeForTest(buildURL("sts.xx-new-1.amazonaws.com", goodParams("xx-new-1")))
	_, err := testValidator().Validate(tok)
	wantReason(t, err, ReasonBadHost)
	v := testValidator()
	v.STSRegions = []string{"xx-new-1"}
	if _, err := v.Validate(tok); err != nil {
		t.Fatalf("listed region rejected: %v", err)
	}
}

func TestValidateExtraHosts(t *testing.T) {
	const vpce = "vpce-0123-abcd.sts.us-west-2.vpce.amazonaws.com"
	v := testValidator()
	tok := encodeForTest(buildURL(vpce, goodParams("us-west-2")))
	_, err := v.Validate(tok)
	wantReason(t, err, ReasonBadHost)

	v.ExtraHosts = []string{"VPCE-0123-abcd.sts.us-west-2.vpce.amazonaws.com."} // operator's spelling is normalised
	req, err := v.Validate(tok)
	if err != nil || req.Host != vpce || req.Region != "us-west-2" {
		t.Fatalf("extra host: %v %+v", err, req)
	}
	// The scope region must still be a real region of the partition.
	for _, r := range []string{"evil-region", "us-gov-west-1", "cn-north-1"} {
		_, err = v.Validate(encodeForTest(buildURL(vpce, goodParams(r))))
		wantReason(t, err, ReasonRegionMismatch)
	}
	// Listing a host never relaxes the syntax checks on the token's host.
	_, err = v.Validate(encodeForTest(buildURL(vpce+":443", goodParams("us-west-2"))))
	wantReason(t, err, ReasonBadHost)
}

func TestIsRegion(t *testing.T) {
	for _, tc := range []struct {
		p, r string
		want bool
	}{
		{"aws", "us-west-2", true}, {"aws", "eu-evil-1", true}, {"aws", "evil-region", false},
		{"aws", "us-gov-west-1", false}, {"aws-us-gov", "us-gov-west-1", true}, {"aws-us-gov", "us-east-1", false},
		{"aws", "", false}, {"nope", "us-west-2", false}, {"aws", "us-west-2\n", false},
	} {
		if got := IsRegion(tc.p, tc.r); got != tc.want {
			t.Errorf("IsRegion(%q, %q) = %v", tc.p, tc.r, got)
		}
	}
}

// TestRegionPatternsCompile: the patterns compile lazily, so a typo would
// otherwise surface only on the first token of that partition.
func TestRegionPatternsCompile(t *testing.T) {
	for id, p := range stsPartitionTable {
		for _, r := range p.regions {
			if !p.regionRE().MatchString(r) {
				t.Errorf("%s: listed region %s does not match the pattern", id, r)
			}
		}
		if p.regionRE().MatchString("") {
			t.Errorf("%s: pattern matches the empty string", id)
		}
	}
}
