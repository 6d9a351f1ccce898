package ststest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// emptyPayloadSHA256 is the payload hash of a bodiless GET. Both botocore
// (aws-cli) and aws-sdk-go(-v2) put it in the canonical request of presigned
// STS URLs; STS, like other non-S3 services, does not accept UNSIGNED-PAYLOAD,
// and neither does the double.
const emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// queryPair is one decoded query parameter, in the order received.
type queryPair struct{ name, value string }

// parseRawQuery decodes the query without merging or dropping repeats: the
// canonical query must cover every parameter exactly as sent.
func parseRawQuery(raw string) ([]queryPair, error) {
	if raw == "" {
		return nil, nil
	}
	var out []queryPair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		out = append(out, queryPair{dk, dv})
	}
	return out, nil
}

// first returns the first value of name (case-sensitive), as STS reads it.
func first(ps []queryPair, name string) (string, bool) {
	for _, p := range ps {
		if p.name == name {
			return p.value, true
		}
	}
	return "", false
}

// uriEncode is SigV4's encoding: RFC 3986 unreserved characters stay, every
// other byte becomes %XX with uppercase hex.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == '~', keepSlash && c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// canonicalQuery encodes every parameter but X-Amz-Signature, sorted by
// encoded name, then encoded value.
func canonicalQuery(ps []queryPair) string {
	enc := make([][2]string, 0, len(ps))
	for _, p := range ps {
		if p.name == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, [2]string{uriEncode(p.name, false), uriEncode(p.value, false)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	parts := make([]string, len(enc))
	for i, kv := range enc {
		parts[i] = kv[0] + "=" + kv[1]
	}
	return strings.Join(parts, "&")
}

// canonicalHeaders renders exactly the headers named in signedHeaders; host
// is the request's Host, the others come from the request's headers with
// values trimmed, inner runs of spaces collapsed and repeats joined by ','.
func canonicalHeaders(r *http.Request, signedHeaders []string) string {
	var b strings.Builder
	for _, name := range signedHeaders {
		var value string
		if name == "host" {
			value = r.Host
		} else {
			vals := r.Header.Values(name)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			value = strings.Join(vals, ",")
		}
		b.WriteString(name + ":" + value + "\n")
	}
	return b.String()
}

// canonicalURI encodes each path segment once (non-S3 SigV4). An empty path
// is "/".
func canonicalURI(u *url.URL) string {
	if u.Path == "" {
		return "/"
	}
	return uriEncode(u.Path, true)
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// expectedSignature computes the SigV4 signature of r.
func expectedSignature(r *http.Request, ps []queryPair, signedHeaders, amzDate, scopeDate, region, service, secret string) string {
	names := strings.Split(signedHeaders, ";")
	canonical := strings.Join([]string{
		r.Method,
		canonicalURI(r.URL),
		canonicalQuery(ps),
		canonicalHeaders(r, names),
		signedHeaders,
		emptyPayloadSHA256,
	}, "\n")
	scope := scopeDate + "/" + region + "/" + service + "/aws4_request"
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonical)
	k := hmacSHA256([]byte("AWS4"+secret), scopeDate)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
