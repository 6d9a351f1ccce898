package token

import (
	"strconv"
	"strings"
	"time"
)

// checkParams checks the SigV4 query parameters and builds the Request.
// hostRegion is the region the host implies, or "" for an operator-listed
// extra host.
func (v *Validator) checkParams(part *stsPartition, params map[string]string, hostRegion string, now time.Time) (*Request, error) {
	for _, name := range requiredParams {
		if _, ok := params[name]; !ok {
			return nil, rejectf(ReasonMissingParam, "missing "+name)
		}
	}
	if params["action"] != "GetCallerIdentity" {
		return nil, rejectf(ReasonBadAction, "action must be GetCallerIdentity")
	}
	if params["version"] != "2011-06-15" {
		return nil, rejectf(ReasonBadVersion, "version must be 2011-06-15")
	}
	if params["x-amz-algorithm"] != "AWS4-HMAC-SHA256" {
		return nil, rejectf(ReasonBadAlgorithm, "algorithm must be AWS4-HMAC-SHA256")
	}
	if err := checkSignedHeaders(params["x-amz-signedheaders"]); err != nil {
		return nil, err
	}
	if !expiresOK(params["x-amz-expires"]) {
		return nil, rejectf(ReasonBadExpires, "X-Amz-Expires must be an integer from 0 to "+strconv.Itoa(MaxExpiresSeconds))
	}

	akid, scopeDate, scopeRegion, err := parseCredential(params["x-amz-credential"])
	if err != nil {
		return nil, err
	}
	switch {
	case hostRegion == "" && !v.realRegion(part, scopeRegion):
		return nil, rejectf(ReasonRegionMismatch, "credential scope region "+quoteShort(scopeRegion)+" is not a region of partition "+part.id)
	case hostRegion != "" && scopeRegion != hostRegion:
		return nil, rejectf(ReasonRegionMismatch, "credential scope region "+quoteShort(scopeRegion)+" does not match host region "+hostRegion)
	}

	date := params["x-amz-date"]
	signedAt, ok := parseAmzDate(date)
	if !ok {
		return nil, rejectf(ReasonBadDate, "X-Amz-Date must look like 20060102T150405Z")
	}
	if date[:8] != scopeDate {
		return nil, rejectf(ReasonBadCredential, "credential scope date differs from X-Amz-Date")
	}
	if age := now.Sub(signedAt); age > MaxTokenAge {
		return nil, rejectf(ReasonExpired, "signed "+age.Truncate(time.Second).String()+" ago, limit "+MaxTokenAge.String())
	}
	if ahead := signedAt.Sub(now); ahead > MaxClockSkew {
		return nil, rejectf(ReasonFutureDate, "signed "+ahead.Truncate(time.Second).String()+" in the future, limit "+MaxClockSkew.String())
	}

	if !lowerHex64(params["x-amz-signature"]) {
		return nil, rejectf(ReasonBadSignature, "X-Amz-Signature must be 64 lowercase hex digits")
	}
	if st, ok := params["x-amz-security-token"]; ok && !securityTokenOK(st) {
		return nil, rejectf(ReasonBadSecurityTok, "X-Amz-Security-Token must be non-empty printable ASCII")
	}
	return &Request{Region: scopeRegion, AccessKeyID: akid, SignedAt: signedAt}, nil
}

// checkSignedHeaders wants a canonical SigV4 list (lowercase, sorted, no
// repeats) that includes host and the cluster id header: without the latter
// a token would be valid for every cluster.
func checkSignedHeaders(s string) error {
	names := strings.Split(s, ";")
	var host, cluster bool
	for i, n := range names {
		if n == "" || !headerNameOK(n) {
			return rejectf(ReasonBadSignedHeader, "signed header names must be lowercase tokens separated by ';'")
		}
		if i > 0 && names[i-1] >= n {
			return rejectf(ReasonBadSignedHeader, "signed headers must be sorted and unique")
		}
		host = host || n == "host"
		cluster = cluster || n == ClusterIDHeader
	}
	if !host {
		return rejectf(ReasonBadSignedHeader, "host is not signed")
	}
	if !cluster {
		return rejectf(ReasonBadSignedHeader, ClusterIDHeader+" is not signed")
	}
	return nil
}

func headerNameOK(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// expiresOK accepts 1 to 3 plain digits up to MaxExpiresSeconds (no sign,
// no spaces, which strconv.Atoi alone would allow).
func expiresOK(s string) bool {
	if len(s) == 0 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= MaxExpiresSeconds
}

// parseCredential splits AKID/YYYYMMDD/region/sts/aws4_request.
func parseCredential(c string) (akid, date, region string, err error) {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return "", "", "", rejectf(ReasonBadCredential, "X-Amz-Credential must be AKID/date/region/sts/aws4_request")
	}
	akid, date, region = parts[0], parts[1], parts[2]
	if !accessKeyIDOK(akid) {
		return "", "", "", rejectf(ReasonBadCredential, "access key id must be 16 to 128 characters of A-Z and 0-9")
	}
	if len(date) != 8 || !allDigits(date) {
		return "", "", "", rejectf(ReasonBadCredential, "credential scope date must be YYYYMMDD")
	}
	if parts[3] != "sts" {
		return "", "", "", rejectf(ReasonBadCredential, "credential scope service must be sts")
	}
	if parts[4] != "aws4_request" {
		return "", "", "", rejectf(ReasonBadCredential, "credential scope must end in aws4_request")
	}
	if region == "" {
		return "", "", "", rejectf(ReasonBadCredential, "empty credential scope region")
	}
	return akid, date, region, nil
}

func accessKeyIDOK(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseAmzDate parses X-Amz-Date strictly: exactly 16 characters in UTC.
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(amzDateLayout) || s[8] != 'T' || s[15] != 'Z' || !allDigits(s[:8]) || !allDigits(s[9:15]) {
		return time.Time{}, false
	}
	t, err := time.Parse(amzDateLayout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lowerHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// securityTokenOK accepts non-empty printable ASCII without spaces; real
// session tokens are base64.
func securityTokenOK(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
