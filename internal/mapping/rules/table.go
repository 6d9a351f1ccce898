package rules

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/iamgate/iamgate/internal/mapping"
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
	accounts     map[string]*compiled // by account ID
	all          []*compiled          // every entry in order, shadowed ones too, for traces
	entries      []mapping.Entry      // the entries as given; compiled entries point here
	warnings     []string
}

type compiledPattern struct {
	pattern
	entry *compiled
}

// compiled is one entry ready to render.
type compiled struct {
	entry    *mapping.Entry // as written (in Table.entries), for traces
	key      string         // index key of exact and sso entries
	pat      pattern        // of pattern entries
	source   string         // e.g. "MountedFile mapRoles[arn:aws:iam::1:role/admin]"
	order    int            // index in its section, for a stable merge of groups
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

// Build indexes entries for backend name with options o. Entries that
// cannot be used are left out and returned as problems naming their
// origin; the Table is always usable, so a caller that must refuse bad
// input checks the problems (mapping.HasFatal for the ones that refuse a
// whole source) and one that tolerates them logs them. Refused entries
// (Entry.Refused) were reported where they were read and are not reported
// again: like an entry refused here, each denies the principal it names.
func Build(name string, entries []mapping.Entry, o Options) (*Table, []mapping.Problem) {
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
		accounts:   map[string]*compiled{},
	}
	var probs []mapping.Problem
	if name == "" {
		probs = append(probs, mapping.Problem{Origin: mapping.Origin{Section: "table", Index: -1},
			Err: errors.New("mapping table needs a name"), Fatal: true})
	}
	t.entries = slices.Clone(entries)
	var rolePats, userPats []patternEntry
	for i := range t.entries {
		e := &t.entries[i]
		tg, err := targetOf(*e)
		if e.Refused != nil {
			// Reported where it was read; shadow what it names.
			if err == nil {
				rolePats, userPats = t.shadow(e, i, tg, e.Refused, rolePats, userPats)
			}
			continue
		}
		if err == nil && e.Kind != mapping.KindAccount {
			_, err = checkNames(*e, t.policy)
		}
		if err != nil {
			probs = append(probs, mapping.Problem{Origin: e.Origin, Names: e.Names(), Err: err, Fatal: isFatal(err)})
			rolePats, userPats = t.shadow(e, i, tg, err, rolePats, userPats)
			continue
		}
		c := t.compile(e, i, tg)
		t.warnRisks(*e)
		switch {
		case tg.kind == targetPattern && e.Kind == mapping.KindRole:
			rolePats = append(rolePats, patternEntry{i, tg.pat, c})
		case tg.kind == targetPattern:
			userPats = append(userPats, patternEntry{i, tg.pat, c})
		default:
			t.index(e.Kind)[tg.key] = c
		}
	}
	// Tombstones count: a refused group entry must still get the user's
	// groups asked for, so that it denies its members rather than let
	// mapAccounts or a later backend decide for them.
	for k := range t.groups {
		t.groupAccts[groupAccountOf(k)] = true
	}
	var perrs []mapping.Problem
	t.rolePatterns, perrs = indexPatterns(rolePats)
	probs = append(probs, perrs...)
	t.userPatterns, perrs = indexPatterns(userPats)
	probs = append(probs, perrs...)
	t.warn()
	return t, probs
}

// index returns the exact-key index for entries of kind k.
func (t *Table) index(k mapping.Kind) map[string]*compiled {
	switch k {
	case mapping.KindRole:
		return t.roles
	case mapping.KindSSO:
		return t.sso
	case mapping.KindUser:
		return t.users
	case mapping.KindGroup:
		return t.groups
	}
	return t.accounts
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
	if n := t.usesEC2(); n > 0 && t.opts.EC2 == nil {
		t.warnings = append(t.warnings, fmt.Sprintf(
			"%d entries use {{%s}} but the server has no EC2 lookup (no region: server.ec2DescribeInstancesRegion, AWS_REGION or the AWSIamConfig's spec.awsRegion): their reviews are denied", n, VarEC2PrivateDNSName))
	}
	for _, w := range t.warnings {
		t.log.Warn("mapping entries inactive", "backend", t.name, "reason", w)
	}
}

// usesEC2 counts the entries in effect whose username or groups need the
// EC2 lookup.
func (t *Table) usesEC2() int {
	n := 0
	for _, c := range t.all {
		if c.broken != nil {
			continue
		}
		uses := c.username.t.Uses(VarEC2PrivateDNSName)
		for _, g := range c.groups {
			uses = uses || g.t.Uses(VarEC2PrivateDNSName)
		}
		if uses {
			n++
		}
	}
	return n
}

// shadow puts a tombstone for entry e (position order), left out with
// err, where its target tg points: at an exact or sso key, or among the
// patterns. The last entry for a principal wins, and that entry denies, so
// an earlier entry for it (often the broader one an edit meant to replace)
// does not come back into force. A zero tg, from an entry whose ARN could
// not be read, names nothing and shadows nothing.
func (t *Table) shadow(e *mapping.Entry, order int, tg target, err error, rolePats, userPats []patternEntry) ([]patternEntry, []patternEntry) {
	c := &compiled{entry: e, source: t.sourceOf(e, tg.canon), order: order, key: tg.key, pat: tg.pat,
		broken: fmt.Errorf("the last entry for this principal was left out at load: %w", err)}
	t.all = append(t.all, c)
	switch {
	case tg.kind == targetPattern && e.Kind == mapping.KindRole:
		rolePats = append(rolePats, patternEntry{order, tg.pat, c})
	case tg.kind == targetPattern:
		userPats = append(userPats, patternEntry{order, tg.pat, c})
	case tg.key != "" && e.Kind != mapping.KindAccount:
		t.index(e.Kind)[tg.key] = c
	}
	return rolePats, userPats
}

// sourceOf names an entry in Result.Source and the audit log by the
// aws-auth section of its kind, whatever the source calls it (a CRD
// object's spec), e.g. "MountedFile mapRoles[arn:aws:iam::1:role/admin]".
func (t *Table) sourceOf(e *mapping.Entry, canon string) string {
	return t.name + " " + defaultSection(e.Kind) + "[" + canon + "]"
}

func defaultSection(k mapping.Kind) string {
	switch k {
	case mapping.KindRole, mapping.KindSSO:
		return mapping.SectionRoles
	case mapping.KindUser:
		return mapping.SectionUsers
	case mapping.KindGroup:
		return mapping.SectionGroups
	}
	return mapping.SectionAccounts
}

// compile parses templates already checked by checkNames.
func (t *Table) compile(e *mapping.Entry, order int, tg target) *compiled {
	c := &compiled{entry: e, source: t.sourceOf(e, tg.canon), order: order, userID: e.UserID, key: tg.key, pat: tg.pat}
	t.all = append(t.all, c)
	if e.Kind == mapping.KindAccount {
		return c
	}
	ut, _ := ParseTemplate(e.Username)
	c.username = field{t: ut, exempt: t.policy.exempt(e.Username, true)}
	for _, g := range e.Groups {
		gt, _ := ParseTemplate(g)
		c.groups = append(c.groups, field{t: gt, exempt: t.policy.exempt(g, false)})
	}
	return c
}

// Name returns the backend name given to Build.
func (t *Table) Name() string { return t.name }

// Counts returns how many role, user and account entries are in effect
// (after dropping invalid ones and overridden duplicates). Roles include SSO
// entries and role patterns; users include user patterns.
func (t *Table) Counts() (roles, users, accounts int) {
	return live(t.roles) + live(t.sso) + livePatterns(t.rolePatterns), live(t.users) + livePatterns(t.userPatterns), live(t.accounts)
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
