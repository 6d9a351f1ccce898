package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// ErrAmbiguous is wrapped when two patterns of equal rank both match the
// caller: iamgate will not pick one, so the review is denied.
var ErrAmbiguous = errors.New("ambiguous mapping")

// Map finds the entry for id. It returns mapping.ErrNotMapped when nothing
// applies, and another error (deny, never fall through) when an entry
// applies but cannot be rendered, renders a reserved name, is ambiguous,
// needs an IAM group lookup that failed, or id is inconsistent.
func (t *Table) Map(ctx context.Context, id mapping.Identity) (*mapping.Result, error) {
	return t.evaluate(ctx, id, nil)
}

// Explain is Map with the reasons: the same evaluation, recording each
// entry it weighs, then every other entry that concerns id (near misses).
func (t *Table) Explain(ctx context.Context, id mapping.Identity) mapping.Trace {
	rec := &recorder{seen: map[*compiled]bool{}}
	res, err := t.evaluate(ctx, id, rec)
	bt := mapping.BackendTrace{Backend: t.name, Steps: rec.steps, Result: res, Err: err}
	if rec.winner != nil {
		w := *rec.winner.entry
		bt.Winner = &w
	}
	return mapping.Trace{Identity: id, Backends: []mapping.BackendTrace{bt}, Result: res, Err: err}
}

// evaluate is the one decision both Map and Explain run; rec is nil for Map.
func (t *Table) evaluate(ctx context.Context, id mapping.Identity, rec *recorder) (*mapping.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, canon, rid, err := principal(id)
	if err != nil {
		return nil, err
	}
	r := &review{t: t, ctx: ctx, id: rid, rec: rec}
	defer r.nearMisses(p, canon)
	var e *compiled
	switch p.Type {
	case arn.TypeRole, arn.TypeAssumedRole:
		key, _ := p.RoleKey()
		e = r.exact(t.roles[key])
		if e == nil {
			e = r.exact(t.matchSSO(p))
		}
		if e == nil {
			if e, err = r.matchPattern(t.rolePatterns, key, canon); err != nil {
				return nil, err
			}
		}
	case arn.TypeUser, arn.TypeRoot:
		key := strings.ToLower(canon)
		e = r.exact(t.users[key])
		if e == nil {
			if e, err = r.matchPattern(t.userPatterns, key, canon); err != nil {
				return nil, err
			}
		}
		if e == nil && p.Type == arn.TypeUser {
			if res, err := r.mapGroups(p, canon); res != nil || err != nil {
				return res, err
			}
		}
	}
	if e != nil {
		return r.render(e)
	}
	if a := t.accounts[p.AccountID]; a != nil {
		if r.rec != nil {
			r.decide(a, mapping.VerdictMatched, "every principal of account "+p.AccountID+" is mapped, to its canonical ARN with no groups")
		}
		return &mapping.Result{Username: canon, Source: a.source}, nil
	}
	return nil, mapping.ErrNotMapped
}

// exact returns c when it applies to the review's identity (its userid pin
// holds), recording a pin that does not.
func (r *review) exact(c *compiled) *compiled {
	if c == nil {
		return nil
	}
	if !c.pinned(r.id.UserID) {
		if r.rec != nil {
			r.step(c, mapping.VerdictPinDiffers, pinDetail(c, r.id.UserID))
		}
		return nil
	}
	return c
}

func pinDetail(c *compiled, uid string) string {
	unique, _, _ := strings.Cut(uid, ":")
	return "pinned to userid " + c.userID + "; this principal's id is " + unique + " (re-created principal?)"
}

// matchSSO finds the sso entry for a role named like an Identity Center
// role, when the SSORoleMatch gate is on.
func (t *Table) matchSSO(p arn.ARN) *compiled {
	if !t.opts.SSORoleMatch || len(t.sso) == 0 {
		return nil
	}
	k, ok := ssoKeyOf(p)
	if !ok {
		return nil
	}
	return t.sso[k]
}

// matchPattern returns the applicable pattern entry of highest rank for key
// (a role key or lower-cased canonical user ARN: never the session name),
// or an ErrAmbiguous error when two of that rank apply.
func (r *review) matchPattern(ps []*compiledPattern, key, canon string) (*compiled, error) {
	t := r.t
	var best *compiledPattern
	for _, cp := range ps { // most specific first
		if best != nil && cp.rank() < best.rank() {
			if r.rec != nil && cp.match(key) {
				r.step(cp.entry, mapping.VerdictLowerPattern, "also matches, but "+best.entry.entry.Origin.String()+" is more specific")
				continue
			}
			break
		}
		if !cp.match(key) {
			continue
		}
		if !cp.entry.pinned(r.id.UserID) {
			if r.rec != nil {
				r.step(cp.entry, mapping.VerdictPinDiffers, pinDetail(cp.entry, r.id.UserID))
			}
			continue
		}
		if best != nil {
			t.log.Warn("ambiguous mapping: two patterns of equal rank match; denied",
				"backend", t.name, "arn", canon, "first", best.entry.source, "second", cp.entry.source)
			if r.rec != nil {
				r.decide(best.entry, mapping.VerdictAmbiguous, "matches at the same rank as "+cp.entry.entry.Origin.String())
			}
			if r.rec != nil {
				r.step(cp.entry, mapping.VerdictAmbiguous, "matches at the same rank as "+best.entry.entry.Origin.String())
			}
			return nil, fmt.Errorf("%w: %s and %s both match %s", ErrAmbiguous, best.entry.source, cp.entry.source, canon)
		}
		best = cp
	}
	if best == nil {
		return nil, nil
	}
	return best.entry, nil
}

// principal parses the identity's ARN and cross-checks the fields derived
// from it, so a caller that filled Identity inconsistently is denied rather
// than matched on the wrong field. It returns the identity with AccountID and
// SessionName filled in from the ARN when they were empty.
func principal(id mapping.Identity) (arn.ARN, string, mapping.Identity, error) {
	src := id.ARN
	if src == "" {
		src = id.CanonicalARN
	}
	if src == "" {
		return arn.ARN{}, "", id, errors.New("identity has no ARN")
	}
	p, err := arn.Parse(src)
	if err != nil {
		return arn.ARN{}, "", id, fmt.Errorf("identity ARN: %w", err)
	}
	canon := p.Canonical().String()
	if id.CanonicalARN != "" && !strings.EqualFold(id.CanonicalARN, canon) {
		return arn.ARN{}, "", id, fmt.Errorf("identity canonical ARN %q does not belong to ARN %q", id.CanonicalARN, src)
	}
	switch {
	case id.AccountID == "":
		id.AccountID = p.AccountID
	case id.AccountID != p.AccountID:
		return arn.ARN{}, "", id, fmt.Errorf("identity account %q does not match its ARN %q", id.AccountID, src)
	}
	if p.Type == arn.TypeAssumedRole {
		switch {
		case id.SessionName == "":
			id.SessionName = p.SessionName
		case id.SessionName != p.SessionName:
			return arn.ARN{}, "", id, fmt.Errorf("identity session name %q does not match its ARN %q", id.SessionName, src)
		}
	}
	return p, canon, id, nil
}

// pinned reports whether the entry applies to an identity with STS UserID
// uid ("AROA...:session" for roles, "AIDA..." for users).
func (c *compiled) pinned(uid string) bool {
	if c.userID == "" {
		return true
	}
	unique, _, _ := strings.Cut(uid, ":")
	return unique == c.userID
}

// review is one evaluation: it resolves {{EC2PrivateDNSName}} at most once
// and, for Explain, records what it weighs.
type review struct {
	t   *Table
	ctx context.Context
	id  mapping.Identity
	rec *recorder

	ec2Done bool
	ec2Name string
	ec2Err  error
}

func (r *review) ec2() (string, error) {
	if !r.ec2Done {
		r.ec2Name, r.ec2Err = resolveEC2(r.ctx, r.id, r.t.opts.EC2)
		r.ec2Done = true
	}
	return r.ec2Name, r.ec2Err
}

// render fills in an entry's templates and checks the rendered names; it
// decides the review either way.
func (r *review) render(c *compiled) (*mapping.Result, error) {
	res, v, err := r.renderOne(c)
	if err != nil {
		if r.rec != nil {
			r.decide(c, v, err.Error())
		}
		return nil, err
	}
	if r.rec != nil {
		r.decide(c, mapping.VerdictMatched, matchDetail(c))
	}
	return res, nil
}

func (r *review) renderOne(c *compiled) (*mapping.Result, mapping.Verdict, error) {
	if c.broken != nil {
		return nil, mapping.VerdictRefused, fmt.Errorf("%s: %w", c.source, c.broken)
	}
	username, err := c.username.t.render(r.id, r.ec2)
	if err != nil {
		return nil, renderVerdict(err), fmt.Errorf("%s: username: %w", c.source, err)
	}
	if username == "" {
		return nil, mapping.VerdictRenderFailed, fmt.Errorf("%s: username %q rendered empty", c.source, c.username.t.String())
	}
	if err := r.t.policy.checkRendered("username", username, c.username.exempt, true); err != nil {
		return nil, mapping.VerdictReservedName, fmt.Errorf("%s: %w", c.source, err)
	}
	var groups []string
	for i, gf := range c.groups {
		g, err := gf.t.render(r.id, r.ec2)
		if err != nil {
			return nil, renderVerdict(err), fmt.Errorf("%s: groups[%d]: %w", c.source, i, err)
		}
		if g == "" { // an empty group name grants nothing; drop it
			continue
		}
		if err := r.t.policy.checkRendered(fmt.Sprintf("groups[%d]", i), g, gf.exempt, false); err != nil {
			return nil, mapping.VerdictReservedName, fmt.Errorf("%s: %w", c.source, err)
		}
		groups = append(groups, g)
	}
	return &mapping.Result{Username: username, Groups: groups, Source: c.source}, mapping.VerdictMatched, nil
}

func renderVerdict(err error) mapping.Verdict {
	if errors.Is(err, ErrEC2PrivateDNSName) || errors.Is(err, ErrEC2PrivateDNSNameUnsupported) {
		return mapping.VerdictEC2LookupFailed
	}
	return mapping.VerdictRenderFailed
}

// mapGroups applies mapGroups entries to an IAM user no user entry maps.
// A resolver error grants nothing from groups (logged; the resolver counts).
// Several matching entries must render one username; their groups are
// merged in entry order without duplicates.
func (r *review) mapGroups(p arn.ARN, canon string) (*mapping.Result, error) {
	t := r.t
	acct := p.Partition + "|" + p.AccountID
	if t.opts.Groups == nil || !t.groupAccts[acct] {
		return nil, nil
	}
	arns, err := t.opts.Groups.GroupsForUser(r.ctx, canon)
	if err != nil {
		if cerr := r.ctx.Err(); cerr != nil {
			return nil, cerr
		}
		// Which entries apply is unknown, so no other tier or backend may
		// decide instead: a group entry might have been the one to win.
		t.log.Warn("IAM group lookup failed; review denied", "backend", t.name, "arn", canon, "err", err)
		r.groupLookupFailed(acct, err)
		return nil, fmt.Errorf("%w for %s: %w", mapping.ErrGroupLookup, canon, err)
	}
	var matched []*compiled
	for _, g := range arns {
		key, _, err := parseGroupARN(g)
		if err != nil || groupAccountOf(key) != acct {
			continue // not a group of the user's own account: ignore
		}
		r.member(key)
		if e := r.exact(t.groups[key]); e != nil && !slices.Contains(matched, e) {
			matched = append(matched, e)
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}
	slices.SortFunc(matched, func(a, b *compiled) int { return a.order - b.order })
	var out *mapping.Result
	var first *compiled
	for _, e := range matched {
		res, err := r.render(e)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out, first = res, e
			continue
		}
		if res.Username != out.Username {
			t.log.Warn("ambiguous mapping: IAM group entries give different usernames; denied",
				"backend", t.name, "arn", canon, "first", out.Source, "second", res.Source)
			if r.rec != nil {
				r.decide(first, mapping.VerdictAmbiguous, "gives username "+out.Username+" but "+e.entry.Origin.String()+" gives "+res.Username)
			}
			if r.rec != nil {
				r.decide(e, mapping.VerdictAmbiguous, "gives username "+res.Username+" but "+first.entry.Origin.String()+" gives "+out.Username)
			}
			return nil, fmt.Errorf("%w: %s gives username %q but %s gives %q", ErrAmbiguous, out.Source, out.Username, res.Source, res.Username)
		}
		for _, g := range res.Groups {
			if !slices.Contains(out.Groups, g) {
				out.Groups = append(out.Groups, g)
			}
		}
		out.Source += " + " + res.Source
	}
	return out, nil
}

// groupAccountOf returns "partition|account" of a group key
// "arn:p:iam::a:group/name".
func groupAccountOf(key string) string {
	parts := strings.SplitN(key, ":", 6)
	if len(parts) < 5 {
		return ""
	}
	return parts[1] + "|" + parts[4]
}
