package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	authv1 "k8s.io/api/authentication/v1"
	authv1beta1 "k8s.io/api/authentication/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	tokenReviewKind = "TokenReview"
	uidPrefix       = "aws-iam-authenticator:"
)

// Keys of status.user.extra, as aws-iam-authenticator sends them.
const (
	extraARN          = "arn"
	extraCanonicalARN = "canonicalArn"
	extraSessionName  = "sessionName"
	extraAccessKeyID  = "accessKeyId"
	extraPrincipalID  = "principalId"
)

func (s *Server) newMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/authenticate", s.handleAuthenticate)
	mux.HandleFunc("/healthz", s.handleHealthz)
	if s.cfg.Admission != nil {
		mux.Handle("/validate", s.cfg.Admission)
	}
	return s.recoverDeny(mux)
}

func (s *Server) newHealthMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.handleHealthz)
	mux.HandleFunc("/readyz", s.handleReadyz)
	mux.Handle("/metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

// handleReadyz is 503 until the mappings are loaded, and again while
// shutting down, so a load balancer stops sending reviews first.
func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() || !s.ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

func (s *Server) ready() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return s.cfg.Ready()
}

// recoverDeny is the last line of defence: a panic outside decide (which has
// its own recover) still answers a deny, never a 500 or a dropped connection.
func (s *Server) recoverDeny(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic in handler", "path", r.URL.Path, "panic", fmt.Sprintf("%T", p))
			s.metrics.reviews.WithLabelValues(resultError).Inc()
			body, _ := json.Marshal(authv1.TokenReview{
				TypeMeta: metav1.TypeMeta{APIVersion: authv1.SchemeGroupVersion.String(), Kind: tokenReviewKind},
				Status:   authv1.TokenReviewStatus{Error: errInternal},
			})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write(body)
		}()
		next.ServeHTTP(w, r)
	})
}

// handleAuthenticate answers a TokenReview in the apiVersion it was sent in.
func (s *Server) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	reject := func(status int, reason, public string, apiVersion string) {
		d := (&decision{}).deny(reason, resultBadRequest, status, public, nil)
		s.record(r.Context(), d, apiVersion, r.RemoteAddr, s.now().Sub(start))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.Error(w, public, status)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, "bad_method", "expected POST", "")
		return
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		reject(http.StatusBadRequest, "bad_content_type", "expected application/json", "")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			reject(http.StatusRequestEntityTooLarge, "too_large", "request too large", "")
			return
		}
		reject(http.StatusBadRequest, "bad_body", "could not read body", "")
		return
	}
	// v1 and v1beta1 TokenReviews have the same JSON shape, so one decode
	// into the v1 type checks every field of either. Only when it fails is
	// the body decoded again, for its TypeMeta alone, to name the problem.
	// Unknown fields are tolerated: newer apiservers may add some.
	var tr authv1.TokenReview
	if err := json.Unmarshal(body, &tr); err != nil {
		var meta metav1.TypeMeta
		switch {
		case json.Unmarshal(body, &meta) != nil:
			reject(http.StatusBadRequest, "bad_json", "expected a TokenReview", "")
		case meta.Kind != tokenReviewKind:
			reject(http.StatusBadRequest, "bad_kind", "expected a TokenReview", "")
		case !knownAPIVersion(meta.APIVersion):
			reject(http.StatusBadRequest, "bad_api_version", "expected a TokenReview", "")
		default:
			reject(http.StatusBadRequest, "bad_json", "expected a TokenReview", meta.APIVersion)
		}
		return
	}
	if tr.Kind != tokenReviewKind {
		reject(http.StatusBadRequest, "bad_kind", "expected a TokenReview", "")
		return
	}
	if !knownAPIVersion(tr.APIVersion) {
		reject(http.StatusBadRequest, "bad_api_version", "expected a TokenReview", "")
		return
	}
	meta, tok := tr.TypeMeta, tr.Spec.Token

	d := s.decide(r.Context(), tok)
	s.record(r.Context(), d, meta.APIVersion, r.RemoteAddr, s.now().Sub(start))
	s.writeReview(w, meta.APIVersion, d)
}

func knownAPIVersion(v string) bool {
	return v == authv1.SchemeGroupVersion.String() || v == authv1beta1.SchemeGroupVersion.String()
}

// isJSON accepts application/json with an optional utf-8 charset.
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// writeReview encodes the answer. status.audiences stays empty on purpose:
// an AWS token carries no audience, and an empty list tells the apiserver
// the token is good only for its own (implicit) audiences, as
// aws-iam-authenticator does. Echoing spec.audiences would let a TokenReview
// for some other audience accept an AWS token.
func (s *Server) writeReview(w http.ResponseWriter, apiVersion string, d *decision) {
	var user authv1.UserInfo
	if d.allow {
		user = s.userInfo(d)
	}
	status := authv1.TokenReviewStatus{Authenticated: d.allow, User: user}
	if !d.allow {
		status.Error = d.publicErr
		if status.Error == "" {
			status.Error = errInternal
		}
	}
	var out any
	if apiVersion == authv1beta1.SchemeGroupVersion.String() {
		extra := map[string]authv1beta1.ExtraValue(nil)
		for k, v := range user.Extra {
			if extra == nil {
				extra = map[string]authv1beta1.ExtraValue{}
			}
			extra[k] = authv1beta1.ExtraValue(v)
		}
		out = authv1beta1.TokenReview{
			TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: tokenReviewKind},
			Status: authv1beta1.TokenReviewStatus{Authenticated: status.Authenticated, Error: status.Error,
				User: authv1beta1.UserInfo{Username: user.Username, UID: user.UID, Groups: user.Groups, Extra: extra}},
		}
	} else {
		out = authv1.TokenReview{TypeMeta: metav1.TypeMeta{APIVersion: apiVersion, Kind: tokenReviewKind}, Status: status}
	}
	body, err := json.Marshal(out)
	if err != nil { // cannot happen with these types; still deny
		s.log.Error("encode review", "err", err.Error())
		http.Error(w, errInternal, http.StatusForbidden)
		return
	}
	code := d.status
	if !d.allow && (code == 0 || code == http.StatusOK) {
		code = http.StatusForbidden
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// userInfo builds status.user in aws-iam-authenticator's format. For a
// scrubbed account the uid names only the Kubernetes user and no extra is
// sent, so the AWS identity stays out of apiserver audit logs.
func (s *Server) userInfo(d *decision) authv1.UserInfo {
	u := authv1.UserInfo{Username: d.res.Username, Groups: d.res.Groups}
	if d.scrubbed {
		u.UID = uidPrefix + "administrative:" + d.res.Username
		return u
	}
	u.UID = uidPrefix + d.id.AccountID + ":" + d.principal
	u.Extra = map[string]authv1.ExtraValue{
		extraARN:          {d.id.ARN},
		extraCanonicalARN: {d.id.CanonicalARN},
		extraSessionName:  {d.id.SessionName},
		extraAccessKeyID:  {d.id.AccessKeyID},
		extraPrincipalID:  {d.principal},
	}
	return u
}
