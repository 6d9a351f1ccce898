package token

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Validator checks tokens locally. The zero value validates for the aws
// partition with the SDK's region data. It is safe for concurrent use as long
// as its fields are not changed.
type Validator struct {
	// Partition is the AWS partition id; empty means "aws".
	Partition string
	// STSRegions are extra regions the operator vouches for (new regions the
	// built-in table does not know yet).
	STSRegions []string
	// ExtraHosts are exact STS host names the operator vouches for, such as
	// VPC endpoint names. The scope region must still be a real region.
	ExtraHosts []string
	// Now defaults to time.Now.
	Now func() time.Time
}

// allowedParams are the only query parameters a GetCallerIdentity presigned
// URL carries (lowercase). Anything else could change what STS does, or what
// the server believes, without the server seeing it.
var allowedParams = map[string]bool{
	"action":               true,
	"version":              true,
	"x-amz-algorithm":      true,
	"x-amz-credential":     true,
	"x-amz-date":           true,
	"x-amz-expires":        true,
	"x-amz-security-token": true,
	"x-amz-signature":      true,
	"x-amz-signedheaders":  true,
}

// requiredParams must all be present, in this order of reporting.
var requiredParams = []string{
	"action", "version", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
	"x-amz-expires", "x-amz-signedheaders", "x-amz-signature",
}

// Validate decodes tok and checks every part of the presigned URL. It makes
// no network call. A nil error means the token is well-formed for this
// server; only STS can say whether its signature is good.
func (v *Validator) Validate(tok string) (*Request, error) {
	var cfg Validator
	if v != nil {
		cfg = *v
	}
	partID := cfg.Partition
	if partID == "" {
		partID = DefaultPartition
	}
	part, ok := stsPartitionTable[partID]
	if !ok {
		return nil, rejectf(ReasonBadPartition, "unknown partition "+quoteShort(partID))
	}
	now := time.Now()
	if cfg.Now != nil {
		now = cfg.Now()
	}

	raw, err := decodeToken(tok)
	if err != nil {
		return nil, err
	}
	host, query, err := splitURL(raw)
	if err != nil {
		return nil, err
	}
	hostRegion, err := cfg.checkHost(part, host)
	if err != nil {
		return nil, err
	}
	if err := checkPath(raw, host, query); err != nil {
		return nil, err
	}
	params, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	req, err := cfg.checkParams(part, params, hostRegion, now)
	if err != nil {
		return nil, err
	}
	req.URL, req.Host, req.Partition = raw, host, partID
	return req, nil
}

// decodeToken strips the prefix and decodes strict, unpadded base64url into
// printable ASCII.
func decodeToken(tok string) (string, error) {
	if len(tok) > MaxTokenBytes {
		return "", rejectf(ReasonTooLarge, "token is "+strconv.Itoa(len(tok))+" bytes, limit "+strconv.Itoa(MaxTokenBytes))
	}
	body, ok := strings.CutPrefix(tok, Prefix)
	if !ok {
		return "", rejectf(ReasonBadPrefix, "token must start with "+strconv.Quote(Prefix))
	}
	if body == "" {
		return "", rejectf(ReasonBadEncoding, "empty token body")
	}
	// The decoder would skip \r and \n, so check the alphabet first.
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '=':
			return "", rejectf(ReasonBadEncoding, "padding not allowed")
		case c == '+' || c == '/':
			return "", rejectf(ReasonBadEncoding, "standard base64 alphabet not allowed, use base64url")
		default:
			return "", rejectf(ReasonBadEncoding, "invalid character at offset "+strconv.Itoa(i))
		}
	}
	dec, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil {
		return "", rejectf(ReasonBadEncoding, "not canonical unpadded base64url")
	}
	for i, c := range dec {
		if c < 0x21 || c > 0x7e {
			return "", rejectf(ReasonBadURL, "non-printable or non-ASCII byte at offset "+strconv.Itoa(i))
		}
	}
	return string(dec), nil
}

// splitURL takes the URL apart by hand, so that the parts checked are the
// exact bytes the HTTP client will send, then cross-checks with net/url.
func splitURL(raw string) (host, query string, err error) {
	rest, ok := strings.CutPrefix(raw, "https://")
	if !ok {
		return "", "", rejectf(ReasonBadScheme, "scheme must be lowercase https")
	}
	if strings.Contains(raw, "#") {
		return "", "", rejectf(ReasonBadURL, "fragment not allowed")
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	host = rest[:end]
	if _, q, found := strings.Cut(rest[end:], "?"); found {
		query = q
	}
	return host, query, nil
}

// checkPath requires the path to be exactly "/" and re-parses the URL with
// net/url to make sure the standard library sees the same parts.
func checkPath(raw, host, query string) error {
	rest := raw[len("https://")+len(host):]
	if rest != "/" && !strings.HasPrefix(rest, "/?") {
		return rejectf(ReasonBadPath, "path must be exactly /")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Opaque != "" || u.User != nil || u.Host != host ||
		u.Path != "/" || u.RawPath != "" || u.Fragment != "" || u.RawQuery != query {
		return rejectf(ReasonBadURL, "URL does not parse consistently")
	}
	return nil
}

// parseQuery splits the raw query into lowercase names and decoded values,
// refusing repeated names in any letter case (CVE-2022-2385), unknown names
// and anything ambiguous.
func parseQuery(query string) (map[string]string, error) {
	params := make(map[string]string, len(allowedParams))
	if query == "" {
		return params, nil
	}
	if strings.Contains(query, ";") {
		return nil, rejectf(ReasonBadQuery, "semicolon not allowed in query")
	}
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			return nil, rejectf(ReasonBadQuery, "empty query parameter")
		}
		name, rawVal, found := strings.Cut(part, "=")
		if !paramNameOK(name) {
			return nil, rejectf(ReasonUnknownParam, "parameter name "+quoteShort(name))
		}
		lname := strings.ToLower(name)
		if !allowedParams[lname] {
			return nil, rejectf(ReasonUnknownParam, "parameter "+quoteShort(name)+" not allowed")
		}
		if !found {
			return nil, rejectf(ReasonBadQuery, "parameter "+name+" has no value")
		}
		if _, dup := params[lname]; dup {
			return nil, rejectf(ReasonDuplicateParam, "parameter "+name+" repeated (names compare case-insensitively)")
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, rejectf(ReasonBadQuery, "bad percent-encoding in "+name)
		}
		params[lname] = val
	}
	return params, nil
}

// paramNameOK allows letters, digits and '-' only: no escapes, so a name can
// never decode to something other than what was compared.
func paramNameOK(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
