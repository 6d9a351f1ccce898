package mapping

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
)

// Section names, as used in Problem.Section and Result.Source.
const (
	SectionRoles    = "mapRoles"
	SectionUsers    = "mapUsers"
	SectionAccounts = "mapAccounts"
)

// RoleMapping maps an IAM role (every session of it) to a Kubernetes user.
// RoleARN is "arn:P:iam::A:role/[PATH/]NAME"; the path, if any, is ignored
// when matching because STS reports sessions without it. Username and Groups
// may hold templates. A non-empty UserID pins the entry to the role's unique
// ID (AROA...), so a deleted and re-created role of the same name gets
// nothing.
type RoleMapping struct {
	RoleARN  string
	Username string
	Groups   []string
	UserID   string
}

// UserMapping maps an IAM user (or an account root) to a Kubernetes user.
type UserMapping struct {
	UserARN  string
	Username string
	Groups   []string
	UserID   string
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

// Validate reports why m cannot be used; a nil error means NewTable accepts
// it.
func (m RoleMapping) Validate() error {
	if _, err := roleKey(m.RoleARN); err != nil {
		return err
	}
	return validateCommon(m.Username, m.Groups, m.UserID)
}

// Validate reports why m cannot be used; a nil error means NewTable accepts
// it.
func (m UserMapping) Validate() error {
	if _, err := userKey(m.UserARN); err != nil {
		return err
	}
	return validateCommon(m.Username, m.Groups, m.UserID)
}

// roleKey returns the lookup key for a role entry: lower-cased role ARN
// without path. An assumed-role ARN stands for its role.
func roleKey(s string) (string, error) {
	if s == "" {
		return "", errors.New("rolearn is empty")
	}
	a, err := arn.Parse(s)
	if err != nil {
		return "", fmt.Errorf("rolearn: %w", err)
	}
	key, ok := a.RoleKey()
	if !ok {
		return "", fmt.Errorf("rolearn %q is a %s ARN, not an IAM role", s, a.Type)
	}
	return key, nil
}

// userKey returns the lookup key for a user entry: the lower-cased IAM user
// (with path, which STS reports for users) or root ARN.
func userKey(s string) (string, error) {
	if s == "" {
		return "", errors.New("userarn is empty")
	}
	a, err := arn.Parse(s)
	if err != nil {
		return "", fmt.Errorf("userarn: %w", err)
	}
	if a.Type != arn.TypeUser && a.Type != arn.TypeRoot {
		return "", fmt.Errorf("userarn %q is a %s ARN, not an IAM user or root", s, a.Type)
	}
	return strings.ToLower(a.String()), nil
}

// errTemplate marks validation errors that make a Problem fatal.
type errTemplate struct{ err error }

func (e errTemplate) Error() string { return e.err.Error() }
func (e errTemplate) Unwrap() error { return e.err }

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
		return errTemplate{fmt.Errorf("username: %w", err)}
	}
	return nil
}

func checkGroups(groups []string) error {
	for i, g := range groups {
		if g == "" {
			return fmt.Errorf("groups[%d] is empty", i)
		}
		if _, err := ParseTemplate(g); err != nil {
			return errTemplate{fmt.Errorf("groups[%d]: %w", i, err)}
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

// canonicalUserARN returns a user or root ARN with its fixed words in lower
// case and names as written.
func canonicalUserARN(s string) (string, error) {
	if _, err := userKey(s); err != nil {
		return "", err
	}
	return arn.Canonicalize(s)
}

// canonicalRoleARN turns an assumed-role ARN into its role ARN and leaves a
// role ARN as written (path included, for the audit log).
func canonicalRoleARN(s string) (string, error) {
	if _, err := roleKey(s); err != nil {
		return "", err
	}
	return arn.Canonicalize(s)
}
