package rules

import (
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// maxNearMisses bounds the entries of other principals a trace lists, so a
// table of thousands stays readable; the decision steps are always there.
const maxNearMisses = 50

// recorder collects an Explain's steps. A nil recorder (Map) records
// nothing and costs nothing.
type recorder struct {
	steps  []mapping.Step
	seen   map[*compiled]bool
	winner *compiled
	// groupAcct is set when an IAM group lookup failed for that
	// "partition|account"; members are the group keys the user is in.
	groupAcct string
	groupErr  error
	members   map[string]bool
}

func (r *review) step(c *compiled, v mapping.Verdict, detail string) {
	if r.rec == nil || c == nil || r.rec.seen[c] {
		return
	}
	r.rec.seen[c] = true
	r.rec.steps = append(r.rec.steps, mapping.Step{Entry: *c.entry, Verdict: v, Detail: detail})
}

// decide records the entry that decided the review, whatever it decided.
func (r *review) decide(c *compiled, v mapping.Verdict, detail string) {
	if r.rec == nil {
		return
	}
	if r.rec.winner == nil {
		r.rec.winner = c
	}
	r.step(c, v, detail)
}

func (r *review) groupLookupFailed(acct string, err error) {
	if r.rec != nil {
		r.rec.groupAcct, r.rec.groupErr = acct, err
	}
}

func (r *review) member(groupKey string) {
	if r.rec == nil {
		return
	}
	if r.rec.members == nil {
		r.rec.members = map[string]bool{}
	}
	r.rec.members[groupKey] = true
}

// matchDetail says what a matching entry's form means beyond the match.
func matchDetail(c *compiled) string {
	e := c.entry
	if e.Kind != mapping.KindRole || strings.Contains(e.ARN, "*") {
		return ""
	}
	a, err := arn.Parse(e.ARN)
	switch {
	case err != nil:
		return ""
	case a.Type == arn.TypeAssumedRole:
		return "entry uses the assumed-role ARN; write " + a.Canonical().String() + " (aws-iam-authenticator would not match it)"
	case a.Path != "" && a.Path != "/":
		return "entry has the path " + a.Path + "; aws-iam-authenticator would not match it, iamgate does (STS drops role paths)"
	}
	return ""
}

// nearMisses records, for Explain, every entry not yet weighed that
// concerns the identity: entries for the same principal that a later one
// shadows, the same name in another account or path, patterns and
// principals of the same account and type, inactive and group entries.
func (r *review) nearMisses(p arn.ARN, canon string) {
	if r.rec == nil {
		return
	}
	t := r.t
	roleKey, _ := p.RoleKey()
	userKey := strings.ToLower(canon)
	others := 0
	for _, c := range t.all {
		if r.rec.seen[c] {
			continue
		}
		v, detail := r.classify(c, p, roleKey, userKey)
		if v == "" {
			continue
		}
		if v == mapping.VerdictOtherARN || v == mapping.VerdictNoPatternMatch {
			if others >= maxNearMisses {
				continue
			}
			others++
		}
		r.step(c, v, detail)
	}
}

// classify says how entry c relates to principal p, or "" when it does not
// concern it at all.
func (r *review) classify(c *compiled, p arn.ARN, roleKey, userKey string) (mapping.Verdict, string) {
	t := r.t
	e := c.entry
	isRole := p.Type == arn.TypeRole || p.Type == arn.TypeAssumedRole
	switch e.Kind {
	case mapping.KindRole:
		if !isRole {
			return "", ""
		}
		if c.pat != (pattern{}) {
			if !samePrefixAccount(c.pat.prefix, p) {
				return "", ""
			}
			return mapping.VerdictNoPatternMatch, "pattern " + e.ARN + " does not fit role " + p.Name
		}
		return r.compareExact(c, t.roles[c.key], roleKey, p)
	case mapping.KindSSO:
		if !isRole || e.SSO == nil {
			return "", ""
		}
		if !strings.EqualFold(e.SSO.AccountID, p.AccountID) {
			return "", ""
		}
		if k, ok := ssoKeyOf(p); ok && k == c.key {
			if t.sso[c.key] != c {
				return mapping.VerdictShadowed, "a later entry for this permission set wins: " + t.sso[c.key].entry.Origin.String()
			}
			if !t.opts.SSORoleMatch {
				return mapping.VerdictInactive, "sso entries match only with --feature-gates=SSORoleMatch=true"
			}
		}
		return mapping.VerdictOtherARN, "permission set " + e.SSO.PermissionSetName + " is not this role's"
	case mapping.KindUser:
		if p.Type != arn.TypeUser && p.Type != arn.TypeRoot {
			return "", ""
		}
		if c.pat != (pattern{}) {
			if !samePrefixAccount(c.pat.prefix, p) {
				return "", ""
			}
			return mapping.VerdictNoPatternMatch, "pattern " + e.ARN + " does not fit user " + p.Path + p.Name
		}
		return r.compareExact(c, t.users[c.key], userKey, p)
	case mapping.KindGroup:
		if p.Type != arn.TypeUser || groupAccountOf(c.key) != p.Partition+"|"+p.AccountID {
			return "", ""
		}
		switch {
		case t.groups[c.key] != c:
			return mapping.VerdictShadowed, "a later entry for this group wins: " + t.groups[c.key].entry.Origin.String()
		case t.opts.Groups == nil:
			return mapping.VerdictInactive, "mapGroups entries match only when the server can ask IAM (no group resolver configured)"
		case r.rec.groupErr != nil:
			return mapping.VerdictGroupLookupFailed, "IAM could not list the user's groups: " + r.rec.groupErr.Error()
		case !r.rec.members[c.key]:
			return mapping.VerdictNotMember, "the user is not a member of " + e.ARN
		}
		return "", ""
	case mapping.KindAccount:
		if e.Account != p.AccountID {
			return "", ""
		}
		switch {
		case r.rec.winner != nil:
			return mapping.VerdictLowerPattern, "maps every principal of the account, but " + r.rec.winner.entry.Origin.String() + " decided first"
		case r.rec.groupErr != nil:
			return mapping.VerdictGroupLookupFailed, "not reached: the IAM group lookup failed, and a group entry might have applied"
		}
		return mapping.VerdictLowerPattern, "not reached: the review was decided before the account fallback"
	}
	return "", ""
}

// compareExact relates an exact role or user entry to the principal whose
// index key is key. current is the entry the index holds for c's key.
func (r *review) compareExact(c, current *compiled, key string, p arn.ARN) (mapping.Verdict, string) {
	e := c.entry
	if c.key == key {
		if current != c && current != nil {
			return mapping.VerdictShadowed, "a later entry for the same principal wins: " + current.entry.Origin.String()
		}
		return "", ""
	}
	a, err := arn.Parse(e.ARN)
	if err != nil {
		return "", ""
	}
	sameName := strings.EqualFold(a.Name, p.Name)
	switch {
	case sameName && a.AccountID != p.AccountID:
		return mapping.VerdictAccountDiffers, "entry is for " + a.Type + "/" + a.Name + " in account " + a.AccountID + "; this principal is in " + p.AccountID
	case sameName && a.Partition != p.Partition:
		return mapping.VerdictAccountDiffers, "entry is in partition " + a.Partition + "; this principal is in " + p.Partition
	case sameName && a.Type == arn.TypeUser:
		return mapping.VerdictPathDiffers, "entry is for the user at path " + a.Path + "; this user's path is " + p.Path + " (user paths must match)"
	case a.AccountID == p.AccountID:
		return mapping.VerdictOtherARN, "names " + e.ARN
	}
	return "", ""
}

// samePrefixAccount reports whether a pattern's literal prefix is in p's
// partition and account.
func samePrefixAccount(prefix string, p arn.ARN) bool {
	return strings.HasPrefix(prefix, strings.ToLower("arn:"+p.Partition+":iam::"+p.AccountID+":"))
}
