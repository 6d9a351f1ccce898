package mapping

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
)

// ErrAmbiguous is wrapped when two patterns of equal rank both match the
// caller: iamgate will not pick one, so the review is denied.
var ErrAmbiguous = errors.New("ambiguous mapping")

// Map finds the entry for id. It returns ErrNotMapped when nothing applies,
// and another error (deny, never fall through) when an entry applies but
// cannot be rendered, renders a reserved name, is ambiguous, or id is
// inconsistent.
func (t *Table) Map(ctx context.Context, id Identity) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, canon, rid, err := principal(id)
	if err != nil {
		return nil, err
	}
	r := &review{t: t, ctx: ctx, id: rid}
	var e *compiled
	switch p.Type {
	case arn.TypeRole, arn.TypeAssumedRole:
		key, _ := p.RoleKey()
		e = t.roles[key]
		if e == nil || !e.pinned(rid.UserID) {
			e = t.matchSSO(p, rid.UserID)
		}
		if e == nil || !e.pinned(rid.UserID) {
			if e, err = t.matchPattern(t.rolePatterns, key, canon, rid.UserID); err != nil {
				return nil, err
			}
		}
	case arn.TypeUser, arn.TypeRoot:
		key := strings.ToLower(canon)
		e = t.users[key]
		if e == nil || !e.pinned(rid.UserID) {
			if e, err = t.matchPattern(t.userPatterns, key, canon, rid.UserID); err != nil {
				return nil, err
			}
		}
		if (e == nil || !e.pinned(rid.UserID)) && p.Type == arn.TypeUser {
			if res, err := r.mapGroups(p, canon); res != nil || err != nil {
				return res, err
			}
		}
	}
	if e != nil && e.pinned(rid.UserID) {
		return r.render(e)
	}
	if t.accounts[p.AccountID] {
		return &Result{Username: canon, Source: t.name + " " + SectionAccounts + "[" + p.AccountID + "]"}, nil
	}
	return nil, ErrNotMapped
}

// matchSSO finds the sso entry for a role named like an Identity Center
// role, when the SSORoleMatch gate is on.
func (t *Table) matchSSO(p arn.ARN, uid string) *compiled {
	if !t.opts.SSORoleMatch || len(t.sso) == 0 {
		return nil
	}
	k, ok := ssoKeyOf(p)
	if !ok {
		return nil
	}
	if e := t.sso[k]; e != nil && e.pinned(uid) {
		return e
	}
	return nil
}

// matchPattern returns the applicable pattern entry of highest rank for key
// (a role key or lower-cased canonical user ARN: never the session name),
// or an ErrAmbiguous error when two of that rank apply.
func (t *Table) matchPattern(ps []*compiledPattern, key, canon, uid string) (*compiled, error) {
	var best *compiledPattern
	for _, cp := range ps { // most specific first
		if best != nil && cp.rank() < best.rank() {
			break
		}
		if !cp.match(key) || !cp.entry.pinned(uid) {
			continue
		}
		if best != nil {
			t.log.Warn("ambiguous mapping: two patterns of equal rank match; denied",
				"backend", t.name, "arn", canon, "first", best.entry.source, "second", cp.entry.source)
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
func principal(id Identity) (arn.ARN, string, Identity, error) {
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

// review is one Map call: it resolves {{EC2PrivateDNSName}} at most once.
type review struct {
	t   *Table
	ctx context.Context
	id  Identity

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

// render fills in an entry's templates and checks the rendered names.
func (r *review) render(c *compiled) (*Result, error) {
	if c.broken != nil {
		return nil, fmt.Errorf("%s: %w", c.source, c.broken)
	}
	username, err := c.username.t.render(r.id, r.ec2)
	if err != nil {
		return nil, fmt.Errorf("%s: username: %w", c.source, err)
	}
	if username == "" {
		return nil, fmt.Errorf("%s: username %q rendered empty", c.source, c.username.t.String())
	}
	if err := r.t.policy.checkRendered("username", username, c.username.exempt, true); err != nil {
		return nil, fmt.Errorf("%s: %w", c.source, err)
	}
	var groups []string
	for i, gf := range c.groups {
		g, err := gf.t.render(r.id, r.ec2)
		if err != nil {
			return nil, fmt.Errorf("%s: groups[%d]: %w", c.source, i, err)
		}
		if g == "" { // an empty group name grants nothing; drop it
			continue
		}
		if err := r.t.policy.checkRendered(fmt.Sprintf("groups[%d]", i), g, gf.exempt, false); err != nil {
			return nil, fmt.Errorf("%s: %w", c.source, err)
		}
		groups = append(groups, g)
	}
	return &Result{Username: username, Groups: groups, Source: c.source}, nil
}

// mapGroups applies mapGroups entries to an IAM user no user entry maps.
// A resolver error grants nothing from groups (logged; the resolver counts).
// Several matching entries must render one username; their groups are
// merged in entry order without duplicates.
func (r *review) mapGroups(p arn.ARN, canon string) (*Result, error) {
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
		t.log.Warn("IAM group lookup failed; group mappings not granted", "backend", t.name, "arn", canon, "err", err)
		return nil, nil
	}
	var matched []*compiled
	for _, g := range arns {
		key, _, err := parseGroupARN(g)
		if err != nil || groupAccountOf(key) != acct {
			continue // not a group of the user's own account: ignore
		}
		if e := t.groups[key]; e != nil && e.pinned(r.id.UserID) && !slices.Contains(matched, e) {
			matched = append(matched, e)
		}
	}
	if len(matched) == 0 {
		return nil, nil
	}
	slices.SortFunc(matched, func(a, b *compiled) int { return a.order - b.order })
	var out *Result
	for _, e := range matched {
		res, err := r.render(e)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = res
			continue
		}
		if res.Username != out.Username {
			t.log.Warn("ambiguous mapping: IAM group entries give different usernames; denied",
				"backend", t.name, "arn", canon, "first", out.Source, "second", res.Source)
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
