package rules

import (
	"errors"
	"fmt"
	"strings"
)

// reservedPrefixes are the username and group prefixes Kubernetes, EKS and
// AWS give meaning to. A mapping may produce a name starting with one only
// in a known-safe form (safeReservedGroups, safeReservedUsernames) or when
// listed in Options.AllowReserved. Compared ignoring case, to refuse more.
var reservedPrefixes = []string{"system:", "eks:", "aws:", "amazon:", "iam:"}

// safeReservedGroups are the reserved groups EKS itself writes into aws-auth.
var safeReservedGroups = []string{
	"system:masters", "system:bootstrappers", "system:nodes", "system:node-proxier", "eks:kube-proxy-windows",
}

// safeReservedUsernames are the reserved usernames EKS itself writes: EC2
// nodes and (SessionName) Fargate pods.
var safeReservedUsernames = []string{
	"system:node:{{" + VarEC2PrivateDNSName + "}}",
	"system:node:{{" + VarSessionName + "}}",
}

// ErrReservedName is wrapped when a username or group uses a reserved
// prefix it may not.
var ErrReservedName = errors.New("reserved name")

// hasReservedPrefix reports whether s starts with a reserved prefix,
// ignoring case.
func hasReservedPrefix(s string) bool {
	return hasAnyPrefixFold(s, reservedPrefixes)
}

func hasAnyPrefixFold(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
			return true
		}
	}
	return false
}

// checkTemplatePlacement refuses a template before the first ":": whoever
// assumes a role picks its session name, so "{{SessionName}}:masters" with
// session "system" would become "system:masters". Variables never render a
// ":" (STS names exclude it), so text with no ":" cannot become reserved
// through a variable; the review-time check backs that up.
func checkTemplatePlacement(raw string) error {
	colon := strings.IndexByte(raw, ':')
	if colon >= 0 && strings.Contains(raw[:colon], "{{") {
		return fmt.Errorf("%q: a template before the first \":\" lets the caller choose the prefix; put literal text first", raw)
	}
	return nil
}

// reservedPolicy applies the reserved-name rules of one Table.
type reservedPolicy struct {
	allow map[string]bool // Options.AllowReserved, exact text
	extra []string        // Options.ReservedUsernamePrefixes
}

func newReservedPolicy(o Options) reservedPolicy {
	p := reservedPolicy{allow: map[string]bool{}}
	for _, a := range o.AllowReserved {
		p.allow[a] = true
	}
	for _, e := range o.ReservedUsernamePrefixes {
		if e != "" {
			p.extra = append(p.extra, e)
		}
	}
	return p
}

// exempt reports whether the template text raw may produce a reserved
// name: a known-safe form for its kind, or explicitly allowed.
func (p reservedPolicy) exempt(raw string, username bool) bool {
	if p.allow[raw] {
		return true
	}
	safe := safeReservedGroups
	if username {
		safe = safeReservedUsernames
	}
	for _, s := range safe {
		if raw == s {
			return true
		}
	}
	return false
}

// checkLoad checks the literal text of a username or group as written.
func (p reservedPolicy) checkLoad(field, raw string, username bool) error {
	if hasReservedPrefix(raw) && !p.exempt(raw, username) {
		return fmt.Errorf("%s %q: %w: names starting with %s are refused unless EKS writes them (%s) or they are allowlisted",
			field, raw, ErrReservedName, strings.Join(reservedPrefixes, " "), strings.Join(safeList(username), ", "))
	}
	if username {
		lit, _, _ := strings.Cut(raw, "{{")
		if hasAnyPrefixFold(lit, p.extra) {
			return fmt.Errorf("%s %q: %w: this backend reserves the prefixes %q", field, raw, ErrReservedName, p.extra)
		}
	}
	return nil
}

// checkRendered checks a rendered username or group: the caller chose parts
// of it (session name, access key), so the load-time check is not enough.
func (p reservedPolicy) checkRendered(field, rendered string, exempt, username bool) error {
	if hasReservedPrefix(rendered) && !exempt {
		return fmt.Errorf("%s %q: %w", field, rendered, ErrReservedName)
	}
	if username && hasAnyPrefixFold(rendered, p.extra) {
		return fmt.Errorf("%s %q: %w: this backend reserves the prefixes %q", field, rendered, ErrReservedName, p.extra)
	}
	return nil
}

func safeList(username bool) []string {
	if username {
		return safeReservedUsernames
	}
	return safeReservedGroups
}
