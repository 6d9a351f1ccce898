package crd

import (
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/mapping"
)

// verdict is what one rebuild decided about one object; the status writer
// turns it into status.
type verdict struct {
	generation   int64
	canonicalARN string // lower-cased, as aws-iam-authenticator writes it; "" when invalid
	userID       string // spec.userID of an object in use (the pin in force); "" otherwise
	valid        bool
	reason       string
	message      string
}

// snapshot is one immutable build: the Table every Map call reads, plus
// which object supplied each entry (for Result.Source) and every
// object's verdict (for status). Rebuilds swap whole snapshots.
type snapshot struct {
	table    *mapping.Table
	owner    map[string]string  // sourceKey of an entry in the table → object name
	verdicts map[string]verdict // object name → verdict
	invalid  int
	tableErr error // table problems about no object (not expected; logged)
}

// build evaluates objs (the informer's store) into a snapshot. Objects are
// taken oldest first (creation time, then name), so for two objects naming
// one principal the newest wins, like the last of two aws-auth entries.
//
// The newest object for a principal wins even when it is invalid: an
// invalid object whose spec.arn still names one principal (see placeholder)
// goes into the table as a mapping placeholder, which denies that principal
// instead of letting an older object (often the broader grant the new one
// was meant to replace) or a pattern apply. An object whose spec.arn names
// no single principal only grants nothing.
func build(name string, objs []*unstructured.Unstructured, opts mapping.Options) *snapshot {
	sort.Slice(objs, func(i, j int) bool {
		ti, tj := objs[i].GetCreationTimestamp(), objs[j].GetCreationTimestamp()
		if !ti.Equal(&tj) {
			return ti.Before(&tj)
		}
		return objs[i].GetName() < objs[j].GetName()
	})
	s := &snapshot{owner: map[string]string{}, verdicts: make(map[string]verdict, len(objs))}
	invalid := func(name string, gen int64, err error) {
		s.verdicts[name] = verdict{generation: gen, reason: ReasonInvalidSpec, message: err.Error()}
		s.invalid++
	}
	var entries []entry
	winner := map[string]int{} // key → index in entries
	for _, o := range objs {
		if o.GetDeletionTimestamp() != nil {
			continue // being deleted: stop granting now, not when finalizers finish
		}
		e, err := evaluate(o, opts)
		if err != nil {
			invalid(o.GetName(), o.GetGeneration(), err)
			if p, ok := placeholder(o, err); ok {
				winner[p.key] = len(entries)
				entries = append(entries, p)
			}
			continue
		}
		winner[e.key] = len(entries)
		entries = append(entries, e)
	}
	var used []entry
	for _, e := range entries {
		if w := entries[winner[e.key]]; w.name != e.name {
			if !e.placeholder { // an invalid object keeps its InvalidSpec verdict
				s.verdicts[e.name] = superseded(e, w)
			}
			continue
		}
		used = append(used, e)
	}
	// Some problems only show with all entries together (two patterns that
	// can match one principal). The table reports them at the later entry:
	// reject that object and build again, until every entry left is in the
	// table, so no object is called valid while granting nothing. A
	// rejected object that names one principal still shadows it; a
	// rejected pattern (an overlap) is only left out, so the older pattern
	// keeps working.
	for {
		var err error
		s.table, err = mapping.NewTableWithOptions(name, specOf(used), opts)
		rejected, other := tableRejects(used, err)
		s.tableErr = other
		kept, changed := used[:0], false
		for _, e := range used {
			err, ok := rejected[e.name]
			if !ok || e.placeholder {
				// The table reports no placeholder; were it to, keeping
				// the placeholder keeps the principal denied.
				kept = append(kept, e)
				continue
			}
			changed = true
			invalid(e.name, e.gen, err)
			if e.exact || e.section == mapping.SectionGroups {
				kept = append(kept, e.asPlaceholder(err))
			}
		}
		used = kept
		if !changed {
			break
		}
	}
	for _, e := range used {
		if e.placeholder {
			v := s.verdicts[e.name]
			v.message += "; until it is fixed or deleted, " + e.canon +
				" is denied here (older IAMIdentityMappings for it do not apply)"
			s.verdicts[e.name] = v
			continue
		}
		s.verdicts[e.name] = verdict{generation: e.gen, canonicalARN: e.canon, userID: e.userID, valid: true,
			reason: ReasonValid, message: "in use for " + e.canon}
		s.owner[sourceKey(e.section, e.canon)] = e.name
	}
	return s
}

// superseded is the verdict on e when the newer object w maps the same
// principal.
func superseded(e, w entry) verdict {
	msg := fmt.Sprintf("IAMIdentityMapping %q maps the same principal and, being newer, takes precedence", w.name)
	if w.placeholder {
		msg += fmt.Sprintf("; it is invalid, so %s is denied until it is fixed or deleted", e.canon)
	}
	return verdict{generation: e.gen, canonicalARN: e.canon, reason: ReasonDuplicateARN, message: msg}
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
