package crd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
)

// pickNewest keeps one entry per key: the newest object's. It returns them
// in build order (oldest first) and, by key, the entries they won over.
//
// creationTimestamp has one-second resolution, so several objects can be
// the newest for one key. When they map it identically (same username,
// groups and userID, or all invalid) it does not matter which applies: the
// last by name does. Otherwise none of them is the admin's latest word, and
// breaking the tie by name would let an older, broader grant beat a newer
// invalid object created with it: the key gets a placeholder (its tied
// entries recorded in tied), so the principal is denied until all but one
// of them are deleted.
func (s *snapshot) pickNewest(entries []entry) (used []entry, older map[string][]entry) {
	byKey := map[string][]entry{}
	for _, e := range entries {
		byKey[e.key] = append(byKey[e.key], e)
	}
	chosen := make(map[string]entry, len(byKey))
	older = make(map[string][]entry, len(byKey))
	for key, es := range byKey {
		n := len(es)
		first := n - 1
		for first > 0 && es[first-1].created == es[n-1].created {
			first--
		}
		if newest := es[first:]; !sameEffect(newest) {
			chosen[key], older[key] = tie(newest), es[:first]
			continue
		}
		chosen[key], older[key] = es[n-1], es[:n-1]
	}
	for _, e := range entries {
		if w := chosen[e.key]; w.name == e.name {
			used = append(used, w)
		}
	}
	return used, older
}

// sameEffect reports whether the entries (for one key) would all map it the
// same way: all placeholders, or all valid with the same username, groups
// and userID.
func sameEffect(es []entry) bool {
	for _, e := range es[1:] {
		a := es[0]
		if a.placeholder || e.placeholder {
			if a.placeholder != e.placeholder {
				return false
			}
			continue
		}
		// evaluate fills role, user and group alike from the spec.
		if a.section != e.section || a.m.Username != e.m.Username ||
			!slices.Equal(a.m.Groups, e.m.Groups) || a.m.UserID != e.m.UserID {
			return false
		}
	}
	return true
}

// tie is the placeholder for a key whose newest entries (two or more,
// created in one second) map it differently: an invalid one's placeholder
// if there is one, else one made from the last.
func tie(newest []entry) entry {
	w, found := entry{}, false
	for _, e := range newest {
		if e.placeholder {
			w, found = e, true
		}
	}
	if !found {
		w = newest[len(newest)-1].asPlaceholder(fmt.Errorf(
			"IAMIdentityMappings %s were created in the same second and map this principal differently", quoteNames(newest, -1)))
	}
	w.tied = slices.Clone(newest)
	return w
}

// rejectOverlaps rejects every pattern entry in used that can match one
// principal at equal rank with another pattern entry in used (the same
// literal prefix, one suffix ending the other; see mappings.md), whichever
// object is older, and makes it a placeholder. Placeholders count as
// patterns here: a pattern that overlaps an invalid object's pattern is
// rejected too.
//
// Rejecting both sides, rather than the newer one, makes the outcome depend
// only on which patterns are in use, not on creation times: replacing the
// object for one pattern with a newer one for the same pattern, or
// deleting a superseded object, cannot bring a pattern rejected for
// overlapping it into force (with "the newer loses" it could: the older
// side of a pair changes when one side is re-created). Every principal the
// patterns match is denied (a placeholder's tombstone denies it, and two
// that match at equal rank are ambiguous, which also denies) until all but
// one of them are changed or deleted. This is how the aws-auth parsers
// treat such a pair too: neither entry is used.
func (s *snapshot) rejectOverlaps(used []entry) {
	type pat struct {
		i      int
		suffix string
	}
	byPrefix := map[string][]pat{}
	for i, e := range used {
		if prefix, suffix, ok := patternParts(e); ok {
			byPrefix[prefix] = append(byPrefix[prefix], pat{i, suffix})
		}
	}
	partners := make([][]int, len(used))
	for _, ps := range byPrefix {
		for a := range ps {
			for b := a + 1; b < len(ps); b++ {
				if strings.HasSuffix(ps[a].suffix, ps[b].suffix) || strings.HasSuffix(ps[b].suffix, ps[a].suffix) {
					partners[ps[a].i] = append(partners[ps[a].i], ps[b].i)
					partners[ps[b].i] = append(partners[ps[b].i], ps[a].i)
				}
			}
		}
	}
	rejected := make([]entry, len(used))
	for i, js := range partners {
		e := used[i]
		if len(js) == 0 || e.placeholder {
			continue
		}
		slices.Sort(js)
		var others []string
		for _, j := range js {
			others = append(others, fmt.Sprintf("%s (IAMIdentityMapping %q)", used[j].canon, used[j].name))
		}
		if len(others) > 3 {
			others = append(others[:3], fmt.Sprintf("%d more", len(js)-3))
		}
		err := fmt.Errorf("invalid spec: pattern %s and %s have the same literal prefix and can both match one principal; "+
			"overlapping patterns are all rejected, whichever is older, and every principal they match is denied here "+
			"until all but one of them are changed or deleted", e.canon, strings.Join(others, ", "))
		s.reject(e.name, e.gen, err)
		rejected[i] = e.asPlaceholder(err)
		rejected[i].explained = true
	}
	for i, r := range rejected {
		if r.placeholder {
			used[i] = r
		}
	}
}

// patternParts splits a pattern entry's (or placeholder's) lower-cased ARN
// at its "*": the literal prefix (with the section, so role and user
// patterns never meet) and the suffix, as the table ranks and compares
// patterns. ok is false for an entry that is no pattern.
func patternParts(e entry) (prefix, suffix string, ok bool) {
	if e.exact || e.section == mapping.SectionGroups {
		return "", "", false
	}
	before, after, ok := strings.Cut(e.canon, "*")
	if !ok || strings.Contains(after, "*") {
		return "", "", false
	}
	return e.section + "|" + before, after, true
}
