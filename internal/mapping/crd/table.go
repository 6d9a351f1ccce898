package crd

import (
	"errors"
	"fmt"

	"github.com/iamgate/iamgate/internal/mapping"
)

// settle builds the table from used and returns used as it went in.
//
// The table is not expected to refuse anything here: evaluate checks each
// entry with the table's own rules (mapping.*.ValidateWith) and
// rejectOverlaps has made a placeholder of every pattern that overlaps
// another. This is defence in depth, should the two ever disagree (the
// rules in package mapping change, say): an entry the table refuses is
// rejected and becomes a placeholder, whatever its kind, and the table is
// built again. It is never dropped: dropping it would let an older object
// it shadowed, or a pattern it overlapped, apply, or leave its principals
// to a later backend. Each round makes at least one more placeholder, so
// the loop ends.
func (s *snapshot) settle(name string, used []entry, opts mapping.Options) []entry {
	for {
		var err error
		s.table, err = mapping.NewTableWithOptions(name, specOf(used), opts)
		rejected, other := tableRejects(used, err)
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

// specOf lists the entries in order, section by section; placeholders
// included, as mapping.*.Rejected entries.
func specOf(used []entry) mapping.Spec {
	var spec mapping.Spec
	for _, e := range used {
		switch e.section {
		case mapping.SectionRoles:
			spec.Roles = append(spec.Roles, e.role)
		case mapping.SectionUsers:
			spec.Users = append(spec.Users, e.user)
		default:
			spec.Groups = append(spec.Groups, e.group)
		}
	}
	return spec
}

// tableRejects maps the table's problems back to the objects they are
// about (by section and index in specOf's order). Problems about no entry
// are returned joined in other.
func tableRejects(used []entry, err error) (rejected map[string]error, other error) {
	if err == nil {
		return nil, nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	objAt := map[string][]string{} // section → object names in spec order
	for _, e := range used {
		objAt[e.section] = append(objAt[e.section], e.name)
	}
	rejected = map[string]error{}
	var others []error
	for _, e := range errs {
		var p mapping.Problem
		if errors.As(e, &p) && p.Index >= 0 && p.Index < len(objAt[p.Section]) {
			rejected[objAt[p.Section][p.Index]] = fmt.Errorf("invalid spec: %w", p.Err)
			continue
		}
		others = append(others, e)
	}
	return rejected, errors.Join(others...)
}
