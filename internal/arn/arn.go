// Package arn parses and canonicalizes the IAM and STS ARNs that matter for
// authentication: IAM users, IAM roles, STS assumed-role sessions, STS
// federated users and the account root.
//
// Parsing is strict on purpose. These strings decide who someone is, so
// anything that is not exactly one of the known shapes is an error rather than
// a best guess: an unknown partition, a region, a wrong service for the
// resource type, empty path segments, extra colons, characters IAM never
// allows in names. The fixed words ("arn", partition, service, resource type)
// are accepted in any case and rendered in lower case, because aws-iam-
// authenticator lower-cases whole ARNs before matching and existing configs
// rely on that; names, paths and session names keep their case.
package arn

import (
	"errors"
	"fmt"
	"strings"
)

// Resource types, as they appear in ARN.Type.
const (
	TypeUser          = "user"
	TypeRole          = "role"
	TypeAssumedRole   = "assumed-role"
	TypeFederatedUser = "federated-user"
	TypeRoot          = "root"
)

// Length limits. IAM caps names at 64 characters and paths at 512; the
// overall cap keeps hostile input cheap to reject.
const (
	maxLen     = 2048
	maxNameLen = 64
	maxPathLen = 512
)

// ErrInvalid is wrapped by every Parse error.
var ErrInvalid = errors.New("invalid ARN")

var partitions = map[string]bool{
	"aws": true, "aws-cn": true, "aws-us-gov": true, "aws-iso": true,
	"aws-iso-b": true, "aws-iso-e": true, "aws-iso-f": true, "aws-eusc": true,
}

// ARN is a parsed IAM or STS principal ARN.
//
// Path is the IAM path with its leading and trailing slash ("/" when there is
// none) and is only set for users and roles. For an assumed role Name is the
// role name and SessionName the session; for a federated user Name is the
// federated user's name; for root Name is empty.
type ARN struct {
	Partition, Service, AccountID, Type, Path, Name, SessionName string
}

// Parse parses s as one of the supported principal ARN shapes.
func Parse(s string) (ARN, error) {
	if len(s) > maxLen {
		return ARN{}, invalid("longer than %d bytes", maxLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return ARN{}, invalid("contains a byte outside printable ASCII at offset %d", i)
		}
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return ARN{}, invalid("want 6 colon-separated fields, got %d", len(parts))
	}
	if !strings.EqualFold(parts[0], "arn") {
		return ARN{}, invalid(`does not start with "arn:"`)
	}
	a := ARN{
		Partition: strings.ToLower(parts[1]),
		Service:   strings.ToLower(parts[2]),
		AccountID: parts[4],
	}
	if !partitions[a.Partition] {
		return ARN{}, invalid("unknown partition %q", parts[1])
	}
	if parts[3] != "" {
		return ARN{}, invalid("region must be empty for IAM and STS principals")
	}
	if !isAccountID(a.AccountID) {
		return ARN{}, invalid("account ID must be exactly 12 digits")
	}
	if err := a.parseResource(parts[5]); err != nil {
		return ARN{}, err
	}
	return a, nil
}

func (a *ARN) parseResource(res string) error {
	if strings.EqualFold(res, TypeRoot) {
		a.Type = TypeRoot
		return a.wantService("iam")
	}
	typ, rest, ok := strings.Cut(res, "/")
	if !ok {
		return invalid("unsupported resource %q", res)
	}
	a.Type = strings.ToLower(typ)
	segs := strings.Split(rest, "/")
	for _, seg := range segs {
		if err := checkName(seg); err != nil {
			return err
		}
	}
	switch a.Type {
	case TypeUser, TypeRole:
		a.Name = segs[len(segs)-1]
		a.Path = "/"
		if len(segs) > 1 {
			a.Path = "/" + strings.Join(segs[:len(segs)-1], "/") + "/"
		}
		if len(a.Path) > maxPathLen {
			return invalid("path longer than %d characters", maxPathLen)
		}
		return a.wantService("iam")
	case TypeAssumedRole:
		if len(segs) != 2 {
			return invalid("assumed-role needs exactly role/session, got %d segments", len(segs))
		}
		a.Path = ""
		a.Name, a.SessionName = segs[0], segs[1]
		return a.wantService("sts")
	case TypeFederatedUser:
		if len(segs) != 1 {
			return invalid("federated-user needs exactly one name segment, got %d", len(segs))
		}
		a.Name = segs[0]
		return a.wantService("sts")
	default:
		return invalid("unsupported resource type %q", typ)
	}
}

func (a *ARN) wantService(svc string) error {
	if a.Service != svc {
		return invalid("resource type %q needs service %q, got %q", a.Type, svc, a.Service)
	}
	return nil
}

// checkName accepts the characters IAM allows in user, role, session and
// path-segment names: letters, digits and +=,.@_- (1 to 64 of them).
func checkName(s string) error {
	if s == "" {
		return invalid("empty name or path segment")
	}
	if len(s) > maxNameLen {
		return invalid("name or path segment longer than %d characters", maxNameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("+=,.@_-", c) >= 0:
		default:
			return invalid("character %q not allowed in a name", c)
		}
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsAccountID reports whether s is a 12-digit AWS account ID.
func IsAccountID(s string) bool { return isAccountID(s) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// String renders the ARN. For any ARN returned by Parse, Parse(a.String())
// gives a back unchanged.
func (a ARN) String() string {
	prefix := "arn:" + a.Partition + ":" + a.Service + "::" + a.AccountID + ":"
	switch a.Type {
	case TypeRoot:
		return prefix + TypeRoot
	case TypeAssumedRole:
		return prefix + a.Type + "/" + a.Name + "/" + a.SessionName
	case TypeFederatedUser:
		return prefix + a.Type + "/" + a.Name
	default:
		path := a.Path
		if path == "" {
			path = "/"
		}
		return prefix + a.Type + path + a.Name
	}
}

// Canonical returns the principal an ARN stands for. An assumed-role session
// becomes its IAM role, without a path because STS does not report role
// paths; every other ARN is returned as is.
func (a ARN) Canonical() ARN {
	if a.Type != TypeAssumedRole {
		return a
	}
	return ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID,
		Type: TypeRole, Path: "/", Name: a.Name}
}

// RoleKey returns the lower-cased "arn:P:iam::A:role/NAME" that identifies a
// role or an assumed-role session's role, ignoring any path (role names are
// unique within an account whatever their path, and STS drops paths). ok is
// false for other principal types.
func (a ARN) RoleKey() (key string, ok bool) {
	if a.Type != TypeRole && a.Type != TypeAssumedRole {
		return "", false
	}
	return strings.ToLower("arn:" + a.Partition + ":iam::" + a.AccountID + ":role/" + a.Name), true
}

// Canonicalize parses s and returns its canonical form: an assumed-role
// session ARN becomes "arn:P:iam::A:role/ROLE"; other ARNs come back as given
// (with the fixed words lower-cased).
func Canonicalize(s string) (string, error) {
	a, err := Parse(s)
	if err != nil {
		return "", err
	}
	return a.Canonical().String(), nil
}
