package crd

import (
	"errors"
	"fmt"

	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/rules"
)

// settle builds the table from used and returns used as it went in.
//
// The table is not expected to refuse anything here: evaluate checks each
// entry with the table's own rules (rules.Check) and rejectOverlaps has
// made a placeholder of every pattern that overlaps another. This is
// defence in depth, should the two ever disagree (the rules change, say):
// an entry the table refuses is rejected and becomes a placeholder,
// whatever its kind, and the table is built again. It is never dropped:
// dropping it would let an older object it shadowed, or a pattern it
// overlapped, apply, or leave its principals to a later backend. Each
// round makes at least one more placeholder, so the loop ends.
func (s *snapshot) settle(name string, used []entry, opts rules.Options) []entry {
	for {
		var probs []mapping.Problem
		s.table, probs = rules.Build(name, entriesOf(used), opts)
		rejected, other := tableRejects(probs)
		s.tableErr = other
		changed := false
		for i, e := range used {
			err, ok := rejected[e.name]
			if !ok || e.placeholder {
				// The table reports no placeholder; were it to, keeping
				// the placeholder keeps the principal denied.
				continue
			}
			changed = true
			s.reject(e.name, e.gen, err)
			used[i] = e.asPlaceholder(err)
		}
		if !changed {
			return used
		}
	}
}

// entriesOf lists the entries in order, placeholders included.
func entriesOf(used []entry) []mapping.Entry {
	out := make([]mapping.Entry, len(used))
	for i, e := range used {
		out[i] = e.m
	}
	return out
}

// tableRejects maps the table's problems to the objects they name (their
// origin). Problems about no object are returned joined in other.
func tableRejects(probs []mapping.Problem) (rejected map[string]error, other error) {
	rejected = map[string]error{}
	var others []error
	for _, p := range probs {
		if p.Origin.Object != "" && p.Origin.Index >= 0 {
			rejected[p.Origin.Object] = fmt.Errorf("invalid spec: %w", p.Err)
			continue
		}
		others = append(others, p)
	}
	return rejected, errors.Join(others...)
}
