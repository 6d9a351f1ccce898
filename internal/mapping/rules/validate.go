package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iamgate/iamgate/internal/mapping"
)

// Check reports why e cannot be used in a Table built with o; nil means
// Build accepts it. A parser calls it to report the problem at the line of
// the field at fault (the returned field: "username", "groups", "userid",
// or "" for what the entry names).
func Check(e mapping.Entry, o Options) (field string, err error) {
	if e.Refused != nil {
		return "", e.Refused
	}
	if _, err := targetOf(e); err != nil {
		return "", err
	}
	if e.Kind == mapping.KindAccount {
		return "", nil
	}
	return checkNames(e, newReservedPolicy(o))
}

// CheckTarget reports why what e names (its ARN, pattern, sso block or
// account) cannot be used.
func CheckTarget(e mapping.Entry) error {
	_, err := targetOf(e)
	return err
}

// CheckSyntax reports what is wrong with e's username, groups and userid
// whatever the backend's options: template syntax and placement, empty
// names, the userid form, and where the Fargate node username may appear.
// It names the field at fault.
func CheckSyntax(e mapping.Entry) (field string, err error) {
	if e.Kind == mapping.KindAccount {
		return "", nil
	}
	return checkSyntax(e)
}

// IsFatal reports whether err, from Check or Build, should stop a source
// from loading at all rather than leave one entry out.
func IsFatal(err error) bool { return isFatal(err) }

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

// checkNames checks username, groups and userid: syntax (checkSyntax) and
// the reserved-name rules of policy on the literal text. It names the
// field at fault.
func checkNames(e mapping.Entry, policy reservedPolicy) (string, error) {
	if field, err := checkSyntax(e); err != nil {
		return field, err
	}
	if err := policy.checkLoad("username", e.Username, true); err != nil {
		return "username", err
	}
	for i, g := range e.Groups {
		if err := policy.checkLoad(fmt.Sprintf("groups[%d]", i), g, false); err != nil {
			return "groups", err
		}
	}
	return "", nil
}

// checkSyntax checks what does not depend on Options.
func checkSyntax(e mapping.Entry) (string, error) {
	if err := checkUsername(e.Username); err != nil {
		return "username", err
	}
	if err := checkGroups(e.Groups); err != nil {
		return "groups", err
	}
	if err := checkUserID(e.UserID); err != nil {
		return "userid", err
	}
	if err := checkNodeSession(e); err != nil {
		return "username", err
	}
	return "", nil
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

// nodeSessionUsername is the username EKS writes for Fargate profiles: the
// pod's node name is the session name of the pod execution role.
var nodeSessionUsername = "system:node:{{" + VarSessionName + "}}"

// checkNodeSession allows the Fargate node form only on an exact role ARN.
// On a role pattern any matching role whose session is named like a host
// would become that node; users, groups and accounts have no session, so
// it would render "system:node:" with an empty name.
func checkNodeSession(e mapping.Entry) error {
	// Any node username the caller's session name fills in, allowlisted
	// variants ({{SessionNameRaw}}, a suffix) included.
	if !strings.HasPrefix(strings.ToLower(e.Username), "system:node:") ||
		!strings.Contains(e.Username, "{{"+VarSessionName+"}}") && !strings.Contains(e.Username, "{{"+VarSessionNameRaw+"}}") {
		return nil
	}
	if e.Kind == mapping.KindRole && !strings.Contains(e.ARN, "*") {
		return nil
	}
	return fmt.Errorf("username %q is only allowed on an exact role ARN (the Fargate pod execution role), not on a %s", e.Username, entryForm(e))
}

func entryForm(e mapping.Entry) string {
	switch {
	case strings.Contains(e.ARN, "*"):
		return e.Kind.String() + " pattern"
	case e.Kind == mapping.KindSSO:
		return "sso entry"
	}
	return e.Kind.String() + " entry"
}

// Fatalf makes an error that IsFatal reports, for readers of a source
// format whose problems refuse the whole source (a section of the wrong
// shape, aliases that expand too far).
func Fatalf(format string, args ...any) error { return fatalf(format, args...) }
