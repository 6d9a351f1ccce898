package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/sts"
	"github.com/iamgate/iamgate/internal/token"
)

// Public status.error texts. They are deliberately generic: the caller of
// the apiserver only ever sees "Unauthorized"; operators read the audit log.
const (
	errInvalidToken    = "invalid token"
	errInvalidIdentity = "invalid identity"
	errThrottled       = "throttled"
	errSTSUnavailable  = "sts unavailable"
	errNotMapped       = "not mapped"
	errMapping         = "mapping error"
	errInternal        = "internal error"
)

// decision is the outcome of one review. Only allow=true grants access;
// every other path, including the zero value, denies.
type decision struct {
	allow     bool
	reason    string // stable code for the audit log
	result    string // metric label
	status    int    // HTTP status
	publicErr string // status.error
	detail    string // redacted cause, log only
	tokenHash string
	id        mapping.Identity
	principal string // uid/principalId part: the STS UserId without a session
	res       *mapping.Result
	scrubbed  bool
}

func (d *decision) deny(reason, result string, status int, public string, cause error) *decision {
	d.allow, d.res = false, nil
	d.reason, d.result, d.status, d.publicErr = reason, result, status, public
	if cause != nil {
		d.detail = cause.Error()
	}
	return d
}

// decide runs validate → verify → canonicalize → map. It never panics: a
// panic anywhere (validator, verifier, a mapper) becomes a deny.
func (s *Server) decide(ctx context.Context, tok string) (d *decision) {
	d = &decision{tokenHash: token.Hash(tok)}
	red := &redactor{}
	red.add(tok)
	defer func() {
		if p := recover(); p != nil {
			d.deny("panic", resultError, http.StatusForbidden, errInternal, nil)
			d.detail = fmt.Sprint(p)
			sc := s.scrubberFor(d)
			s.log.Error("panic during review", "tokenHash", d.tokenHash,
				"panic", sc.text(red.clean(d.detail)), "stack", sc.text(string(debug.Stack())))
		}
		d.detail = red.clean(d.detail)
	}()

	if tok == "" {
		return d.deny("missing_token", resultDeny, http.StatusForbidden, errInvalidToken, nil)
	}
	req, err := s.cfg.Validator.Validate(tok)
	if err != nil {
		reason := "invalid_token"
		var te *token.Error
		if errors.As(err, &te) && te.Reason != "" {
			reason = te.Reason
		}
		return d.deny(reason, resultDeny, http.StatusForbidden, errInvalidToken, err)
	}
	if req == nil {
		return d.deny("internal", resultError, http.StatusForbidden, errInternal,
			errors.New("validator returned no request"))
	}
	red.addURL(req.URL)

	ident, err := s.cfg.Verifier.Verify(ctx, tok, req, s.cfg.ClusterID)
	switch {
	case err == nil:
	case errors.Is(err, sts.ErrThrottled):
		return d.deny("sts_throttled", resultThrottled, http.StatusTooManyRequests, errThrottled, err)
	case errors.Is(err, sts.ErrBusy):
		// Our own bound, not STS's: the apiserver retries a 429 as it
		// retries throttling.
		return d.deny("sts_busy", resultThrottled, http.StatusTooManyRequests, errThrottled, err)
	case errors.Is(err, sts.ErrInvalidToken):
		return d.deny("sts_invalid", resultDeny, http.StatusForbidden, errInvalidToken, err)
	case errors.Is(err, sts.ErrUnavailable):
		return d.deny("sts_unavailable", resultError, http.StatusForbidden, errSTSUnavailable, err)
	default:
		return d.deny("sts_error", resultError, http.StatusForbidden, errSTSUnavailable, err)
	}
	d.id = mapping.Identity{ARN: ident.ARN, AccountID: ident.Account, UserID: ident.UserID, AccessKeyID: req.AccessKeyID}
	d.scrubbed = s.scrubbed[ident.Account]
	if ident.ARN == "" || ident.Account == "" || ident.UserID == "" {
		return d.deny("bad_identity", resultError, http.StatusForbidden, errInvalidIdentity,
			errors.New("sts identity is incomplete"))
	}
	canonical, err := arn.Canonicalize(ident.ARN)
	if err != nil {
		return d.deny("bad_arn", resultDeny, http.StatusForbidden, errInvalidIdentity, err)
	}
	parsed, err := arn.Parse(ident.ARN)
	if err != nil {
		return d.deny("bad_arn", resultDeny, http.StatusForbidden, errInvalidIdentity, err)
	}
	if parsed.AccountID != ident.Account {
		// STS answered with an ARN from another account than it claims:
		// something between us and STS is wrong; trust neither.
		return d.deny("identity_mismatch", resultError, http.StatusForbidden, errInvalidIdentity,
			fmt.Errorf("arn account %q differs from sts account %q", parsed.AccountID, ident.Account))
	}
	d.id.CanonicalARN = canonical
	d.id.SessionName = parsed.SessionName
	// Like aws-iam-authenticator, the uid of an assumed role is the role's
	// unique id (AROA...) without the session, so it stays stable per role.
	d.principal = ident.UserID
	if parsed.Type == arn.TypeAssumedRole && strings.Contains(ident.UserID, ":") {
		roleID, session, _ := strings.Cut(ident.UserID, ":")
		if roleID == "" || session == "" || strings.Contains(session, ":") {
			return d.deny("bad_identity", resultError, http.StatusForbidden, errInvalidIdentity,
				fmt.Errorf("malformed assumed-role user id %q", ident.UserID))
		}
		d.principal = roleID
	}

	res, err := mapping.Chain(s.cfg.Mappers).Map(ctx, d.id)
	switch {
	case err == mapping.ErrNotMapped:
		return d.deny("not_mapped", resultDeny, http.StatusForbidden, errNotMapped, nil)
	case errors.Is(err, mapping.ErrGroupLookup):
		// IAM could not say which groups the user is in: no other entry
		// or backend may decide instead of a group entry that may apply.
		return d.deny("group_lookup_failed", resultError, http.StatusForbidden, errMapping, err)
	case err != nil:
		// The backend matched but failed, or is broken: a later backend
		// must not get the chance to grant something else.
		return d.deny("mapping_error", resultError, http.StatusForbidden, errMapping, err)
	}
	d.allow, d.res, d.reason, d.result, d.status = true, res, "mapped", resultAllow, http.StatusOK
	return d
}

// redactor removes bearer material from text bound for the log: the token,
// the presigned URL it decodes to (equally a credential), and that URL's
// signature and session token, in raw and escaped form. Errors from other
// packages should not contain these; this is the second line of defence.
type redactor struct{ secrets []string }

func (r *redactor) add(s string) {
	if len(s) >= 8 {
		r.secrets = append(r.secrets, s)
	}
}

func (r *redactor) addURL(raw string) {
	r.add(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	r.add(u.RawQuery)
	for k, vs := range u.Query() {
		switch strings.ToLower(k) {
		case "x-amz-signature", "x-amz-security-token":
			for _, v := range vs {
				r.add(v)
				r.add(url.QueryEscape(v))
			}
		}
	}
}

func (r *redactor) clean(msg string) string {
	if msg == "" {
		return msg
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	for _, s := range r.secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}
