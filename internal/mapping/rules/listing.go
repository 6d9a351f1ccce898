package rules

import "github.com/iamgate/iamgate/internal/mapping"

// Listed is one entry of a table as the admin commands show it: in effect,
// or not and why.
type Listed struct {
	Entry mapping.Entry
	// Active is false for an entry left out: refused (Entry.Refused, or by
	// Build: Problem), or shadowed by a later entry for the same principal.
	Active bool
	// Verdict is mapping.VerdictRefused or mapping.VerdictShadowed when not
	// Active.
	Verdict mapping.Verdict
	// Why says what refused it, or which entry shadows it.
	Why string
}

// Entries lists every entry the table was built from, in order, refused
// and shadowed ones included (entries whose ARN could not be read name no
// principal and are not listed; their problems are). It is what `iamgate
// mappings`, `who-can`, `graph` and `export` read, so they show what the
// table decides with.
func (t *Table) Entries() []Listed {
	out := make([]Listed, 0, len(t.all))
	for _, c := range t.all {
		l := Listed{Entry: *c.entry, Active: c.broken == nil}
		if c.broken != nil {
			l.Verdict, l.Why = mapping.VerdictRefused, c.broken.Error()
		}
		switch cur := t.current(c); {
		case cur == nil && l.Active:
			l.Active, l.Verdict, l.Why = false, mapping.VerdictRefused, "left out: its pattern overlaps another at equal rank"
		case cur != nil && cur != c:
			l.Active, l.Verdict, l.Why = false, mapping.VerdictShadowed, "a later entry for the same principal wins: "+cur.entry.Origin.String()
		}
		out = append(out, l)
	}
	return out
}

// current is the entry the table decides with for c's principal (c's key
// or pattern), nil when none (c was left out as part of an overlap).
func (t *Table) current(c *compiled) *compiled {
	if c.pat != (pattern{}) {
		ps := t.userPatterns
		if c.entry.Kind == mapping.KindRole {
			ps = t.rolePatterns
		}
		for _, p := range ps {
			if p.pattern == c.pat {
				return p.entry
			}
		}
		return nil
	}
	return t.index(c.entry.Kind)[c.key]
}
