// Package live is the last-known-good holder every reloading mapping
// backend (configmap, crd, dynamicfile) embeds: the table in effect,
// swapped atomically; whether the source has been read once (before that
// the backend answers ErrNotSynced, never "not mapped", so a later backend
// cannot decide for an identity this one may map); what a load with
// problems does (a fatal problem keeps the previous table, others leave one
// entry out); and the metrics and log lines that report it.
//
// A backend watches its source and turns it into []mapping.Entry; Load
// does the rest.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// Holder serves the table last loaded. Map and Explain are safe for
// concurrent use; Load, Clear and Refuse are for the one goroutine (or the
// lock) that follows the source.
type Holder struct {
	name      string
	opts      rules.Options
	log       *slog.Logger
	notSynced error
	metrics   *Metrics
	// cur is nil until the source has been read once.
	cur atomic.Pointer[rules.Table]
	// refused is set while nothing good has been read from the source
	// and its content was refused (Refuse with failClosed): every review
	// is then denied, not left to a later backend, which would decide for
	// identities this source may map differently or deny.
	refused atomic.Bool
}

// ErrRefused is returned by Map while the source's content was refused and
// nothing good was ever read from it.
var ErrRefused = errors.New("the mapping source was refused and nothing good was read from it: denied until it is fixed")

// New returns a holder for backend name that answers notSynced until the
// first Load or Clear. opts are the matching options of every table it
// builds; a nil opts.Logger becomes log.
func New(name string, opts rules.Options, log *slog.Logger, reg prometheus.Registerer, notSynced error) (*Holder, error) {
	if log == nil {
		log = slog.Default()
	}
	if opts.Logger == nil {
		opts.Logger = log
	}
	m, err := NewMetrics(reg, name)
	if err != nil {
		return nil, err
	}
	return &Holder{name: name, opts: opts, log: log, notSynced: notSynced, metrics: m}, nil
}

// Name is the backendMode name.
func (h *Holder) Name() string { return h.name }

// HasSynced reports whether the source has been read once.
func (h *Holder) HasSynced() bool { return h.cur.Load() != nil }

// Metrics are the backend's children of the shared vectors.
func (h *Holder) Metrics() *Metrics { return h.metrics }

// Table is the table in effect, nil before the first load.
func (h *Holder) Table() *rules.Table { return h.cur.Load() }

// Map answers from the table in effect.
func (h *Holder) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	t := h.cur.Load()
	switch {
	case t == nil:
		return nil, h.notSynced
	case h.refused.Load():
		return nil, fmt.Errorf("%s: %w", h.name, ErrRefused)
	}
	return t.Map(ctx, id)
}

// Explain traces the table in effect.
func (h *Holder) Explain(ctx context.Context, id mapping.Identity) mapping.Trace {
	t := h.cur.Load()
	var err error
	switch {
	case t == nil:
		err = h.notSynced
	case h.refused.Load():
		err = fmt.Errorf("%s: %w", h.name, ErrRefused)
	default:
		return t.Explain(ctx, id)
	}
	bt := mapping.BackendTrace{Backend: h.name, Err: err}
	return mapping.Trace{Identity: id, Backends: []mapping.BackendTrace{bt}, Err: err}
}

// Outcome is what one Load did.
type Outcome struct {
	// Table is the table built, nil when the load was refused.
	Table *rules.Table
	// Refused are the fatal problems that refused the whole load.
	Refused []mapping.Problem
	// Skipped are the entries left out of Table; the rest apply.
	Skipped []mapping.Problem
}

// Err joins the refusing problems, nil when the load applied.
func (o Outcome) Err() error {
	if len(o.Refused) == 0 {
		return nil
	}
	errs := make([]error, len(o.Refused))
	for i, p := range o.Refused {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// Build makes the table for entries, read with problems, without putting
// it in effect. A fatal problem (YAML that does not parse, a section of the
// wrong shape, an unknown template, overlapping patterns) refuses the whole
// load: guessing which half of a broken edit the author meant could lock
// everyone out or let the wrong people in, so the caller keeps what it had.
func (h *Holder) Build(entries []mapping.Entry, problems []mapping.Problem) Outcome {
	t, built := rules.Build(h.name, entries, h.opts)
	var out Outcome
	for _, p := range append(problems, built...) {
		if p.Fatal {
			out.Refused = append(out.Refused, p)
		} else {
			out.Skipped = append(out.Skipped, p)
		}
	}
	if len(out.Refused) == 0 {
		out.Table = t
	}
	return out
}

// Load builds and, unless refused, puts the table in effect, counting and
// logging what it skipped (log carries the source's own attributes, e.g.
// its resourceVersion). When it is refused (Outcome.Table nil) the caller,
// who knows what its source last gave, calls Refuse.
func (h *Holder) Load(log *slog.Logger, entries []mapping.Entry, problems []mapping.Problem) Outcome {
	out := h.Build(entries, problems)
	h.Apply(log, out)
	return out
}

// Apply is the second half of Load, for a caller that built out itself.
func (h *Holder) Apply(log *slog.Logger, out Outcome) {
	if out.Table == nil {
		return
	}
	for _, p := range out.Skipped {
		h.metrics.Skipped(p.Origin.Section).Inc()
		log.Warn("skipped invalid mapping entry; the others apply", "problem", p.Error())
	}
	h.swap(out.Table, len(out.Skipped))
	h.metrics.LastSuccess.Set(1)
	roles, users, accounts := out.Table.Counts()
	log.Info("loaded mappings", "roles", roles, "users", users, "groups", out.Table.GroupCount(),
		"accounts", accounts, "skipped", len(out.Skipped))
}

// Clear puts an empty table in effect: the source is absent (not found,
// deleted), which is a successful read of nothing.
func (h *Holder) Clear() {
	h.clear()
	h.metrics.LastSuccess.Set(1)
}

// Refuse counts a load that failed (unreadable or refused source). The
// table in effect stays, unless failClosed: nothing good was ever read
// from this source, so it maps no one and denies every review (ErrRefused)
// until a good load or Clear.
func (h *Holder) Refuse(failClosed bool) {
	h.metrics.LoadErrors.Inc()
	h.metrics.LastSuccess.Set(0)
	if failClosed {
		h.clear()
		h.refused.Store(true)
	}
}

func (h *Holder) clear() {
	t, _ := rules.Build(h.name, nil, h.opts) // no entries, a name: nothing to refuse
	h.swap(t, 0)
}

func (h *Holder) swap(t *rules.Table, skipped int) {
	h.refused.Store(false)
	h.cur.Store(t)
	h.metrics.Invalid.Set(float64(skipped))
	h.metrics.SetEntries(t)
}

// maxMessage bounds Event and status messages: the API rejects very long
// ones and a screenful is all `kubectl describe` readers want.
const maxMessage = 1000

// Summarize joins errs into one line of at most maxMessage bytes, saying
// how many were left out.
func Summarize[E error](errs []E) string {
	var b strings.Builder
	for i, e := range errs {
		s := e.Error()
		if i > 0 {
			s = "; " + s
		}
		if b.Len()+len(s) > maxMessage-40 {
			fmt.Fprintf(&b, "; and %d more", len(errs)-i)
			break
		}
		b.WriteString(s)
	}
	return b.String()
}
