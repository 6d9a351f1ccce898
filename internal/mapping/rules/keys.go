package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/iamgate/iamgate/internal/arn"
	"github.com/iamgate/iamgate/internal/mapping"
)

// targetKind is how an entry names its principals.
type targetKind int

const (
	targetExact   targetKind = iota // one role, user, root or group
	targetSSO                       // an SSO permission set's roles
	targetPattern                   // a "*" pattern
)

// target is a validated entry ARN (or SSO block), ready to index.
type target struct {
	kind  targetKind
	key   string  // lookup key: exact and SSO entries
	pat   pattern // pattern entries
	canon string  // as written but normalized, for Source and parse output
}

// targetOf validates what an entry names.
func targetOf(e mapping.Entry) (target, error) {
	switch e.Kind {
	case mapping.KindRole:
		if e.SSO != nil {
			return target{}, errors.New("give rolearn or sso, not both")
		}
		return roleTarget(e.ARN)
	case mapping.KindSSO:
		if e.SSO == nil {
			return target{}, errors.New("sso entry without a permission set")
		}
		if e.ARN != "" {
			return target{}, errors.New("give rolearn or sso, not both")
		}
		return ssoTarget(*e.SSO)
	case mapping.KindUser:
		return userTarget(e.ARN)
	case mapping.KindGroup:
		return groupTarget(e.ARN)
	case mapping.KindAccount:
		if !arn.IsAccountID(e.Account) {
			return target{}, fmt.Errorf("%q is not a 12-digit account ID", e.Account)
		}
		return target{kind: targetExact, key: e.Account, canon: e.Account}, nil
	}
	return target{}, fmt.Errorf("entry of unknown kind %d", e.Kind)
}

// roleTarget validates how a role entry names its roles.
func roleTarget(s string) (target, error) {
	if strings.Contains(s, "*") {
		return patternTarget("rolearn", s, arn.TypeRole)
	}
	key, err := roleKey(s)
	if err != nil {
		return target{}, err
	}
	canon, err := arn.Canonicalize(s)
	if err != nil { // unreachable after roleKey; fail closed anyway
		return target{}, fmt.Errorf("rolearn: %w", err)
	}
	return target{kind: targetExact, key: key, canon: canon}, nil
}

// userTarget validates a user entry's ARN.
func userTarget(s string) (target, error) {
	if strings.Contains(s, "*") {
		return patternTarget("userarn", s, arn.TypeUser)
	}
	key, err := userKey(s)
	if err != nil {
		return target{}, err
	}
	canon, err := arn.Canonicalize(s)
	if err != nil { // unreachable after userKey
		return target{}, fmt.Errorf("userarn: %w", err)
	}
	return target{kind: targetExact, key: key, canon: canon}, nil
}

// groupTarget validates a group entry's ARN.
func groupTarget(s string) (target, error) {
	key, canon, err := parseGroupARN(s)
	if err != nil {
		return target{}, fmt.Errorf("grouparn: %w", err)
	}
	return target{kind: targetExact, key: key, canon: canon}, nil
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

// parseGroupARN checks "arn:P:iam::A:group/[PATH/]NAME" (internal/arn does
// not know groups) and returns its key, "arn:p:iam::a:group/name" lower-cased
// without the path, and the ARN with its fixed words lower-cased.
func parseGroupARN(s string) (key, canon string, err error) {
	if s == "" {
		return "", "", errors.New("is empty")
	}
	if strings.Contains(s, "*") {
		return "", "", errors.New("wildcards are not allowed in group ARNs")
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 || !strings.EqualFold(parts[0], "arn") {
		return "", "", fmt.Errorf("%q is not an IAM group ARN", s)
	}
	typ, rest, ok := strings.Cut(parts[5], "/")
	if !ok || !strings.EqualFold(typ, "group") {
		return "", "", fmt.Errorf("%q is not an IAM group ARN", s)
	}
	// Let internal/arn check partition, service, region and account on the
	// same ARN as a role.
	if _, err := arn.Parse(parts[0] + ":" + parts[1] + ":" + parts[2] + ":" + parts[3] + ":" + parts[4] + ":role/x"); err != nil {
		return "", "", err
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		max := 64 // path segments share the name character rules
		if i == len(segs)-1 {
			max = 128 // IAM allows group names up to 128 characters
		}
		if err := checkIAMName(seg, max); err != nil {
			return "", "", err
		}
	}
	if len(rest)-len(segs[len(segs)-1]) > 512 {
		return "", "", errors.New("group path longer than 512 characters")
	}
	head := "arn:" + strings.ToLower(parts[1]) + ":iam::" + parts[4] + ":group/"
	return strings.ToLower(head + segs[len(segs)-1]), head + rest, nil
}

// checkIAMName accepts the characters IAM allows in names: letters, digits
// and +=,.@_- (1 to max of them).
func checkIAMName(s string, max int) error {
	if s == "" {
		return errors.New("empty name or path segment")
	}
	if len(s) > max {
		return fmt.Errorf("name or path segment longer than %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("+=,.@_-", c) >= 0) {
			return fmt.Errorf("character %q not allowed in a name", c)
		}
	}
	return nil
}
