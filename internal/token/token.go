// Package token holds the iamgate bearer token format: a presigned STS
// GetCallerIdentity URL, base64url-encoded behind a version prefix.
//
// The server side (Validator) checks a token locally, without any network
// call, before anyone spends an STS request on it. The client's signer lives
// in package presign, so that this package stays standard-library only: the
// lean front binary and the token cache use its constants and Hash. Every check fails closed:
// anything unusual is rejected, because a wrong "yes" here lets a caller pick
// the identity the server believes.
package token

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

const (
	// Prefix marks version 1 tokens, shared with aws-iam-authenticator and
	// "aws eks get-token".
	Prefix = "k8s-aws-v1."
	// ClusterIDHeader is the signed header that binds a token to one cluster:
	// STS recomputes the signature with the server's own cluster id, so a
	// token signed for another cluster fails there.
	ClusterIDHeader = "x-k8s-aws-id"
	// MaxTokenBytes bounds the whole token. AIA's 4 KiB is too small for
	// long session tokens (AIA#1106); 16 KiB leaves ample room and still
	// bounds the work an unauthenticated caller can cause.
	MaxTokenBytes = 16 << 10

	// MaxTokenAge is how long STS accepts a presigned GetCallerIdentity URL
	// after its X-Amz-Date, whatever X-Amz-Expires says.
	MaxTokenAge = 15 * time.Minute
	// MaxClockSkew is how far in the future X-Amz-Date may lie; a token from
	// further ahead would live longer than MaxTokenAge.
	MaxClockSkew = 5 * time.Minute
	// MaxExpiresSeconds is the largest X-Amz-Expires accepted.
	MaxExpiresSeconds = 900

	// amzDateLayout is the X-Amz-Date format.
	amzDateLayout = "20060102T150405Z"
)

// Reasons are stable snake_case codes for audit logs and metric labels.
// Renaming one breaks dashboards: add new ones instead.
const (
	ReasonTooLarge        = "too_large"
	ReasonBadPrefix       = "bad_prefix"
	ReasonBadEncoding     = "bad_encoding"
	ReasonBadURL          = "bad_url"
	ReasonBadScheme       = "bad_scheme"
	ReasonBadHost         = "bad_host"
	ReasonBadPath         = "bad_path"
	ReasonBadQuery        = "bad_query"
	ReasonDuplicateParam  = "duplicate_param"
	ReasonUnknownParam    = "unknown_param"
	ReasonMissingParam    = "missing_param"
	ReasonBadAction       = "bad_action"
	ReasonBadVersion      = "bad_version"
	ReasonBadAlgorithm    = "bad_algorithm"
	ReasonBadSignedHeader = "bad_signed_headers"
	ReasonBadExpires      = "bad_expires"
	ReasonBadCredential   = "bad_credential"
	ReasonRegionMismatch  = "region_mismatch"
	ReasonBadDate         = "bad_date"
	ReasonExpired         = "expired"
	ReasonFutureDate      = "future_date"
	ReasonBadSignature    = "bad_signature"
	ReasonBadSecurityTok  = "bad_security_token"
	ReasonBadPartition    = "bad_partition"
)

// Error is a token rejected by local checks. Reason is a stable code; Detail
// helps a human and never holds the token, the signature or the session
// token.
type Error struct {
	Reason string
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return "invalid token: " + e.Reason
	}
	return "invalid token: " + e.Reason + ": " + e.Detail
}

// Request is a token that passed every local check. Each field comes from
// the checked URL, so later stages (STS call, {{AccessKeyID}}) use exactly
// what was validated.
type Request struct {
	// URL is the presigned URL, byte for byte as the client signed it.
	URL string
	// Host is the STS host name (lowercase, no port).
	Host string
	// Region is the credential scope region (us-east-1 for the global host).
	Region string
	// Partition is the validator's partition, e.g. "aws".
	Partition string
	// AccessKeyID comes from the checked X-Amz-Credential.
	AccessKeyID string
	// SignedAt is X-Amz-Date; STS accepts the URL until SignedAt+MaxTokenAge.
	SignedAt time.Time
}

// Expiry is when STS stops accepting the request.
func (r *Request) Expiry() time.Time { return r.SignedAt.Add(MaxTokenAge) }

// rejectf builds an *Error. Callers pass only names, hosts and numbers as
// details, never parameter values that could be secrets.
func rejectf(reason, detail string) *Error {
	return &Error{Reason: reason, Detail: detail}
}

// quoteShort quotes attacker-controlled text for a Detail: bounded, with
// control characters escaped so it cannot forge log lines.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.QuoteToASCII(s[:max]) + "..."
	}
	return strconv.QuoteToASCII(s)
}

// Hash is how a token appears in logs on both sides: the first 16 hex digits
// of its SHA-256. The server's audit line prints it as tokenHash and
// "iamgate token --debug" prints the same value, so a user can point an
// admin at their request without handing over the token itself.
func Hash(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}
