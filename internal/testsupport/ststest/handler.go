package ststest

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"time"
)

// signatureWindow is how long STS accepts a presigned request around its
// X-Amz-Date; X-Amz-Expires is ignored, as STS ignores it.
const signatureWindow = 15 * time.Minute

const amzDateLayout = "20060102T150405Z"

// stsError is one STS error answer.
type stsError struct {
	status int
	code   string
	msg    string
}

func sender(status int, code, msg string) *stsError { return &stsError{status, code, msg} }

var (
	errSignature = sender(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	errUnknownKey = sender(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	errExpiredKey = sender(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	errNoAuth     = sender(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	now, latency, f, b, reqID := s.begin(r.Host)
	defer s.end()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if b != 0 {
		s.serveBreak(w, r, b, reqID)
		return
	}
	jsonOut := strings.Contains(r.Header.Get("Accept"), "application/json")
	if f != nil {
		writeError(w, jsonOut, reqID, &stsError{f.status, f.code, f.msg})
		return
	}
	id, e := s.verify(r, now)
	if e != nil {
		writeError(w, jsonOut, reqID, e)
		return
	}
	writeIdentity(w, jsonOut, reqID, id)
}

// verify checks r as STS checks a presigned GetCallerIdentity request.
func (s *Server) verify(r *http.Request, now time.Time) (Identity, *stsError) {
	if r.Method != http.MethodGet {
		return Identity{}, sender(http.StatusBadRequest, "InvalidRequest", "ststest answers presigned GET requests only")
	}
	ps, err := parseRawQuery(r.URL.RawQuery)
	if err != nil {
		return Identity{}, sender(http.StatusBadRequest, "MalformedQueryString", "The query string is malformed")
	}
	alg, okAlg := first(ps, "X-Amz-Algorithm")
	cred, okCred := first(ps, "X-Amz-Credential")
	sig, okSig := first(ps, "X-Amz-Signature")
	if !okAlg && !okCred && !okSig {
		return Identity{}, errNoAuth
	}
	signed, okSH := first(ps, "X-Amz-SignedHeaders")
	amzDate, okDate := first(ps, "X-Amz-Date")
	if !okAlg || !okCred || !okSig || !okSH || !okDate || alg != "AWS4-HMAC-SHA256" {
		return Identity{}, sender(http.StatusBadRequest, "IncompleteSignature", "The request signature does not conform to AWS standards")
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return Identity{}, sender(http.StatusBadRequest, "IncompleteSignature", "Credential is not of the form AKID/date/region/service/aws4_request")
	}
	akid, scopeDate, region, service := parts[0], parts[1], parts[2], parts[3]
	k, ok := s.lookup(akid)
	if !ok {
		return Identity{}, errUnknownKey
	}
	if k.expired {
		return Identity{}, errExpiredKey
	}
	tok, hasTok := first(ps, "X-Amz-Security-Token")
	if hasTok != (k.sessionToken != "") || !constantTimeEqual(tok, k.sessionToken) {
		return Identity{}, errUnknownKey
	}
	if service != "sts" {
		return Identity{}, sender(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'.")
	}
	if want, known := regionOfHost(r.Host); known && region != want {
		return Identity{}, sender(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to a valid region.")
	}
	signedAt, err := time.Parse(amzDateLayout, amzDate)
	if err != nil || len(amzDate) != len(amzDateLayout) {
		return Identity{}, sender(http.StatusBadRequest, "IncompleteSignature", "X-Amz-Date must be in ISO 8601 basic format")
	}
	if scopeDate != amzDate[:8] {
		return Identity{}, sender(http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to a valid date.")
	}
	nowS := now.UTC().Format(amzDateLayout)
	if now.Sub(signedAt) > signatureWindow {
		return Identity{}, sender(http.StatusForbidden, "SignatureDoesNotMatch",
			"Signature expired: "+amzDate+" is now earlier than "+now.Add(-signatureWindow).UTC().Format(amzDateLayout)+" ("+nowS+" - 15 min.)")
	}
	if signedAt.Sub(now) > signatureWindow {
		return Identity{}, sender(http.StatusForbidden, "SignatureDoesNotMatch",
			"Signature not yet current: "+amzDate+" is still later than "+now.Add(signatureWindow).UTC().Format(amzDateLayout)+" ("+nowS+" + 15 min.)")
	}
	if !validSignedHeaders(signed) {
		return Identity{}, errSignature
	}
	want := expectedSignature(r, ps, signed, amzDate, scopeDate, region, service, k.secret)
	if !constantTimeEqual(sig, want) {
		return Identity{}, errSignature
	}
	action, _ := first(ps, "Action")
	version, _ := first(ps, "Version")
	if action != "GetCallerIdentity" || version != "2011-06-15" {
		return Identity{}, sender(http.StatusBadRequest, "InvalidAction",
			"Could not find operation "+action+" for version "+version)
	}
	return k.id, nil
}

// validSignedHeaders wants lowercase names, sorted and unique, including host.
func validSignedHeaders(s string) bool {
	names := strings.Split(s, ";")
	host := false
	for i, n := range names {
		if n == "" || n != strings.ToLower(n) || (i > 0 && names[i-1] >= n) {
			return false
		}
		host = host || n == "host"
	}
	return host
}

// regionOfHost derives the signing region from an STS host name; false for
// names it does not recognise (VPC endpoints), which then accept any scope.
func regionOfHost(host string) (string, bool) {
	if host == "sts.amazonaws.com" {
		return "us-east-1", true
	}
	labels := strings.Split(host, ".")
	if len(labels) >= 3 && (labels[0] == "sts" || labels[0] == "sts-fips") {
		return labels[1], true
	}
	return "", false
}

const xmlNS = "https://sts.amazonaws.com/doc/2011-06-15/"

type xmlIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string `xml:"Arn"`
		UserId  string `xml:"UserId"`
		Account string `xml:"Account"`
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

type xmlError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	NS      string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeIdentity(w http.ResponseWriter, jsonOut bool, reqID string, id Identity) {
	if jsonOut {
		body := map[string]any{"GetCallerIdentityResponse": map[string]any{
			"GetCallerIdentityResult": map[string]string{"Account": id.Account, "Arn": id.Arn, "UserId": id.UserId},
			"ResponseMetadata":        map[string]string{"RequestId": reqID},
		}}
		writeJSON(w, http.StatusOK, reqID, body)
		return
	}
	var x xmlIdentity
	x.NS, x.RequestID = xmlNS, reqID
	x.Result.Arn, x.Result.UserId, x.Result.Account = id.Arn, id.UserId, id.Account
	writeXML(w, http.StatusOK, reqID, x)
}

func writeError(w http.ResponseWriter, jsonOut bool, reqID string, e *stsError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	if jsonOut {
		body := map[string]any{
			"Error":     map[string]string{"Type": typ, "Code": e.code, "Message": e.msg},
			"RequestId": reqID,
		}
		writeJSON(w, e.status, reqID, body)
		return
	}
	var x xmlError
	x.NS, x.RequestID = xmlNS, reqID
	x.Error.Type, x.Error.Code, x.Error.Message = typ, e.code, e.msg
	writeXML(w, e.status, reqID, x)
}

func writeJSON(w http.ResponseWriter, status int, reqID string, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeXML(w http.ResponseWriter, status int, reqID string, v any) {
	b, _ := xml.MarshalIndent(v, "", "  ")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
