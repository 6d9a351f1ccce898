package mapping

import (
	"fmt"
	"strconv"
	"strings"
)

// Section names: the aws-auth data keys and the CRD's one section.
const (
	SectionRoles    = "mapRoles"
	SectionUsers    = "mapUsers"
	SectionGroups   = "mapGroups"
	SectionAccounts = "mapAccounts"
	SectionSpec     = "spec"
)

// Kind is what an entry names.
type Kind int

const (
	KindRole    Kind = iota + 1 // an IAM role ARN (every session of it) or a role pattern
	KindSSO                     // the roles IAM Identity Center creates for a permission set
	KindUser                    // an IAM user or account root ARN, or a user pattern
	KindGroup                   // the members of an IAM group
	KindAccount                 // every principal of an account
)

func (k Kind) String() string {
	switch k {
	case KindRole:
		return "role"
	case KindSSO:
		return "sso"
	case KindUser:
		return "user"
	case KindGroup:
		return "group"
	case KindAccount:
		return "account"
	}
	return "unknown"
}

// SSO names the roles IAM Identity Center creates for one permission set in
// one account: AWSReservedSSO_<PermissionSetName>_<16 hex digits>. An empty
// Partition means "aws".
type SSO struct {
	PermissionSetName string
	AccountID         string
	Partition         string
}

// Origin says where an entry is written, so a decision, a lint finding or a
// load error can point a person at the line to fix.
type Origin struct {
	Backend string // backendMode name, e.g. "EKSConfigMap"
	Object  string // "kube-system/aws-auth", a CRD object name, or a file path
	Section string // mapRoles, mapUsers, mapGroups, mapAccounts or spec
	Index   int    // position in Section; -1 for the section as a whole
	// Line is 1-based, 0 when unknown: in a file, the line in that file; in
	// a ConfigMap read from the API, the line inside the data key's value.
	Line int
	// File is set when Line counts lines of a file (rather than of a
	// ConfigMap data value); it is the path as given.
	File string
}

// String reads like `config.yaml:14: mapRoles[2]` for a file and
// `kube-system/aws-auth mapRoles[2] (line 3)` otherwise.
func (o Origin) String() string {
	var b strings.Builder
	switch {
	case o.File != "" && o.Line > 0:
		b.WriteString(o.File + ":" + strconv.Itoa(o.Line) + ": ")
	case o.File != "":
		b.WriteString(o.File + ": ")
	case o.Object != "":
		b.WriteString(o.Object + " ")
	}
	b.WriteString(o.Section)
	if o.Index >= 0 {
		fmt.Fprintf(&b, "[%d]", o.Index)
	}
	if o.File == "" && o.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", o.Line)
	}
	return b.String()
}

// Entry is one mapping as written in any backend. What it matches is set by
// Kind: ARN for roles, users and groups (exact, or with one "*" for role and
// user patterns), SSO for permission sets, Account for accounts.
//
// Username and Groups may hold templates. A non-empty UserID pins the entry
// to one principal's unique ID (AROA..., AIDA...), so a deleted and
// re-created principal of the same name gets nothing.
//
// A refused entry has Refused set. It still names the principal it was
// written for when that could be read, and as the last entry for that
// principal it denies it: an earlier, often broader, entry does not come
// back into force because a later edit was broken.
type Entry struct {
	Kind     Kind
	ARN      string
	SSO      *SSO
	Account  string
	Username string
	Groups   []string
	UserID   string
	Origin   Origin
	Refused  error
}

// Names returns what the entry matches, for messages: an ARN, a pattern,
// "sso PermissionSet in 111122223333" or an account ID.
func (e Entry) Names() string {
	switch {
	case e.Kind == KindSSO && e.SSO != nil:
		return "sso " + e.SSO.PermissionSetName + " in " + e.SSO.AccountID
	case e.Kind == KindAccount:
		return e.Account
	}
	return e.ARN
}

// Problem is an entry (or a whole section, Origin.Index < 0) that could not
// be used. Fatal problems (unusable templates, a section of the wrong
// shape, overlapping patterns) stop a source from loading at all; the
// others leave one entry out.
type Problem struct {
	Origin Origin
	Names  string // what the entry named, when known
	Err    error
	Fatal  bool
}

// Error reads like `config.yaml:14: mapRoles[2]: unknown field "rolarn"`.
func (p Problem) Error() string {
	msg := "unknown problem"
	if p.Err != nil {
		msg = p.Err.Error()
	}
	s := p.Origin.String()
	if p.Names != "" {
		s += " (" + p.Names + ")"
	}
	return s + ": " + msg
}

func (p Problem) Unwrap() error { return p.Err }

// HasFatal reports whether any problem is fatal.
func HasFatal(ps []Problem) bool {
	for _, p := range ps {
		if p.Fatal {
			return true
		}
	}
	return false
}
