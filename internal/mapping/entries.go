package mapping

import (
	"errors"
	"fmt"
	"strings"
)

// Section names, as used in Problem.Section and Result.Source.
const (
	SectionRoles    = "mapRoles"
	SectionUsers    = "mapUsers"
	SectionGroups   = "mapGroups"
	SectionAccounts = "mapAccounts"
)

// RoleMapping maps IAM roles (every session of them) to a Kubernetes user.
// It names its roles in exactly one of three ways:
//
//   - RoleARN "arn:P:iam::A:role/[PATH/]NAME": one role. The path, if any, is
//     ignored when matching because STS reports sessions without it, and a
//     role name is unique in its account whatever the path.
//   - RoleARN with one "*" in NAME (no path): a pattern, e.g.
//     "arn:aws:iam::A:role/ci-*". The partition, service and account are
//     always literal: GetCallerIdentity answers for every AWS account.
//   - SSO: the roles IAM Identity Center creates for a permission set.
//
// Username and Groups may hold templates. A non-empty UserID pins the entry
// to the role's unique ID (AROA...), so a deleted and re-created role of the
// same name gets nothing.
type RoleMapping struct {
	RoleARN  string
	Username string
	Groups   []string
	UserID   string
	SSO      *SSOMapping
	// Rejected, when not empty, marks a placeholder for an entry that was
	// skipped (ParseRoles, ParseUsers and ParseGroups return one for every
	// entry they skip whose ARN, safe pattern, SSO block or group ARN they
	// could still read; Rejected says why). A placeholder carries only that
	// key and shadows earlier entries for it: NewTableWithOptions denies the
	// principal (for a pattern: whoever it is the best match for), as for an
	// entry it refuses itself, without reporting the entry again. Validate fails for it. Code that copies entries must keep
	// placeholders, in order.
	Rejected string
}

// SSOMapping names the roles IAM Identity Center creates for one permission
// set in one account: AWSReservedSSO_<PermissionSetName>_<16 hex digits>.
// Partition defaults to "aws".
type SSOMapping struct {
	PermissionSetName string
	AccountID         string
	Partition         string
}

// UserMapping maps an IAM user (or an account root) to a Kubernetes user.
// UserARN may be a pattern with one "*" in the user name (the path, which
// STS reports for users, stays literal).
type UserMapping struct {
	UserARN  string
	Username string
	Groups   []string
	UserID   string
	// Rejected marks a placeholder; see RoleMapping.Rejected.
	Rejected string
}

// GroupMapping maps the IAM users who are members of an IAM group. Matching
// needs a GroupResolver (Options.Groups); user entries win over it. GroupARN
// is "arn:P:iam::A:group/[PATH/]NAME"; the path is ignored like a role's
// (group names are unique in an account). UserID, when set, pins the entry
// to one member: the caller's STS UserId (AIDA...) must equal it.
type GroupMapping struct {
	GroupARN string
	Username string
	Groups   []string
	UserID   string
	// Rejected marks a placeholder; see RoleMapping.Rejected.
	Rejected string
}

// Problem describes one entry (or a whole section when Index < 0) that could
// not be used. The entry is skipped whole; Fatal problems (unusable
// templates, a section of the wrong shape) should stop a config file from
// loading at all.
type Problem struct {
	Section string
	Index   int
	Line    int
	Err     error
	Fatal   bool
}

// Error reads like `mapRoles[2] (line 14): unknown field "rolarn"`.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Section)
	if p.Index >= 0 {
		fmt.Fprintf(&b, "[%d]", p.Index)
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	b.WriteString(": ")
	if p.Err != nil {
		b.WriteString(p.Err.Error())
	} else {
		b.WriteString("unknown problem")
	}
	return b.String()
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

// Validate reports why m cannot be used; a nil error means NewTable (with
// default Options) accepts it.
func (m RoleMapping) Validate() error { return m.ValidateWith(Options{}) }

// ValidateWith is Validate for a Table built with o (o.AllowReserved and
// o.ReservedUsernamePrefixes change which names are refused).
func (m RoleMapping) ValidateWith(o Options) error {
	if m.Rejected != "" {
		return errors.New(m.Rejected)
	}
	if _, err := roleTarget(m); err != nil {
		return err
	}
	return validateNames(m.Username, m.Groups, m.UserID, newReservedPolicy(o))
}

// Validate reports why m cannot be used; a nil error means NewTable (with
// default Options) accepts it.
func (m UserMapping) Validate() error { return m.ValidateWith(Options{}) }

// ValidateWith is Validate for a Table built with o.
func (m UserMapping) ValidateWith(o Options) error {
	if m.Rejected != "" {
		return errors.New(m.Rejected)
	}
	if _, err := userTarget(m.UserARN); err != nil {
		return err
	}
	return validateNames(m.Username, m.Groups, m.UserID, newReservedPolicy(o))
}

// Validate reports why m cannot be used; a nil error means NewTable (with
// default Options) accepts it.
func (m GroupMapping) Validate() error { return m.ValidateWith(Options{}) }

// ValidateWith is Validate for a Table built with o.
func (m GroupMapping) ValidateWith(o Options) error {
	if m.Rejected != "" {
		return errors.New(m.Rejected)
	}
	if _, err := groupTarget(m.GroupARN); err != nil {
		return err
	}
	return validateNames(m.Username, m.Groups, m.UserID, newReservedPolicy(o))
}

// errFatal marks validation errors that make a Problem fatal: unusable
// templates, and entries whose author clearly meant something unsafe (a
// wildcard account, a role pattern with a path, overlapping patterns).
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error { return errFatal{fmt.Errorf(format, args...)} }

func isFatal(err error) bool {
	var f errFatal
	return errors.As(err, &f)
}

// validateNames checks username, groups and userid: syntax (validateCommon)
// and the reserved-name rules of policy on the literal text.
func validateNames(username string, groups []string, userID string, policy reservedPolicy) error {
	if err := validateCommon(username, groups, userID); err != nil {
		return err
	}
	if err := policy.checkLoad("username", username, true); err != nil {
		return err
	}
	for i, g := range groups {
		if err := policy.checkLoad(fmt.Sprintf("groups[%d]", i), g, false); err != nil {
			return err
		}
	}
	return nil
}

// validateCommon checks what does not depend on Options.
func validateCommon(username string, groups []string, userID string) error {
	if err := checkUsername(username); err != nil {
		return err
	}
	if err := checkGroups(groups); err != nil {
		return err
	}
	return checkUserID(userID)
}

func checkUsername(username string) error {
	if username == "" {
		return errors.New("username is empty")
	}
	if _, err := ParseTemplate(username); err != nil {
		return errFatal{fmt.Errorf("username: %w", err)}
	}
	if err := checkTemplatePlacement(username); err != nil {
		return errFatal{fmt.Errorf("username: %w", err)}
	}
	return nil
}

func checkGroups(groups []string) error {
	for i, g := range groups {
		if g == "" {
			return fmt.Errorf("groups[%d] is empty", i)
		}
		if _, err := ParseTemplate(g); err != nil {
			return errFatal{fmt.Errorf("groups[%d]: %w", i, err)}
		}
		if err := checkTemplatePlacement(g); err != nil {
			return errFatal{fmt.Errorf("groups[%d]: %w", i, err)}
		}
	}
	return nil
}

func checkUserID(userID string) error {
	if userID != "" && !validUserID(userID) {
		return fmt.Errorf("userid %q must be letters and digits only (a unique ID like AROA...)", userID)
	}
	return nil
}

// validUserID accepts IAM unique IDs (AIDA.../AROA... or an account ID for
// root): ASCII letters and digits, at most 128.
func validUserID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
