package resolveids

import (
	"context"
	"errors"
	"fmt"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
	"github.com/iamgate/iamgate/internal/mapping/awsauth"
)

// Options control what Resolve may change.
type Options struct {
	// Write applies the changes; without it nothing is written anywhere.
	Write bool
	// Overwrite replaces a userid that differs from IAM's. Without it such
	// an entry is only reported: a different ID means the principal was
	// deleted and re-created, and whoever holds the name now may not be who
	// the entry was written for.
	Overwrite bool
}

// Status is what became of one entry.
type Status int

const (
	// Filled: the entry had no userid; IAM's is (or would be) added.
	Filled Status = iota
	// UpToDate: the entry's userid is IAM's.
	UpToDate
	// Differs: the entry's userid is not IAM's; left unchanged.
	Differs
	// Replaced: the entry's userid was not IAM's and is (or would be)
	// replaced (Options.Overwrite).
	Replaced
	// NotFound: IAM has no such principal; left unchanged.
	NotFound
	// Skipped: nothing to look up (pattern, SSO, account root, another
	// account, an entry iamgate does not use); Note says why.
	Skipped
	// Failed: the IAM call failed; Note says why. Nothing is written when
	// any entry failed.
	Failed
)

// Change is the outcome for one entry.
type Change struct {
	// Where names the entry: "server.mapRoles[2]", "data.mapUsers[0]".
	Where string
	// Line is the entry's line in the file (or in the ConfigMap value).
	Line int
	// ARN is the entry's rolearn/userarn as written.
	ARN string
	// Old is the entry's userid before, New after (equal unless Filled or
	// Replaced); IAM is IAM's unique ID when known.
	Old, New, IAM string
	Status        Status
	// Note explains Skipped, NotFound and Failed, and any oddity worth a
	// look (a role whose path differs from the entry's).
	Note string
}

// Changed reports whether the entry's userid is (or would be) changed.
func (c Change) Changed() bool { return c.Status == Filled || c.Status == Replaced }

// section is one mapRoles or mapUsers list in a document.
type section struct {
	where string // "server.mapRoles"
	roles bool   // mapRoles (else mapUsers)
	seq   *yaml.Node
	// lineOffset is added to node lines (for lists held in a string).
	lineOffset int
	// emb is the ConfigMap value holding the list as text (nil: the list is
	// part of the file itself).
	emb *embedded
	// edits are the changes resolveSection made to seq's nodes.
	edits []edit
}

// edit is one change to an entry, kept so it can also be applied to the
// original text (see splice).
type edit struct {
	entry *yaml.Node // the entry's mapping node
	val   *yaml.Node // the userid value replaced; nil when one was added
	old   string     // val's value as written
	id    string
}

// resolveSection looks up every entry of s and edits the yaml nodes of
// those to change. The nodes are edited even in a dry run: the caller
// simply does not write them.
func resolveSection(ctx context.Context, l *Lookup, s *section, o Options) ([]Change, error) {
	seq := s.seq
	if seq == nil {
		return nil, nil
	}
	if seq.Kind == yaml.DocumentNode && len(seq.Content) == 1 {
		seq = seq.Content[0]
	}
	if seq.Kind == yaml.ScalarNode && seq.ShortTag() == "!!null" {
		return nil, nil
	}
	if seq.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s (line %d): must be a list", s.where, seq.Line+s.lineOffset)
	}
	// The mapping parser decides which entries iamgate uses; entries it
	// skips are not looked up, so a typo is reported rather than pinned.
	section := mapping.SectionUsers
	if s.roles {
		section = mapping.SectionRoles
	}
	_, probs := awsauth.ParseSection(section, seq, awsauth.Source{})
	bad := map[int]mapping.Problem{}
	for _, p := range probs {
		if p.Origin.Index < 0 {
			return nil, fmt.Errorf("%s: %w", s.where, p)
		}
		if _, seen := bad[p.Origin.Index]; !seen {
			bad[p.Origin.Index] = p
		}
	}
	var out []Change
	for i, e := range seq.Content {
		c := Change{Where: fmt.Sprintf("%s[%d]", s.where, i), Line: e.Line + s.lineOffset}
		if ed := resolveEntry(ctx, l, s.roles, e, bad, i, &c, o); ed != nil {
			s.edits = append(s.edits, *ed)
		}
		out = append(out, c)
	}
	return out, nil
}

// entry is the parts of one list entry resolve-ids reads or edits.
type entry struct {
	arn       string
	sso       bool
	userIDKey *yaml.Node
	userIDVal *yaml.Node
}

func readEntryNode(e *yaml.Node, roles bool) entry {
	arnKey := "userarn"
	if roles {
		arnKey = "rolearn"
	}
	var out entry
	for j := 0; j+1 < len(e.Content); j += 2 {
		k, v := e.Content[j], e.Content[j+1]
		switch strings.ToLower(k.Value) {
		case arnKey:
			out.arn = v.Value
		case "sso":
			out.sso = true
		case "userid":
			out.userIDKey, out.userIDVal = k, v
		}
	}
	return out
}

// resolveEntry looks up one entry, fills in c and edits e. It returns the
// edit made, if any.
func resolveEntry(ctx context.Context, l *Lookup, roles bool, e *yaml.Node, bad map[int]mapping.Problem, i int, c *Change, o Options) *edit {
	skip := func(note string) { c.Status, c.Note = Skipped, note }
	if e.Kind == yaml.AliasNode {
		skip("an alias (*name) entry: edit the anchored entry instead")
		return nil
	}
	if e.Kind != yaml.MappingNode {
		why := "not a mapping"
		if p, ok := bad[i]; ok {
			why = p.Err.Error()
		}
		skip("not used by iamgate: " + why)
		return nil
	}
	en := readEntryNode(e, roles)
	c.ARN = en.arn
	if en.userIDVal != nil {
		c.Old, c.New = en.userIDVal.Value, en.userIDVal.Value
	}
	switch {
	case en.sso:
		skip("an SSO permission-set entry matches a generated role name; nothing to pin")
		return nil
	case strings.Contains(en.arn, "*"):
		skip("a pattern matches many principals; nothing to pin")
		return nil
	}
	if p, isBad := bad[i]; isBad {
		skip(fmt.Sprintf("not used by iamgate: %v", p.Err))
		return nil
	}
	a, err := arn.Parse(en.arn)
	if err != nil { // unreachable: the mapping parser accepted it
		skip(err.Error())
		return nil
	}
	a = a.Canonical()
	switch {
	case a.Type == arn.TypeRoot:
		skip("an account root: its unique ID is the account ID; nothing to look up")
		return nil
	case a.Partition != l.Partition() || a.AccountID != l.Account():
		skip(fmt.Sprintf("in account %s:%s, but the credentials are for %s:%s; run again with credentials for that account",
			a.Partition, a.AccountID, l.Partition(), l.Account()))
		return nil
	}
	var p Principal
	if roles {
		p, err = l.Role(ctx, a.Name)
	} else {
		p, err = l.User(ctx, a.Name)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		c.Status, c.Note = NotFound, fmt.Sprintf("IAM has no %s named %q in account %s", a.Type, a.Name, a.AccountID)
		return nil
	case err != nil:
		c.Status, c.Note = Failed, err.Error()
		return nil
	}
	note, ok := checkARN(a, p.ARN, roles)
	if !ok {
		c.Status, c.Note = NotFound, note
		return nil
	}
	c.Note = note
	c.IAM = p.ID
	switch {
	case en.userIDVal == nil:
		c.Status, c.New = Filled, p.ID
		addUserID(e, p.ID)
		return &edit{entry: e, id: p.ID}
	case en.userIDVal.Value == p.ID:
		c.Status = UpToDate
	case o.Overwrite:
		c.Status, c.New = Replaced, p.ID
		ed := &edit{entry: e, val: en.userIDVal, old: en.userIDVal.Value, id: p.ID}
		en.userIDVal.Value, en.userIDVal.Tag = p.ID, "!!str"
		return ed
	default:
		c.Status = Differs
	}
	return nil
}

// addUserID appends "userid: ID" to an entry. A comment below the entry's
// last field stays below the entry rather than ending up between the fields.
func addUserID(e *yaml.Node, id string) {
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "userid"}
	v := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: id}
	if n := len(e.Content); n >= 2 {
		lastK, lastV := e.Content[n-2], e.Content[n-1]
		k.FootComment, lastK.FootComment = lastK.FootComment, ""
		if lastV.Kind == yaml.ScalarNode && lastV.FootComment != "" {
			k.FootComment, lastV.FootComment = joinComments(k.FootComment, lastV.FootComment), ""
		}
	}
	e.Content = append(e.Content, k, v)
}

func joinComments(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "\n" + b
}

// checkARN compares the entry's principal with the one IAM returned. A user
// entry matches callers by full ARN, path included, so a user IAM knows at
// another path is not the entry's user (ok false). Roles match by name, so
// a different path is only noted.
func checkARN(want arn.ARN, got string, roles bool) (note string, ok bool) {
	g, err := arn.Parse(got)
	if err != nil {
		return fmt.Sprintf("IAM returned an unexpected ARN %q", got), false
	}
	if g.Partition != want.Partition || g.AccountID != want.AccountID || !strings.EqualFold(g.Name, want.Name) {
		return fmt.Sprintf("IAM returned %s, another principal", got), false
	}
	if !strings.EqualFold(g.Path, want.Path) {
		if !roles {
			return fmt.Sprintf("IAM's user is %s (another path): this entry never matches it; fix its userarn first", got), false
		}
		return fmt.Sprintf("IAM's role is %s (another path; roles match by name, so this is harmless)", got), true
	}
	return "", true
}
