package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// pattern is a rolearn/userarn with one "*" in the last segment of the
// resource name. prefix and suffix are lower-cased; prefix includes
// "arn:P:iam::A:TYPE/[PATH/]" so patterns never cross partitions, accounts,
// types or (for users) paths. Its rank is len(prefix): the longer literal
// prefix is the more specific pattern.
type pattern struct {
	prefix, suffix string
}

// match reports whether key (a role key or lower-cased canonical user ARN,
// never a session ARN) fits the pattern. "*" matches zero or more
// characters within the last segment, never "/".
func (p pattern) match(key string) bool {
	if len(key) < len(p.prefix)+len(p.suffix) ||
		!strings.HasPrefix(key, p.prefix) || !strings.HasSuffix(key, p.suffix) {
		return false
	}
	return !strings.Contains(key[len(p.prefix):len(key)-len(p.suffix)], "/")
}

func (p pattern) rank() int { return len(p.prefix) }

// overlaps reports whether some principal matches both p and q at equal
// rank. With one "*" each and equal prefixes (the only way two patterns of
// equal rank can both match one name), that is so exactly when one suffix
// ends the other: the name prefix+longer-suffix matches both.
func (p pattern) overlaps(q pattern) bool {
	return p.prefix == q.prefix && (strings.HasSuffix(p.suffix, q.suffix) || strings.HasSuffix(q.suffix, p.suffix))
}

// patternTarget validates a wildcard ARN for entries of type typ ("role" or
// "user"). Every error is fatal: whoever wrote a wildcard in the account or
// a role path meant something far broader than the entry can safely grant.
func patternTarget(field, s, typ string) (target, error) {
	if n := strings.Count(s, "*"); n != 1 {
		return target{}, fatalf("%s %q: only one \"*\" is allowed, got %d", field, s, n)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return target{}, fatalf("%s %q: want 6 colon-separated fields, got %d", field, s, len(parts))
	}
	for i, what := range []string{`"arn"`, "the partition", "the service", "the region", "the account"} {
		if strings.Contains(parts[i], "*") {
			return target{}, fatalf("%s %q: \"*\" is not allowed in %s (GetCallerIdentity answers for every AWS account, so only the name may vary)", field, s, what)
		}
	}
	rtype, rest, ok := strings.Cut(parts[5], "/")
	if !ok || strings.Contains(rtype, "*") {
		return target{}, fatalf("%s %q: \"*\" is only allowed in the %s name", field, s, typ)
	}
	if !strings.EqualFold(rtype, typ) {
		return target{}, fatalf("%s %q: a pattern must be an IAM %s ARN (arn:P:iam::ACCOUNT:%s/NAME*)", field, s, typ, typ)
	}
	segs := strings.Split(rest, "/")
	last := segs[len(segs)-1]
	if !strings.Contains(last, "*") {
		return target{}, fatalf("%s %q: \"*\" is only allowed in the last segment of the name, not in a path", field, s)
	}
	if typ == arn.TypeRole && len(segs) > 1 {
		return target{}, fatalf("%s %q: a role pattern cannot have a path: STS drops role paths, so it would match roles in every path", field, s)
	}
	// Check everything else with the ARN parser, "*" standing in as a
	// valid name character.
	a, err := arn.Parse(strings.Replace(s, "*", "x", 1))
	if err != nil {
		return target{}, errFatal{fmt.Errorf("%s %q: %w", field, s, err)}
	}
	if a.Type != typ {
		return target{}, errFatal{errors.New(field + " " + s + ": not an IAM " + typ + " pattern")}
	}
	before, after, _ := strings.Cut(last, "*")
	head := "arn:" + a.Partition + ":iam::" + a.AccountID + ":" + typ + a.Path
	p := pattern{prefix: strings.ToLower(head + before), suffix: strings.ToLower(after)}
	return target{kind: targetPattern, pat: p, canon: head + last}, nil
}

// patternEntry is a validated pattern entry before indexing.
type patternEntry struct {
	index int // in its section
	pat   pattern
	c     *compiled
}

// indexPatterns sorts patterns most specific first and refuses every pair
// of entries that could both match one principal at equal rank: that is
// visible at load, so it is a load error (Fatal) rather than a deny found
// in production. Both patterns of such a pair are left out.
//
// Tombstones (entries left out at load, compiled.broken) take no part in
// that check. Of the entries left with one pattern (the same text, ignoring
// case) the last wins, as for exact ARNs: a tombstone shadows the earlier
// entry with its pattern, and denies whoever it is the best match for; a
// later valid entry replaces a tombstone. Two valid entries with one
// pattern are still a pair that overlaps, whatever lies between them.
func indexPatterns(es []patternEntry) ([]*compiledPattern, []mapping.Problem) {
	var valid []patternEntry
	var at []int // position in es of each element of valid
	for i, e := range es {
		if e.c.broken == nil {
			valid, at = append(valid, e), append(at, i)
		}
	}
	probs, drop := patternOverlaps(valid)
	gone := make(map[int]bool, len(drop))
	for i := range drop {
		gone[at[i]] = true
	}
	last := map[pattern]int{}
	for i, e := range es {
		if !gone[i] {
			last[e.pat] = i
		}
	}
	var out []*compiledPattern
	for i, e := range es {
		if !gone[i] && last[e.pat] == i {
			out = append(out, &compiledPattern{pattern: e.pat, entry: e.c})
		}
	}
	slices.SortStableFunc(out, func(a, b *compiledPattern) int { return b.rank() - a.rank() })
	return out, probs
}

// maxOverlapProblems bounds the problems patternOverlaps lists; the rest
// are summed up in one more.
const maxOverlapProblems = 100

// patternOverlaps finds the equal-rank overlapping patterns among es,
// naming the entry at position i of es with name(i). It returns the
// positions in es to leave out: every entry whose pattern is given by
// another entry too or overlaps another pattern. It reports one Problem
// per pattern given more than once and one per pair of distinct
// overlapping patterns (at the later entry), at most maxOverlapProblems of
// them and then one that counts the rest.
//
// Two distinct patterns with one prefix overlap when one suffix ends the
// other, and suffixes are IAM names (at most 64 characters): each pattern
// is checked against its own shorter suffixes, so the work is linear in
// len(es), however many entries share a prefix.
func patternOverlaps(es []patternEntry) ([]mapping.Problem, map[int]bool) {
	byPat := map[pattern][]int{} // positions in es, in order
	var pats []pattern           // distinct, in order of first entry
	for i, e := range es {
		if _, ok := byPat[e.pat]; !ok {
			pats = append(pats, e.pat)
		}
		byPat[e.pat] = append(byPat[e.pat], i)
	}
	var probs []mapping.Problem
	more := 0
	report := func(at, other int, extra string) {
		if len(probs) >= maxOverlapProblems {
			more++
			return
		}
		a, b := es[at].c.entry, es[other].c.entry
		probs = append(probs, mapping.Problem{Origin: a.Origin, Names: a.ARN, Fatal: true,
			Err: fmt.Errorf("pattern %s and %s %s have the same literal prefix and can both match one principal; make one more specific%s",
				a.ARN, b.Origin, b.ARN, extra)})
	}
	drop := map[int]bool{}
	dropAll := func(is []int) {
		for _, i := range is {
			drop[i] = true
		}
	}
	for _, p := range pats {
		is := byPat[p]
		if n := len(is); n > 1 {
			dropAll(is)
			extra := ""
			if n > 2 {
				extra = fmt.Sprintf(" (%d entries give this pattern)", n)
			}
			report(is[n-1], is[0], extra)
		}
		for k := 1; k <= len(p.suffix); k++ {
			js, ok := byPat[pattern{prefix: p.prefix, suffix: p.suffix[k:]}]
			if !ok {
				continue
			}
			dropAll(is)
			dropAll(js)
			a, b := is[len(is)-1], js[len(js)-1]
			if a < b {
				a, b = b, a
			}
			report(a, b, "")
		}
	}
	slices.SortStableFunc(probs, func(a, b mapping.Problem) int { return a.Origin.Index - b.Origin.Index })
	if more > 0 {
		o := es[0].c.entry.Origin
		o.Index, o.Line = -1, 0
		probs = append(probs, mapping.Problem{Origin: o, Fatal: true,
			Err: fmt.Errorf("%d more overlapping patterns like those reported (only the first %d are listed)", more, maxOverlapProblems)})
	}
	return probs, drop
}
