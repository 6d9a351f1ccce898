package mapping

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
)

// Table is an immutable, indexed set of mappings: the matching rules every
// backend shares. It implements Mapper and is safe for concurrent use;
// backends that reload swap whole Tables (e.g. behind an atomic.Pointer).
//
// Rules, as in aws-iam-authenticator:
//   - ARNs match ignoring case; of two entries for one ARN the last wins.
//   - Role entries match the role's assumed-role sessions (and a role entry
//     written with a path matches too, since STS reports sessions without
//     paths; aws-iam-authenticator never matched those).
//   - User entries match IAM user (or root) ARNs exactly.
//   - An entry with a UserID only matches an identity whose STS UserID (the
//     part before ":") is exactly that ID; otherwise it is as if absent.
//   - With no entry, an identity from a mapAccounts account gets its
//     canonical ARN as username and no groups.
type Table struct {
	name     string
	roles    map[string]*compiled // by arn.ARN.RoleKey
	users    map[string]*compiled // by lower-cased user/root ARN
	accounts map[string]bool
}

type compiled struct {
	source   string // e.g. "MountedFile mapRoles[arn:aws:iam::1:role/admin]"
	username Template
	groups   []Template
	userID   string
}

// NewTable builds a Table named name (the backendMode name, used in
// Result.Source). Invalid entries are left out and described by the returned
// error (a join of Problems), but the Table is always usable: a caller that
// must refuse bad input checks err, one that tolerates it logs err.
func NewTable(name string, roles []RoleMapping, users []UserMapping, accounts []string) (*Table, error) {
	t := &Table{
		name:     name,
		roles:    make(map[string]*compiled, len(roles)),
		users:    make(map[string]*compiled, len(users)),
		accounts: make(map[string]bool, len(accounts)),
	}
	var errs []error
	if name == "" {
		errs = append(errs, errors.New("mapping table needs a name"))
	}
	for i, m := range roles {
		key, err := roleKey(m.RoleARN)
		if err == nil {
			err = validateCommon(m.Username, m.Groups, m.UserID)
		}
		var canon string
		if err == nil {
			canon, err = canonicalRoleARN(m.RoleARN)
		}
		if err != nil {
			errs = append(errs, Problem{Section: SectionRoles, Index: i, Err: err})
			continue
		}
		t.roles[key] = compile(name+" "+SectionRoles+"["+canon+"]", m.Username, m.Groups, m.UserID)
	}
	for i, m := range users {
		key, err := userKey(m.UserARN)
		if err == nil {
			err = validateCommon(m.Username, m.Groups, m.UserID)
		}
		var canon string
		if err == nil {
			canon, err = canonicalUserARN(m.UserARN)
		}
		if err != nil {
			errs = append(errs, Problem{Section: SectionUsers, Index: i, Err: err})
			continue
		}
		t.users[key] = compile(name+" "+SectionUsers+"["+canon+"]", m.Username, m.Groups, m.UserID)
	}
	for i, a := range accounts {
		if !arn.IsAccountID(a) {
			errs = append(errs, Problem{Section: SectionAccounts, Index: i,
				Err: fmt.Errorf("%q is not a 12-digit account ID", a)})
			continue
		}
		t.accounts[a] = true
	}
	return t, errors.Join(errs...)
}

// compile parses templates already checked by validateCommon.
func compile(source, username string, groups []string, userID string) *compiled {
	c := &compiled{source: source, userID: userID}
	c.username, _ = ParseTemplate(username)
	for _, g := range groups {
		gt, _ := ParseTemplate(g)
		c.groups = append(c.groups, gt)
	}
	return c
}

// Name returns the backend name given to NewTable.
func (t *Table) Name() string { return t.name }

// Counts returns how many role, user and account entries are in effect
// (after dropping invalid ones and overridden duplicates).
func (t *Table) Counts() (roles, users, accounts int) {
	return len(t.roles), len(t.users), len(t.accounts)
}

// Map finds the entry for id. It returns ErrNotMapped when nothing applies,
// and another error (deny, never fall through) when an entry applies but
// cannot be rendered or id is inconsistent.
func (t *Table) Map(ctx context.Context, id Identity) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, canon, rid, err := principal(id)
	if err != nil {
		return nil, err
	}
	var e *compiled
	switch p.Type {
	case arn.TypeRole, arn.TypeAssumedRole:
		key, _ := p.RoleKey()
		e = t.roles[key]
	case arn.TypeUser, arn.TypeRoot:
		e = t.users[strings.ToLower(canon)]
	}
	if e != nil && e.pinned(rid.UserID) {
		return e.render(rid)
	}
	if t.accounts[p.AccountID] {
		return &Result{Username: canon, Source: t.name + " " + SectionAccounts + "[" + p.AccountID + "]"}, nil
	}
	return nil, ErrNotMapped
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

func (c *compiled) render(id Identity) (*Result, error) {
	username, err := c.username.Render(id)
	if err != nil {
		return nil, fmt.Errorf("%s: username: %w", c.source, err)
	}
	if username == "" {
		return nil, fmt.Errorf("%s: username %q rendered empty", c.source, c.username.String())
	}
	var groups []string
	for i, gt := range c.groups {
		g, err := gt.Render(id)
		if err != nil {
			return nil, fmt.Errorf("%s: groups[%d]: %w", c.source, i, err)
		}
		if g != "" { // an empty group name grants nothing; drop it
			groups = append(groups, g)
		}
	}
	return &Result{Username: username, Groups: groups, Source: c.source}, nil
}
