package token

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestValidateAcceptsWellFormed(t *testing.T) {
	req, err := testValidator().Validate(encodeForTest(buildURL("sts.us-west-2.amazonaws.com", goodParams("us-west-2"))))
	if err != nil {
		t.Fatal(err)
	}
	want := Request{
		URL:  buildURL("sts.us-west-2.amazonaws.com", goodParams("us-west-2")),
		Host: "sts.us-west-2.amazonaws.com", Region: "us-west-2", Partition: "aws",
		AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SignedAt: time.Date(2026, 11, 25, 8, 59, 0, 0, time.UTC),
	}
	if *req != want {
		t.Fatalf("got %+v\nwant %+v", *req, want)
	}
	if !req.Expiry().Equal(want.SignedAt.Add(15 * time.Minute)) {
		t.Fatalf("expiry %v", req.Expiry())
	}
}

func TestValidateAcceptsSDKPresignedTokens(t *testing.T) {
	for _, st := range []string{"", testSTok} {
		for _, host := range []string{"sts.amazonaws.com", "sts.eu-west-1.amazonaws.com", "sts-fips.us-east-2.amazonaws.com", "sts.ap-south-1.api.aws"} {
			region, _ := stsPartitionTable["aws"].hostRegion(host)
			u := sdkPresign(t, host, region, "cluster-a", st, testNow.Add(-time.Minute))
			req, err := testValidator().Validate(encodeForTest(u))
			if err != nil {
				t.Fatalf("%s (session token %v): %v", host, st != "", err)
			}
			if req.URL != u || req.Region != region || req.Host != host {
				t.Fatalf("got %+v", req)
			}
		}
	}
}

// TestValidateAWSCLIToken checks a token from "aws eks get-token" (aws-cli
// v1/botocore), the most common client besides our own.
func TestValidateAWSCLIToken(t *testing.T) {
	tok := awsCLIToken(t, "test")
	req, err := (&Validator{}).Validate(tok)
	if err != nil {
		t.Fatal(err)
	}
	if req.Host != "sts.us-west-2.amazonaws.com" || req.Region != "us-west-2" || req.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
		t.Fatalf("got %+v", req)
	}
}

// awsCLIToken runs aws eks get-token offline with example credentials.
func awsCLIToken(t *testing.T, cluster string) string {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws-cli not installed; this test needs `aws eks get-token`")
	}
	cmd := exec.Command("aws", "eks", "get-token", "--cluster-name", cluster)
	// Only the example credentials: no profile, session token or config
	// from the machine running the tests.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env,
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_DEFAULT_REGION=us-west-2",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws eks get-token: %v", err)
	}
	var ec struct {
		Status struct{ Token string } `json:"status"`
	}
	if err := json.Unmarshal(out, &ec); err != nil || ec.Status.Token == "" {
		t.Fatalf("parse aws output: %v", err)
	}
	return ec.Status.Token
}

func TestValidateEncoding(t *testing.T) {
	good := buildURL("sts.us-west-2.amazonaws.com", goodParams("us-west-2"))
	enc := base64.RawURLEncoding.EncodeToString([]byte(good))
	padded := base64.URLEncoding.EncodeToString([]byte(good + "&"))
	std := base64.RawStdEncoding.EncodeToString([]byte(good + "?>?>"))
	if !strings.ContainsAny(std, "+/") {
		t.Fatal("test setup: std encoding has no + or /")
	}
	runRejects(t, testValidator(), []rejectCase{
		{"too large", Prefix + strings.Repeat("A", MaxTokenBytes), ReasonTooLarge},
		{"no prefix", enc, ReasonBadPrefix},
		{"other version prefix", "k8s-aws-v2." + enc, ReasonBadPrefix},
		{"uppercase prefix", "K8S-AWS-V1." + enc, ReasonBadPrefix},
		{"empty body", Prefix, ReasonBadEncoding},
		{"padding", Prefix + padded, ReasonBadEncoding},
		{"std alphabet", Prefix + std, ReasonBadEncoding},
		{"newline inside", Prefix + enc[:10] + "\n" + enc[10:], ReasonBadEncoding},
		{"space", Prefix + " " + enc, ReasonBadEncoding},
		{"non-canonical trailing bits", Prefix + "QR", ReasonBadEncoding},
		{"impossible length", Prefix + "QUJDR", ReasonBadEncoding},
		{"NUL in URL", encodeForTest(good + "\x00"), ReasonBadURL},
		{"space in URL", encodeForTest(strings.Replace(good, "Action=", "Action= ", 1)), ReasonBadURL},
		{"UTF-8 in URL", encodeForTest(strings.Replace(good, "sts.", "stß.", 1)), ReasonBadURL},
	})
}

func TestValidateSizeLimitAllowsLargeSessionTokens(t *testing.T) {
	// AIA's 4 KiB limit rejected long session tokens (AIA#1106).
	u := sdkPresign(t, "sts.us-west-2.amazonaws.com", "us-west-2", "c", strings.Repeat("A", 6000), testNow)
	tok := encodeForTest(u)
	if len(tok) <= 4096 || len(tok) > MaxTokenBytes {
		t.Fatalf("test setup: token is %d bytes", len(tok))
	}
	if _, err := testValidator().Validate(tok); err != nil {
		t.Fatal(err)
	}
}

func TestValidateURLShape(t *testing.T) {
	ps := goodParams("us-west-2")
	q := buildURL("h", ps)[len("https://h/?"):]
	const h = "sts.us-west-2.amazonaws.com"
	runRejects(t, testValidator(), []rejectCase{
		{"http", encodeForTest("http://" + h + "/?" + q), ReasonBadScheme},
		{"uppercase scheme", encodeForTest("HTTPS://" + h + "/?" + q), ReasonBadScheme},
		{"no scheme", encodeForTest("//" + h + "/?" + q), ReasonBadScheme},
		{"scheme-relative tricks", encodeForTest("https:/" + h + "/?" + q), ReasonBadScheme},
		{"userinfo", encodeForTest("https://user@" + h + "/?" + q), ReasonBadHost},
		{"userinfo with password", encodeForTest("https://a:b@" + h + "/?" + q), ReasonBadHost},
		{"port", encodeForTest("https://" + h + ":443/?" + q), ReasonBadHost},
		{"other port", encodeForTest("https://sts.amazonaws.com:8443/?" + q), ReasonBadHost},
		{"fragment", encodeForTest("https://" + h + "/?" + q + "#frag"), ReasonBadURL},
		{"empty fragment", encodeForTest("https://" + h + "/?" + q + "#"), ReasonBadURL},
		{"uppercase host", encodeForTest("https://STS.US-WEST-2.AMAZONAWS.COM/?" + q), ReasonBadHost},
		{"mixed case host", encodeForTest("https://sts.us-west-2.AmazonAWS.com/?" + q), ReasonBadHost},
		{"trailing dot", encodeForTest("https://" + h + "./?" + q), ReasonBadHost},
		{"percent in host", encodeForTest("https://sts.us-west-2.amazonaws%2ecom/?" + q), ReasonBadHost},
		{"backslash in host", encodeForTest("https://evil.com\\" + h + "/?" + q), ReasonBadHost},
		{"IPv6 literal", encodeForTest("https://[::1]/?" + q), ReasonBadHost},
		{"empty host", encodeForTest("https:///?" + q), ReasonBadHost},
		{"path", encodeForTest("https://" + h + "/foo?" + q), ReasonBadPath},
		{"double slash path", encodeForTest("https://" + h + "//?" + q), ReasonBadPath},
		{"dot path", encodeForTest("https://" + h + "/./?" + q), ReasonBadPath},
		{"encoded slash path", encodeForTest("https://" + h + "/%2F?" + q), ReasonBadPath},
		{"no path", encodeForTest("https://" + h + "?" + q), ReasonBadPath},
		{"no path no query", encodeForTest("https://" + h), ReasonBadPath},
		{"no query", encodeForTest("https://" + h + "/"), ReasonMissingParam},
	})
}

func TestValidateQuery(t *testing.T) {
	const h = "sts.us-west-2.amazonaws.com"
	ps := goodParams("us-west-2")
	victim := "AKIAVICTIMVICTIMVICT%2F20261125%2Fus-west-2%2Fsts%2Faws4_request"
	runRejects(t, testValidator(), []rejectCase{
		// CVE-2022-2385: STS honours the first, AIA used the second.
		{"repeated credential differing in case", encodeForTest(buildURL(h, append(ps, param{"x-amz-credential", victim}))), ReasonDuplicateParam},
		{"repeated credential same case", encodeForTest(buildURL(h, append(ps, param{"X-Amz-Credential", victim}))), ReasonDuplicateParam},
		{"repeated action", encodeForTest(buildURL(h, append(ps, param{"ACTION", "GetCallerIdentity"}))), ReasonDuplicateParam},
		{"repeated security token", encodeForTest(buildURL(h, append(ps, param{"X-Amz-Security-Token", "a"}, param{"x-amz-security-token", "b"}))), ReasonDuplicateParam},
		{"extra param", encodeForTest(buildURL(h, append(ps, param{"Foo", "bar"}))), ReasonUnknownParam},
		{"extra amz param", encodeForTest(buildURL(h, append(ps, param{"X-Amz-Content-Sha256", "x"}))), ReasonUnknownParam},
		{"encoded name", encodeForTest(buildURL(h, append(without(ps, "X-Amz-Credential"), param{"X-Amz%2DCredential", credFor("us-west-2")}))), ReasonUnknownParam},
		{"plus in name", encodeForTest(buildURL(h, append(ps, param{"X-Amz+Foo", "1"}))), ReasonUnknownParam},
		{"empty name", encodeForTest(buildURL(h, append(ps, param{"", "1"}))), ReasonUnknownParam},
		{"name without value", encodeForTest(buildURL(h, ps) + "&Version"), ReasonBadQuery},
		{"empty pair", encodeForTest(buildURL(h, ps) + "&&"), ReasonBadQuery},
		{"semicolon separator", encodeForTest(buildURL(h, ps) + ";Foo=bar"), ReasonBadQuery},
		{"bad escape", encodeForTest(buildURL(h, with(ps, "X-Amz-Expires", "%zz"))), ReasonBadQuery},
		{"missing action", encodeForTest(buildURL(h, without(ps, "Action"))), ReasonMissingParam},
		{"missing version", encodeForTest(buildURL(h, without(ps, "Version"))), ReasonMissingParam},
		{"missing signature", encodeForTest(buildURL(h, without(ps, "X-Amz-Signature"))), ReasonMissingParam},
		{"missing credential", encodeForTest(buildURL(h, without(ps, "X-Amz-Credential"))), ReasonMissingParam},
		{"missing date", encodeForTest(buildURL(h, without(ps, "X-Amz-Date"))), ReasonMissingParam},
		{"missing expires", encodeForTest(buildURL(h, without(ps, "X-Amz-Expires"))), ReasonMissingParam},
		{"missing signed headers", encodeForTest(buildURL(h, without(ps, "X-Amz-SignedHeaders"))), ReasonMissingParam},
		{"missing algorithm", encodeForTest(buildURL(h, without(ps, "X-Amz-Algorithm"))), ReasonMissingParam},
	})
}

func TestValidateQueryNamesAreCaseInsensitive(t *testing.T) {
	ps := goodParams("us-west-2")
	for i := range ps {
		ps[i].k = strings.ToLower(ps[i].k)
	}
	req, err := testValidator().Validate(encodeForTest(buildURL("sts.us-west-2.amazonaws.com", ps)))
	if err != nil || req.AccessKeyID != "AKIAIOSFODNN7EXAMPLE" {
		t.Fatalf("lowercase names: %v %+v", err, req)
	}
}
