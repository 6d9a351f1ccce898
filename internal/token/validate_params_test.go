package token

import (
	"strings"
	"testing"
	"time"
)

func TestValidateParams(t *testing.T) {
	const h = "sts.us-west-2.amazonaws.com"
	ps := goodParams("us-west-2")
	tok := func(ps []param) string { return encodeForTest(buildURL(h, ps)) }
	runRejects(t, testValidator(), []rejectCase{
		{"AssumeRole", tok(with(ps, "Action", "AssumeRole")), ReasonBadAction},
		{"action lowercase", tok(with(ps, "Action", "getcalleridentity")), ReasonBadAction},
		{"action with space", tok(with(ps, "Action", "GetCallerIdentity+")), ReasonBadAction},
		{"empty action", tok(with(ps, "Action", "")), ReasonBadAction},
		{"version", tok(with(ps, "Version", "2012-01-01")), ReasonBadVersion},
		{"algorithm", tok(with(ps, "X-Amz-Algorithm", "AWS4-HMAC-SHA1")), ReasonBadAlgorithm},
		{"sigv4a", tok(with(ps, "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")), ReasonBadAlgorithm},
		{"cluster header not signed", tok(with(ps, "X-Amz-SignedHeaders", "host")), ReasonBadSignedHeader},
		{"host not signed", tok(with(ps, "X-Amz-SignedHeaders", "x-k8s-aws-id")), ReasonBadSignedHeader},
		{"cluster header as prefix only", tok(with(ps, "X-Amz-SignedHeaders", "host%3Bx-k8s-aws-id-x")), ReasonBadSignedHeader},
		{"uppercase signed header", tok(with(ps, "X-Amz-SignedHeaders", "host%3BX-K8S-AWS-ID")), ReasonBadSignedHeader},
		{"unsorted signed headers", tok(with(ps, "X-Amz-SignedHeaders", "x-k8s-aws-id%3Bhost")), ReasonBadSignedHeader},
		{"repeated signed header", tok(with(ps, "X-Amz-SignedHeaders", "host%3Bhost%3Bx-k8s-aws-id")), ReasonBadSignedHeader},
		{"empty signed header", tok(with(ps, "X-Amz-SignedHeaders", "host%3B%3Bx-k8s-aws-id")), ReasonBadSignedHeader},
		{"expires 901", tok(with(ps, "X-Amz-Expires", "901")), ReasonBadExpires},
		{"expires negative", tok(with(ps, "X-Amz-Expires", "-1")), ReasonBadExpires},
		{"expires plus sign", tok(with(ps, "X-Amz-Expires", "%2B60")), ReasonBadExpires},
		{"expires huge", tok(with(ps, "X-Amz-Expires", "99999999999999999999")), ReasonBadExpires},
		{"expires not a number", tok(with(ps, "X-Amz-Expires", "6O")), ReasonBadExpires},
		{"expires empty", tok(with(ps, "X-Amz-Expires", "")), ReasonBadExpires},
		{"credential too few parts", tok(with(ps, "X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20261125%2Fus-west-2%2Fsts")), ReasonBadCredential},
		{"credential extra part", tok(with(ps, "X-Amz-Credential", credFor("us-west-2")+"%2Fx")), ReasonBadCredential},
		{"credential other service", tok(with(ps, "X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20261125%2Fus-west-2%2Fs3%2Faws4_request")), ReasonBadCredential},
		{"credential terminator", tok(with(ps, "X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20261125%2Fus-west-2%2Fsts%2Faws4_requesx")), ReasonBadCredential},
		{"akid lowercase", tok(with(ps, "X-Amz-Credential", "akiaiosfodnn7example%2F20261125%2Fus-west-2%2Fsts%2Faws4_request")), ReasonBadCredential},
		{"akid short", tok(with(ps, "X-Amz-Credential", "AKIASHORT%2F20261125%2Fus-west-2%2Fsts%2Faws4_request")), ReasonBadCredential},
		{"akid too long", tok(with(ps, "X-Amz-Credential", strings.Repeat("A", 129)+"%2F20261125%2Fus-west-2%2Fsts%2Faws4_request")), ReasonBadCredential},
		{"akid with template braces", tok(with(ps, "X-Amz-Credential", "%7B%7BAccountID%7D%7DAAAAAAAA%2F20261125%2Fus-west-2%2Fsts%2Faws4_request")), ReasonBadCredential},
		{"scope date malformed", tok(with(ps, "X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F2026-11-25%2Fus-west-2%2Fsts%2Faws4_request")), ReasonBadCredential},
		{"scope date differs", tok(with(ps, "X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F20261124%2Fus-west-2%2Fsts%2Faws4_request")), ReasonBadCredential},
		{"scope region differs from host", tok(with(ps, "X-Amz-Credential", credFor("us-east-1"))), ReasonRegionMismatch},
		{"empty scope region", tok(with(ps, "X-Amz-Credential", credFor(""))), ReasonBadCredential},
		{"signature uppercase", tok(with(ps, "X-Amz-Signature", strings.ToUpper(testSig))), ReasonBadSignature},
		{"signature short", tok(with(ps, "X-Amz-Signature", testSig[:63])), ReasonBadSignature},
		{"signature long", tok(with(ps, "X-Amz-Signature", testSig+"0")), ReasonBadSignature},
		{"signature not hex", tok(with(ps, "X-Amz-Signature", "g"+testSig[1:])), ReasonBadSignature},
		{"empty security token", tok(with(ps, "X-Amz-Security-Token", "")), ReasonBadSecurityTok},
		{"security token with NUL", tok(with(ps, "X-Amz-Security-Token", "abc%00")), ReasonBadSecurityTok},
	})
}

func TestValidateGlobalHostScopesUSEast1(t *testing.T) {
	v := testValidator()
	if _, err := v.Validate(encodeForTest(buildURL("sts.amazonaws.com", goodParams("us-east-1")))); err != nil {
		t.Fatal(err)
	}
	_, err := v.Validate(encodeForTest(buildURL("sts.amazonaws.com", goodParams("us-west-2"))))
	wantReason(t, err, ReasonRegionMismatch)
}

func TestValidateSecurityTokenAccepted(t *testing.T) {
	ps := with(goodParams("us-west-2"), "X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE%2B%2F%3D")
	if _, err := testValidator().Validate(encodeForTest(buildURL("sts.us-west-2.amazonaws.com", ps))); err != nil {
		t.Fatal(err)
	}
}

func TestValidateExpiresBounds(t *testing.T) {
	for _, e := range []string{"0", "60", "900"} {
		ps := with(goodParams("us-west-2"), "X-Amz-Expires", e)
		if _, err := testValidator().Validate(encodeForTest(buildURL("sts.us-west-2.amazonaws.com", ps))); err != nil {
			t.Errorf("X-Amz-Expires=%s: %v", e, err)
		}
	}
}

func TestValidateTime(t *testing.T) {
	const h = "sts.us-west-2.amazonaws.com"
	at := func(d time.Duration) []param {
		ts := testNow.Add(d)
		return with(with(goodParams("us-west-2"), "X-Amz-Date", ts.Format(amzDateLayout)),
			"X-Amz-Credential", "AKIAIOSFODNN7EXAMPLE%2F"+ts.Format("20060102")+"%2Fus-west-2%2Fsts%2Faws4_request")
	}
	for _, d := range []time.Duration{0, -15 * time.Minute, 5 * time.Minute, -14*time.Minute - 59*time.Second} {
		if _, err := testValidator().Validate(encodeForTest(buildURL(h, at(d)))); err != nil {
			t.Errorf("offset %v: %v", d, err)
		}
	}
	ps := goodParams("us-west-2")
	runRejects(t, testValidator(), []rejectCase{
		{"older than 15 min", encodeForTest(buildURL(h, at(-15*time.Minute-time.Second))), ReasonExpired},
		{"a day old", encodeForTest(buildURL(h, at(-24*time.Hour))), ReasonExpired},
		{"more than 5 min ahead", encodeForTest(buildURL(h, at(5*time.Minute+time.Second))), ReasonFutureDate},
		{"a year ahead", encodeForTest(buildURL(h, at(365*24*time.Hour))), ReasonFutureDate},
		{"date with offset", encodeForTest(buildURL(h, with(ps, "X-Amz-Date", "20261125T085900+0000"))), ReasonBadDate},
		{"date without Z", encodeForTest(buildURL(h, with(ps, "X-Amz-Date", "20261125T085900"))), ReasonBadDate},
		{"date ISO", encodeForTest(buildURL(h, with(ps, "X-Amz-Date", "2026-11-25T08:59:00Z"))), ReasonBadDate},
		{"hour 24", encodeForTest(buildURL(h, with(ps, "X-Amz-Date", "20261125T245900Z"))), ReasonBadDate},
		{"signed digits", encodeForTest(buildURL(h, with(ps, "X-Amz-Date", "2026112%2BT085900Z"))), ReasonBadDate},
	})
}

func TestValidateNilAndZeroValidator(t *testing.T) {
	var v *Validator
	_, err := v.Validate("garbage")
	wantReason(t, err, ReasonBadPrefix)
	// The zero value uses the real clock, so a 2026 token signed in the test's
	// fixed past or future must not pass by accident of a missing clock.
	_, err = (&Validator{}).Validate(encodeForTest(buildURL("sts.us-west-2.amazonaws.com", goodParams("us-west-2"))))
	if err == nil && time.Since(testNow).Abs() > 20*time.Minute {
		t.Fatal("zero validator ignored the clock")
	}
}
