package crd

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/iamgate/iamgate/internal/mapping/rules"
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
	table    *rules.Table
	owner    map[string]string  // sourceKey of an entry in the table → object name
	verdicts map[string]verdict // object name → verdict
	invalid  int
	tableErr error // table problems about no object (not expected; logged)
}

// build evaluates objs (the informer's store) into a snapshot. It is a
// pure function of the objects: the rules below look at no earlier build,
// so the outcome does not depend on the order of events that led here.
//
//  1. Each object becomes an entry, or, when invalid, a placeholder if its
//     spec.arn still names one principal or pattern (see placeholder); an
//     invalid object naming nothing only grants nothing.
//  2. Of the entries for one principal (or one pattern) the newest object
//     (creation time, to the second) is the admin's latest word and wins,
//     valid or not, like the last of two aws-auth entries: a placeholder
//     winning denies that principal instead of letting an older object
//     (often the broader grant the new one was meant to replace) or a
//     pattern apply. When several newest objects share the second and do
//     not map it identically, none is newer: the principal is denied
//     (pickNewest).
//  3. Winning patterns that can match one principal at equal rank are all
//     rejected and become placeholders, whichever is older
//     (rejectOverlaps).
//  4. Whatever the table still refuses becomes a placeholder too (settle).
//
// Nothing rejected is ever dropped, so a rejection can only deny more, and
// adding an object never brings a rejected one into force.
func build(name string, objs []*unstructured.Unstructured, opts rules.Options) *snapshot {
	sort.Slice(objs, func(i, j int) bool {
		ti, tj := createdAt(objs[i]), createdAt(objs[j])
		if ti != tj {
			return ti < tj
		}
		return objs[i].GetName() < objs[j].GetName()
	})
	s := &snapshot{owner: map[string]string{}, verdicts: make(map[string]verdict, len(objs))}
	var entries []entry
	for _, o := range objs {
		if o.GetDeletionTimestamp() != nil {
			continue // being deleted: stop granting now, not when finalizers finish
		}
		e, err := evaluate(o, opts)
		if err != nil {
			s.reject(o.GetName(), o.GetGeneration(), err)
			p, ok := placeholder(o, err)
			if !ok {
				continue
			}
			e = p
		}
		e.created = createdAt(o)
		entries = append(entries, e)
	}
	used, older := s.pickNewest(entries)
	s.rejectOverlaps(used)
	used = s.settle(name, used, opts)
	s.finish(used, older)
	return s
}

// createdAt is o's creation time in whole seconds, the resolution the
// apiserver stores.
func createdAt(o *unstructured.Unstructured) int64 {
	t := o.GetCreationTimestamp()
	return t.Unix()
}

// reject records that the object name (at generation gen) cannot be used.
func (s *snapshot) reject(name string, gen int64, err error) {
	s.verdicts[name] = verdict{generation: gen, reason: ReasonInvalidSpec, message: err.Error()}
	s.invalid++
}

// finish writes the verdicts of the entries in the table (used) and of the
// objects they won over (older, by key).
func (s *snapshot) finish(used []entry, older map[string][]entry) {
	for _, u := range used {
		for _, e := range older[u.key] {
			if !e.placeholder { // an invalid object keeps its InvalidSpec verdict
				s.verdicts[e.name] = superseded(e, u)
			}
		}
		switch {
		case len(u.tied) > 0:
			s.tieVerdicts(u)
		case u.placeholder && !u.explained:
			v := s.verdicts[u.name]
			v.message += "; until it is fixed or deleted, " + u.canon +
				" is denied here (older IAMIdentityMappings for it do not apply)"
			s.verdicts[u.name] = v
		case !u.placeholder:
			s.verdicts[u.name] = verdict{generation: u.gen, canonicalARN: u.canon, userID: u.userID, valid: true,
				reason: ReasonValid, message: "in use for " + u.canon}
			s.owner[sourceKey(u.section, u.canon)] = u.name
		}
	}
}

// superseded is the verdict on e when w, a newer entry for the same
// principal (or w's tie), is in the table instead.
func superseded(e, w entry) verdict {
	var msg string
	switch {
	case len(w.tied) > 0:
		msg = fmt.Sprintf("IAMIdentityMappings %s map the same principal and are newer; they were created in the same second "+
			"and map it differently, so %s is denied until all but one of them are deleted", quoteNames(w.tied, -1), e.canon)
	case w.created == e.created:
		msg = fmt.Sprintf("IAMIdentityMapping %q, created in the same second, maps the same principal the same way "+
			"and takes precedence (the later name breaks the tie)", w.name)
	default:
		msg = fmt.Sprintf("IAMIdentityMapping %q maps the same principal and, being newer, takes precedence", w.name)
	}
	if w.placeholder && len(w.tied) == 0 {
		msg += fmt.Sprintf("; it is invalid, so %s is denied until it is fixed or deleted", e.canon)
	}
	return verdict{generation: e.gen, canonicalARN: e.canon, reason: ReasonDuplicateARN, message: msg}
}

// tieVerdicts explains the deny to every object of u's tie: a valid one
// gets DuplicateARN, an invalid one keeps InvalidSpec with a note.
func (s *snapshot) tieVerdicts(u entry) {
	for _, e := range u.tied {
		var others []entry
		for _, o := range u.tied {
			if o.name != e.name {
				others = append(others, o)
			}
		}
		note := fmt.Sprintf("created in the same second as IAMIdentityMapping %s, which maps the same principal differently, "+
			"so neither is newer and %s is denied here; delete all but one of them", quoteNames(others, -1), e.canon)
		if e.placeholder {
			v := s.verdicts[e.name]
			v.message += "; " + note
			s.verdicts[e.name] = v
			continue
		}
		s.verdicts[e.name] = verdict{generation: e.gen, canonicalARN: e.canon, reason: ReasonDuplicateARN, message: note}
	}
}

// quoteNames lists the objects' names quoted, at most max of them (all
// when max < 0) and how many more.
func quoteNames(es []entry, max int) string {
	out := ""
	for i, e := range es {
		if max >= 0 && i == max {
			return out + fmt.Sprintf(" and %d more", len(es)-max)
		}
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", e.name)
	}
	return out
}
