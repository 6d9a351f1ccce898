package mapping

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/iamgate/iamgate/internal/arn"
)

// Table is an immutable, indexed set of mappings: the matching rules every
// backend shares. It implements Mapper and is safe for concurrent use;
// backends that reload swap whole Tables (e.g. behind an atomic.Pointer).
//
// Precedence, first applicable tier wins (docs/mappings.md):
//  1. exact role/user ARN (ignoring case; of two entries for one ARN the
//     last wins; role paths are ignored, STS drops them);
//  2. SSO permission-set entries (Options.SSORoleMatch);
//  3. patterns, the longest literal prefix first; two matching patterns of
//     equal rank deny the review;
//  4. IAM group entries, for IAM users (Options.Groups);
//  5. mapAccounts: the canonical ARN as username, no groups.
//
// An entry with a UserID applies only to an identity whose STS UserID (the
// part before ":") is exactly that ID; otherwise it is as if absent. An
// entry that applies but cannot be rendered, or renders a reserved name,
// denies the review (no later tier, no other backend). So does an entry left
// out at load whose ARN, pattern, sso block or group ARN could be read: it
// stays in its tier as a tombstone that is the last entry for that key (an
// earlier entry for it does not come back) and denies whoever it matches.
type Table struct {
	name         string
	opts         Options
	log          *slog.Logger
	policy       reservedPolicy
	roles        map[string]*compiled // by arn.ARN.RoleKey
	users        map[string]*compiled // by lower-cased user/root ARN
	sso          map[string]*compiled // by "partition|account|permissionset"
	rolePatterns []*compiledPattern
	userPatterns []*compiledPattern
	groups       map[string]*compiled // by lower-cased group ARN without path
	groupAccts   map[string]bool      // "partition|account" with group entries
	accounts     map[string]bool
	warnings     []string
}

type compiledPattern struct {
	pattern
	entry *compiled
}

// compiled is one entry ready to render.
type compiled struct {
	source   string // e.g. "MountedFile mapRoles[arn:aws:iam::1:role/admin]"
	order    int    // index in its section, for a stable merge of groups
	username field
	groups   []field
	userID   string
	// broken is set on a tombstone: the last entry for this key was left
	// out at load. It stands in for that entry so an earlier entry for the
	// same principal does not come back into force; it denies.
	broken error
}

// field is a username or group template and whether it may render a
// reserved name.
type field struct {
	t      Template
	exempt bool
}

// NewTable builds a Table named name (the backendMode name, used in
// Result.Source) with default Options. Invalid entries are left out and
// described by the returned error (a join of Problems), but the Table is
// always usable: a caller that must refuse bad input checks err, one that
// tolerates it logs err.
func NewTable(name string, roles []RoleMapping, users []UserMapping, accounts []string) (*Table, error) {
	return NewTableWithOptions(name, Spec{Roles: roles, Users: users, Accounts: accounts}, Options{})
}

// NewTableWithOptions is NewTable for every entry kind, with options. The
// returned error joins Problem values; Problem.Fatal marks the ones that
// should stop a config from loading (templates, unsafe patterns,
// overlapping patterns), the others say which entries were left out.
// Placeholders for entries the parsers skipped (RoleMapping.Rejected and
// the like) are not reported again: like an entry refused here, each
// denies the principal it names, shadowing earlier entries for it.
func NewTableWithOptions(name string, s Spec, o Options) (*Table, error) {
	t := &Table{
		name:       name,
		opts:       o,
		log:        o.logger(),
		policy:     newReservedPolicy(o),
		roles:      map[string]*compiled{},
		users:      map[string]*compiled{},
		sso:        map[string]*compiled{},
		groups:     map[string]*compiled{},
		groupAccts: map[string]bool{},
		accounts:   make(map[string]bool, len(s.Accounts)),
	}
	var errs []error
	if name == "" {
		errs = append(errs, errors.New("mapping table needs a name"))
	}
	problem := func(section string, i int, err error) {
		errs = append(errs, Problem{Section: section, Index: i, Err: err, Fatal: isFatal(err)})
	}
	var rolePats, userPats []patternEntry
	for i, m := range s.Roles {
		if m.Rejected != "" {
			// Reported where it was skipped; shadow what it names.
			if tg, err := roleTarget(RoleMapping{RoleARN: m.RoleARN, SSO: m.SSO}); err == nil {
				rolePats = t.shadow(SectionRoles, i, tg, errors.New(m.Rejected), t.roles, rolePats)
			}
			continue
		}
		tg, err := roleTarget(m)
		if err == nil {
			err = validateNames(m.Username, m.Groups, m.UserID, t.policy)
		}
		if err != nil {
			problem(SectionRoles, i, err)
			rolePats = t.shadow(SectionRoles, i, tg, err, t.roles, rolePats)
			continue
		}
		c := t.compile(SectionRoles, i, tg.canon, m.Username, m.Groups, m.UserID)
		switch tg.kind {
		case targetSSO:
			t.sso[tg.key] = c
		case targetPattern:
			rolePats = append(rolePats, patternEntry{i, tg.pat, c})
		default:
			t.roles[tg.key] = c
		}
	}
	for i, m := range s.Users {
		if m.Rejected != "" {
			if tg, err := userTarget(m.UserARN); err == nil {
				userPats = t.shadow(SectionUsers, i, tg, errors.New(m.Rejected), t.users, userPats)
			}
			continue
		}
		tg, err := userTarget(m.UserARN)
		if err == nil {
			err = validateNames(m.Username, m.Groups, m.UserID, t.policy)
		}
		if err != nil {
			problem(SectionUsers, i, err)
			userPats = t.shadow(SectionUsers, i, tg, err, t.users, userPats)
			continue
		}
		c := t.compile(SectionUsers, i, tg.canon, m.Username, m.Groups, m.UserID)
		if tg.kind == targetPattern {
			userPats = append(userPats, patternEntry{i, tg.pat, c})
		} else {
			t.users[tg.key] = c
		}
	}
	for i, m := range s.Groups {
		if m.Rejected != "" {
			if tg, err := groupTarget(m.GroupARN); err == nil {
				t.shadow(SectionGroups, i, tg, errors.New(m.Rejected), t.groups, nil)
			}
			continue
		}
		tg, err := groupTarget(m.GroupARN)
		if err == nil {
			err = validateNames(m.Username, m.Groups, m.UserID, t.policy)
		}
		if err != nil {
			problem(SectionGroups, i, err)
			t.shadow(SectionGroups, i, tg, err, t.groups, nil)
			continue
		}
		t.groups[tg.key] = t.compile(SectionGroups, i, tg.canon, m.Username, m.Groups, m.UserID)
	}
	for k := range t.groups {
		t.groupAccts[groupAccountOf(k)] = true
	}
	for i, a := range s.Accounts {
		if !arn.IsAccountID(a) {
			problem(SectionAccounts, i, fmt.Errorf("%q is not a 12-digit account ID", a))
			continue
		}
		t.accounts[a] = true
	}
	var perrs []Problem
	t.rolePatterns, perrs = indexPatterns(SectionRoles, rolePats)
	for _, p := range perrs {
		errs = append(errs, p)
	}
	t.userPatterns, perrs = indexPatterns(SectionUsers, userPats)
	for _, p := range perrs {
		errs = append(errs, p)
	}
	t.warn()
	return t, errors.Join(errs...)
}

// warn notes entries that load but cannot match with these options.
func (t *Table) warn() {
	if live(t.sso) > 0 && !t.opts.SSORoleMatch {
		t.warnings = append(t.warnings, fmt.Sprintf(
			"%d sso entries loaded but inactive: the SSORoleMatch feature gate is off", live(t.sso)))
	}
	if live(t.groups) > 0 && t.opts.Groups == nil {
		t.warnings = append(t.warnings, fmt.Sprintf(
			"%d mapGroups entries loaded but inactive: no IAM group resolver configured", live(t.groups)))
	}
	for _, w := range t.warnings {
		t.log.Warn("mapping entries inactive", "backend", t.name, "reason", w)
	}
}

// tombstone records that the last entry for a principal was left out, so
// that an earlier entry for it (often the broader one an edit meant to
// replace) does not apply: last entry wins, and that entry denies.
func (t *Table) tombstone(section string, order int, canon string, err error) *compiled {
	return &compiled{source: t.name + " " + section + "[" + canon + "]", order: order,
		broken: fmt.Errorf("the last entry for this principal was left out at load: %w", err)}
}

// shadow puts a tombstone for an entry left out at load with err (entry
// order of section) where its target tg points: at an exact key (in exact),
// at an sso key, or among the patterns (appended to pats, which it returns;
// indexPatterns lets the last entry for a pattern win). A zero tg, from an
// entry whose ARN could not be read, names nothing and shadows nothing.
func (t *Table) shadow(section string, order int, tg target, err error, exact map[string]*compiled, pats []patternEntry) []patternEntry {
	switch {
	case tg.kind == targetPattern:
		return append(pats, patternEntry{index: order, pat: tg.pat, c: t.tombstone(section, order, tg.canon, err)})
	case tg.kind == targetSSO:
		t.sso[tg.key] = t.tombstone(section, order, tg.canon, err)
	case tg.key != "":
		exact[tg.key] = t.tombstone(section, order, tg.canon, err)
	}
	return pats
}

// compile parses templates already checked by validateNames.
func (t *Table) compile(section string, order int, canon, username string, groups []string, userID string) *compiled {
	c := &compiled{source: t.name + " " + section + "[" + canon + "]", order: order, userID: userID}
	ut, _ := ParseTemplate(username)
	c.username = field{t: ut, exempt: t.policy.exempt(username, true)}
	for _, g := range groups {
		gt, _ := ParseTemplate(g)
		c.groups = append(c.groups, field{t: gt, exempt: t.policy.exempt(g, false)})
	}
	return c
}

// Name returns the backend name given to NewTable.
func (t *Table) Name() string { return t.name }

// Counts returns how many role, user and account entries are in effect
// (after dropping invalid ones and overridden duplicates). Roles include SSO
// entries and role patterns; users include user patterns.
func (t *Table) Counts() (roles, users, accounts int) {
	return live(t.roles) + live(t.sso) + livePatterns(t.rolePatterns), live(t.users) + livePatterns(t.userPatterns), len(t.accounts)
}

// GroupCount returns how many mapGroups entries are in effect.
func (t *Table) GroupCount() int { return live(t.groups) }

// live counts the entries of m that are not tombstones.
func live(m map[string]*compiled) int {
	n := 0
	for _, c := range m {
		if c.broken == nil {
			n++
		}
	}
	return n
}

// livePatterns counts the patterns that are not tombstones.
func livePatterns(ps []*compiledPattern) int {
	n := 0
	for _, p := range ps {
		if p.entry.broken == nil {
			n++
		}
	}
	return n
}

// Warnings describes entries that loaded but cannot match with the Table's
// Options (SSO entries with the SSORoleMatch gate off, mapGroups without a
// resolver). Each was also logged once at build.
func (t *Table) Warnings() []string { return append([]string(nil), t.warnings...) }
