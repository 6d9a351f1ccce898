package conformance

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/iamgate/iamgate/internal/mapping"
)

// traced checks, on every Map the suite makes, that Explain for the same
// identity reaches the same answer: the same result, or an error of the
// same kind with the same text. A trace that disagrees with a review would
// send a person to fix the wrong entry.
type traced struct {
	mapping.Mapper
	t *testing.T
}

func (m traced) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	r, err := m.Mapper.Map(ctx, id)
	tr := m.Mapper.Explain(ctx, id)
	m.t.Helper()
	if msg := disagree(r, err, tr); msg != "" {
		m.t.Errorf("Explain(%s) disagrees with Map: %s", id.ARN, msg)
	}
	return r, err
}

// disagree says how tr differs from what Map returned, or "".
func disagree(r *mapping.Result, err error, tr mapping.Trace) string {
	switch {
	case (err == nil) != (tr.Err == nil):
		return "Map error " + errText(err) + ", trace error " + errText(tr.Err)
	case err != nil && errors.Is(err, mapping.ErrNotMapped) != errors.Is(tr.Err, mapping.ErrNotMapped):
		return "Map error " + errText(err) + ", trace error " + errText(tr.Err)
	case err != nil && err.Error() != tr.Err.Error():
		return "Map error " + errText(err) + ", trace error " + errText(tr.Err)
	case err != nil:
		if tr.Result != nil {
			return "trace has a result for a denied review"
		}
		return lastBackendAgrees(tr)
	case r == nil || tr.Result == nil:
		return "missing result"
	case r.Username != tr.Result.Username || !slices.Equal(r.Groups, tr.Result.Groups) || r.Source != tr.Result.Source:
		return "Map " + r.Username + " " + r.Source + ", trace " + tr.Result.Username + " " + tr.Result.Source
	}
	if msg := lastBackendAgrees(tr); msg != "" {
		return msg
	}
	if w := tr.Backends[len(tr.Backends)-1].Winner; w == nil {
		return "a granted review's trace names no winning entry"
	}
	return ""
}

// lastBackendAgrees checks that the backend that decided is the last one
// the trace lists, with the trace's outcome.
func lastBackendAgrees(tr mapping.Trace) string {
	if len(tr.Backends) == 0 {
		return "trace lists no backend"
	}
	last := tr.Backends[len(tr.Backends)-1]
	if (last.Err == nil) != (tr.Err == nil) || (last.Err != nil && last.Err.Error() != tr.Err.Error()) {
		return "last backend's error " + errText(last.Err) + " differs from the trace's " + errText(tr.Err)
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return "\"" + err.Error() + "\""
}
