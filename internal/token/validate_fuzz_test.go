package token

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzValidate feeds both raw tokens and URLs (wrapped into tokens) to the
// validator. It must never panic, and whatever it accepts must satisfy the
// invariants below, checked with independent, simpler code.
func FuzzValidate(f *testing.F) {
	good := goodParams("us-west-2")
	for _, u := range []string{
		buildURL("sts.us-west-2.amazonaws.com", good),
		buildURL("sts.amazonaws.com", goodParams("us-east-1")),
		buildURL("sts-fips.us-east-1.api.aws", goodParams("us-east-1")),
		buildURL("sts.us-west-2.amazonaws.com", append(good, param{"x-amz-credential", credFor("us-west-2")})),
		buildURL("sts.us-west-2.amazonaws.com", with(good, "X-Amz-Security-Token", "abc%2B%2F%3D")),
		buildURL("sts.evil-region.amazonaws.com", goodParams("evil-region")),
		sdkPresign(f, "sts.eu-west-1.amazonaws.com", "eu-west-1", "c", "tok", testNow),
	} {
		f.Add(u)
		f.Add(encodeForTest(u))
	}
	v := testValidator()
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range []string{s, encodeForTest(s)} {
			req, err := v.Validate(tok)
			if err != nil {
				if req != nil {
					t.Fatal("request returned with an error")
				}
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error of type %T", err)
				}
				continue
			}
			checkAcceptedInvariants(t, tok, req)
		}
	})
}

func checkAcceptedInvariants(t *testing.T, tok string, req *Request) {
	t.Helper()
	if len(tok) > MaxTokenBytes || !strings.HasPrefix(tok, Prefix) {
		t.Fatalf("accepted bad framing")
	}
	dec, err := base64.RawURLEncoding.DecodeString(tok[len(Prefix):])
	if err != nil || string(dec) != req.URL {
		t.Fatalf("URL is not the token's decoding")
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		t.Fatalf("accepted unparseable URL: %v", err)
	}
	if !strings.HasPrefix(req.URL, "https://"+req.Host+"/?") || u.Scheme != "https" || u.User != nil ||
		u.Port() != "" || u.Host != req.Host || u.Path != "/" || u.Fragment != "" || strings.Contains(req.URL, "#") {
		t.Fatalf("accepted URL shape %q", req.URL)
	}
	if req.Host != strings.ToLower(req.Host) || strings.HasSuffix(req.Host, ".") {
		t.Fatalf("accepted host %q", req.Host)
	}
	allowed := map[string]bool{}
	for _, suffix := range []string{".amazonaws.com", ".api.aws"} {
		allowed["sts."+req.Region+suffix] = true
		allowed["sts-fips."+req.Region+suffix] = true
	}
	if req.Region == "us-east-1" {
		allowed["sts.amazonaws.com"] = true
	}
	if !allowed[req.Host] || !IsRegion("aws", req.Region) {
		t.Fatalf("accepted host %q for region %q", req.Host, req.Region)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("accepted query net/url cannot parse: %v", err)
	}
	seen := map[string]bool{}
	for k, vs := range q {
		lk := strings.ToLower(k)
		if seen[lk] || len(vs) != 1 || !allowedParams[lk] {
			t.Fatalf("accepted parameter %q (%d values)", k, len(vs))
		}
		seen[lk] = true
	}
	get := func(name string) string {
		for k, vs := range q {
			if strings.EqualFold(k, name) {
				return vs[0]
			}
		}
		return ""
	}
	if get("Action") != "GetCallerIdentity" || get("Version") != "2011-06-15" {
		t.Fatal("accepted wrong action or version")
	}
	if !strings.Contains(";"+get("X-Amz-SignedHeaders")+";", ";x-k8s-aws-id;") {
		t.Fatal("accepted unsigned cluster header")
	}
	cred := strings.Split(get("X-Amz-Credential"), "/")
	if len(cred) != 5 || cred[0] != req.AccessKeyID || cred[2] != req.Region || cred[3] != "sts" {
		t.Fatalf("credential does not match request")
	}
	if age := testNow.Sub(req.SignedAt); age > 15*time.Minute || age < -5*time.Minute {
		t.Fatalf("accepted date %v", req.SignedAt)
	}
}
