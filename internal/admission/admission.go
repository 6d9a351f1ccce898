// Package admission is iamgate's validating admission webhook: it refuses
// an edit of the kube-system/aws-auth ConfigMap or of an IAMIdentityMapping
// that the lint rules call an error, or that takes away the last node-role
// entry or the last system:masters grant, before the edit lands.
//
// It answers every well-formed review with HTTP 200. A panic or an
// internal failure answers allowed: false with a message saying so: the
// webhook is registered with failurePolicy Ignore so that an iamgate
// outage does not block aws-auth edits, but once iamgate is up and answers,
// a "yes" it could not back up would be a wrong yes.
package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/iamgate/iamgate/internal/lint"
)

// Annotations that let an edit through on purpose.
const (
	AnnotationAllowDelete  = "iamgate.io/allow-delete"
	AnnotationAllowLockout = "iamgate.io/allow-lockout"
)

// Limits of one review.
const (
	MaxBody     = 1 << 20
	Deadline    = 2 * time.Second
	MaxFindings = 10
)

// Config configures the handler.
type Config struct {
	// Lint are the options the server's own tables are built with, so the
	// webhook refuses what the server would refuse.
	Lint   lint.Options
	Logger *slog.Logger
	// Deadline bounds one review; 0 means Deadline.
	Deadline time.Duration
}

// Handler serves POST /validate.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns the handler.
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = Deadline
	}
	return &Handler{cfg: cfg, log: cfg.Logger}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an admission.k8s.io/v1 AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		http.Error(w, "Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, fmt.Sprintf("review larger than %d bytes", MaxBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "read review: "+err.Error(), http.StatusBadRequest)
		return
	}
	review, err := decode(body)
	if err != nil {
		h.log.Warn("admission review refused", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Deadline)
	defer cancel()
	resp := h.decide(ctx, review.Request)
	resp.UID = review.Request.UID
	h.log.Info("admission review", "uid", string(resp.UID), "operation", string(review.Request.Operation),
		"kind", review.Request.Kind.Kind, "namespace", review.Request.Namespace, "name", review.Request.Name,
		"user", review.Request.UserInfo.Username, "allowed", resp.Allowed, "warnings", len(resp.Warnings))
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// decode reads exactly one AdmissionReview v1 request, refusing unknown
// fields and trailing data.
func decode(body []byte) (*admissionv1.AdmissionReview, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var rv admissionv1.AdmissionReview
	if err := dec.Decode(&rv); err != nil {
		return nil, fmt.Errorf("decode AdmissionReview: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode AdmissionReview: data after the review")
	}
	if rv.APIVersion != "admission.k8s.io/v1" || rv.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("want apiVersion admission.k8s.io/v1, kind AdmissionReview; got %q, %q", rv.APIVersion, rv.Kind)
	}
	if rv.Request == nil || rv.Request.UID == "" {
		return nil, errors.New("AdmissionReview has no request (or no request.uid)")
	}
	if rv.Response != nil {
		return nil, errors.New("AdmissionReview carries a response; send a request")
	}
	return &rv, nil
}

// decide runs the review within ctx's deadline. A panic or a review that
// does not finish in time answers allowed: false.
func (h *Handler) decide(ctx context.Context, req *admissionv1.AdmissionRequest) (resp *admissionv1.AdmissionResponse) {
	done := make(chan *admissionv1.AdmissionResponse, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("admission review panicked", "uid", string(req.UID), "panic", fmt.Sprint(p))
				done <- deny("iamgate could not check this edit (internal error, see the iamgate log); " +
					"retry, or if iamgate itself is broken remove the ValidatingWebhookConfiguration iamgate-aws-auth")
			}
		}()
		done <- review(req, h.cfg.Lint)
	}()
	select {
	case r := <-done:
		return r
	case <-ctx.Done():
		h.log.Error("admission review did not finish in time", "uid", string(req.UID), "deadline", h.cfg.Deadline)
		return deny(fmt.Sprintf("iamgate could not check this edit within %s; retry", h.cfg.Deadline))
	}
}
